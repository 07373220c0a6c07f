// A job's process count, number of roots (depth 0) and maximum depth.
// Parameters: $jobid (string).
MATCH (p:Process {jobid: $jobid})
USING INDEX SEEK p:Process(jobid)
RETURN count(p) AS processes,
       count(CASE WHEN p.depth = 0 THEN 1 END) AS roots,
       coalesce(max(p.depth), 0) AS maxDepth
