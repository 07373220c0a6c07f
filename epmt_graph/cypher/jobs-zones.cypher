// The time zones of the loaded jobs (for reading wall-clock times in each job's zone).
// Parameters: none.
MATCH (h:JobHead)
WITH h.jobid AS jobid, h.version AS version
MATCH (j:Job {jobid: jobid, version: version})
RETURN DISTINCT coalesce(j.tz, 'UTC') AS zone
