// Which of the given jobs have processes without depth or inclusive CPU time.
// Parameters: $jobids (list of job ids).
MATCH (h:JobHead)
WHERE h.jobid IN $jobids
WITH h.jobid AS jobid, h.version AS version
MATCH (p:Process)
USING INDEX SEEK p:Process(jobid)
WHERE p.jobid = jobid AND p.version = version AND (p.depth IS NULL OR p.inclusive_cpu_time IS NULL)
RETURN DISTINCT p.jobid AS jobid
