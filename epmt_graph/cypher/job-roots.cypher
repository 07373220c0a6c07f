// The roots of jobs: processes that have no parent, ordered by start time (then pid).
// Parameters: $jobids (list of strings).
MATCH (p:Process)
WHERE p.jobid IN $jobids AND NOT EXISTS { (:Process)-[:PARENT_OF]->(p) }
RETURN p
ORDER BY p.start, p.pid
