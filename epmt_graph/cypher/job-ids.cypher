// Every loaded job id.
// Parameters: none.
MATCH (h:JobHead)
WITH h.jobid AS jobid, h.version AS version
MATCH (j:Job {jobid: jobid, version: version})
RETURN j.jobid AS jobid
ORDER BY j.start, j.jobid
