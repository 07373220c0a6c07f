// Jobs by id, in the order of start time.
// Parameters: $jobids (list of job ids).
MATCH (j:Job)
WHERE j.jobid IN $jobids
RETURN j {.*} AS j
ORDER BY j.start, j.jobid
