// The id of the reference model with a given name (no row if none).
// Parameters: $name (string).
MATCH (r:RefModel {name: $name})
RETURN r.id AS id
