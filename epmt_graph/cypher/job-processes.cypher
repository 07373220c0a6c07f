// Every process of one job, with every stored property (`threads_json` included) and the
// job's zone and user as `tz` and `user`, by idx: the processes verify_jobs checks (no rows
// if the job is not loaded).
// Parameters: $jobid (string).
// Example (Browser): :param {jobid: '685000'}
MATCH (h:JobHead {jobid: $jobid})
WITH h.jobid AS jobid, h.version AS version
MATCH (j:Job {jobid: jobid, version: version})<-[:BELONGS_TO]-(p:Process)
RETURN p {.*, tz: j.tz, user: j.user} AS p
ORDER BY p.idx
