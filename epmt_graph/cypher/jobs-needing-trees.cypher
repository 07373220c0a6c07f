// Which of the given jobs have processes without depth or inclusive CPU time.
// Parameters: $jobids (list of job ids).
MATCH (p:Process)
USING INDEX SEEK p:Process(jobid)
WHERE p.jobid IN $jobids AND (p.depth IS NULL OR p.inclusive_cpu_time IS NULL)
RETURN DISTINCT p.jobid AS jobid
