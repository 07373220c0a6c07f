// Reference models, by id, with the ids of the jobs each was built from (sorted).
// Parameters:
//   $model_name  null, or the model's name
//   $tags    null, or {pairs: ["k:v", ...], exact: null | "k:v;..."}: a model matches when
//            it has all the pairs (or, with exact, exactly that canonical tag string)
//   $before, $after  null, or microseconds since the epoch: created at or before / after
//   $limit   the most models returned (no limit: a large number)
// Example (Browser): :param {model_name: null, tags: {pairs: ['model_name:test_model'], exact: null}, before: null, after: null, limit: 100}
MATCH (r:RefModel)
WHERE ($model_name IS NULL OR r.name = $model_name)
  AND ($tags IS NULL OR CASE WHEN $tags.exact IS NULL
                             THEN all(pair IN $tags.pairs WHERE pair IN r.tag_pairs)
                             ELSE r.tags = $tags.exact END)
  AND ($before IS NULL OR r.created <= $before)
  AND ($after IS NULL OR r.created >= $after)
WITH r
ORDER BY r.id
LIMIT $limit
CALL (r) {
  OPTIONAL MATCH (r)-[:BUILT_FROM]->(h:JobHead)
  WITH h.jobid AS jobid ORDER BY jobid
  RETURN collect(jobid) AS jobs
}
RETURN r {.*} AS r, jobs
