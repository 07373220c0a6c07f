// The roots of jobs: processes without a parent, by job, then start time.
// Parameters: $jobids (list of job ids).
// Example (Browser): :param {jobids: ['685000']}
MATCH (p:Process)-[:BELONGS_TO]->(j:Job)
WHERE p.jobid IN $jobids AND NOT EXISTS { (:Process)-[:PARENT_OF]->(p) }
RETURN p {.*, threads_json: null, tz: j.tz, user: j.user, parent: null} AS p
ORDER BY p.start, p.pid
