// Change a reference model: whether it is enabled and its info (JSON); a null keeps the
// value. Records when (updated). Returns the model's id (no row if there is no such model).
// Parameters: $model (integer), $enabled (boolean or null), $info_json (string or null),
//   $updated (microseconds since the epoch).
MATCH (r:RefModel {id: $model})
SET r.enabled = coalesce($enabled, r.enabled),
    r.info_json = coalesce($info_json, r.info_json),
    r.updated = $updated
RETURN r.id AS id
