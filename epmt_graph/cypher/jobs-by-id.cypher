// Jobs by id, in the order of start time.
// Parameters: $jobids (list of job ids).
MATCH (h:JobHead)
WHERE h.jobid IN $jobids
WITH h.jobid AS jobid, h.version AS version
MATCH (j:Job {jobid: jobid, version: version})
RETURN j {.*} AS j
ORDER BY j.start, j.jobid
