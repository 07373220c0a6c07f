// One reference model by id, with the ids of the jobs it was built from (no row if none).
// Parameters: $model (integer).
MATCH (r:RefModel {id: $model})
CALL (r) {
  OPTIONAL MATCH (r)-[:BUILT_FROM]->(h:JobHead)
  WITH h.jobid AS jobid ORDER BY jobid
  RETURN collect(jobid) AS jobs
}
RETURN r {.*} AS r, jobs
