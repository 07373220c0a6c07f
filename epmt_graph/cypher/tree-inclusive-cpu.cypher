// Write `inclusive_cpu_time` (own cpu_time plus that of all descendants) onto every process
// of a job, walking PARENT_OF up one level at a time from the deepest level: each process
// adds its children's already-computed sums. O(processes). Needs `depth` (tree-depths).
// Parameters: $jobid (string), $version (integer: the version, see job-digest).
MATCH (p:Process {jobid: $jobid})
USING INDEX SEEK p:Process(jobid)
WHERE p.version = $version
WITH max(p.depth) AS maxDepth
UNWIND range(maxDepth, 0, -1) AS level
CALL (level) {
  MATCH (p:Process {jobid: $jobid, depth: level})
  USING INDEX SEEK p:Process(jobid, depth)
  WHERE p.version = $version
  SET p.inclusive_cpu_time = p.cpu_time
    + reduce(total = 0, sub IN [(p)-[:PARENT_OF]->(c) | c.inclusive_cpu_time] | total + sub)
  RETURN count(p) AS done
}
RETURN sum(done) AS processes, max(level) AS maxDepth
