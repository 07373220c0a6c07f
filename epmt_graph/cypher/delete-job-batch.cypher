// Delete up to $batch processes (with their edges) of one version of a job, reached from its
// Job node; once none is left, the version's processes that lost their link to it (none
// unless written by hand), found through the jobid index; then the Job node. Run until
// `done`. The version is unpublished, so readers never see this. As lock-version, the Job
// node is write-locked first and $writer's lease renewed, so what is read is the latest
// commit: nothing is deleted unless the version is still $writer's (`held`; the writer rolls
// back if not). No row if the version is gone.
// Parameters: $jobid (string), $version (integer), $writer (string), $lease (integer, ms),
//   $batch (integer).
MATCH (j:Job {jobid: $jobid, version: $version})
SET j.lease_until = timestamp() + $lease
WITH j, coalesce(j.writer = $writer, false) AS held
CALL (j, held) {
  MATCH (p:Process)-[:BELONGS_TO]->(j)
  WHERE held
  WITH p LIMIT $batch
  DETACH DELETE p
  RETURN count(*) AS linked
}
CALL (held, linked) {
  UNWIND CASE WHEN held AND linked < $batch THEN [true] ELSE [] END AS sweep
  MATCH (p:Process {jobid: $jobid})
  USING INDEX SEEK p:Process(jobid)
  WHERE p.version = $version
  WITH p LIMIT $batch
  DETACH DELETE p
  RETURN count(*) AS strays
}
CALL (j, held, linked, strays) {
  WITH j WHERE held AND linked < $batch AND strays < $batch
  DETACH DELETE j
  RETURN count(*) AS gone
}
RETURN held, linked + strays AS deleted, gone = 1 AS done
