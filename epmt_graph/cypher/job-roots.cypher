// The roots of jobs: processes without a parent, by start time. They are found through the
// (jobid, depth) index at depth 0 (every load writes depth in its transaction), and checked
// against the definition: no PARENT_OF edge comes in.
// Parameters: $jobids (list of job ids).
// Example (Browser): :param {jobids: ['685000']}
MATCH (h:JobHead)
WHERE h.jobid IN $jobids
WITH h.jobid AS jobid, h.version AS version
MATCH (p:Process)-[:BELONGS_TO]->(j:Job)
USING INDEX SEEK p:Process(jobid, depth)
WHERE p.jobid = jobid AND p.depth = 0 AND p.version = version
  AND NOT EXISTS { (:Process)-[:PARENT_OF]->(p) }
RETURN p {.*, threads_json: null, tz: j.tz, user: j.user, parent: null} AS p
ORDER BY p.start, p.pid
