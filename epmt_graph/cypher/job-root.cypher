// The root process of a job as EPMT defines it: its earliest process by start time.
// Parameters: $jobid (job id).
// Example (Browser): :param {jobid: '685000'}
MATCH (p:Process {jobid: $jobid})
WITH p ORDER BY p.start, p.pid LIMIT 1
MATCH (p)-[:BELONGS_TO]->(j:Job)
RETURN p {.*, threads_json: null, tz: j.tz, user: j.user,
          parent: head([(q:Process)-[:PARENT_OF]->(p) | q.uid])} AS p
