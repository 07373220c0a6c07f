// The root process of a job as EPMT defines it: its earliest process by start time
// (ties: lowest pid). The first start comes from the (jobid, start) index in order.
// Parameters: $jobid (job id).
// Example (Browser): :param {jobid: '685000'}
MATCH (h:JobHead {jobid: $jobid})
WITH h.jobid AS jobid, h.version AS version
CALL (jobid, version) {
  MATCH (first:Process {jobid: jobid})
  USING INDEX SEEK first:Process(jobid, start)
  WHERE first.start IS NOT NULL AND first.version = version
  RETURN first.start AS start ORDER BY first.jobid, first.start LIMIT 1
}
MATCH (p:Process {jobid: jobid, start: start})
USING INDEX SEEK p:Process(jobid, start)
WHERE p.version = version
WITH p ORDER BY p.pid LIMIT 1
MATCH (p)-[:BELONGS_TO]->(j:Job)
RETURN p {.*, threads_json: null, tz: j.tz, user: j.user,
          parent: coalesce(p.parent,
                           head([(q:Process)-[:PARENT_OF]->(p) | q.uid]))} AS p
