// A job's process count, number of roots (depth 0) and maximum depth.
// Parameters: $jobid (string).
MATCH (h:JobHead {jobid: $jobid})
WITH h.jobid AS jobid, h.version AS version
MATCH (p:Process {jobid: jobid})
USING INDEX SEEK p:Process(jobid)
WHERE p.version = version
RETURN count(p) AS processes,
       count(CASE WHEN p.depth = 0 THEN 1 END) AS roots,
       coalesce(max(p.depth), 0) AS maxDepth
