// Every loaded job id.
// Parameters: none.
MATCH (j:Job)
RETURN j.jobid AS jobid
ORDER BY j.start, j.jobid
