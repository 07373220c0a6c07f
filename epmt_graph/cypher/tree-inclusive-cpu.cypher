// Write `inclusive_cpu_time` (own cpu_time plus that of all descendants) onto every process
// of a job, walking PARENT_OF up one level at a time from the deepest level: each process
// adds its children's already-computed sums. O(processes). Needs `depth` (tree-depths).
// Levels $deepest down to $shallowest are walked (null: the job's deepest level, and 0);
// a caller splitting the walk over transactions goes from the deepest level up.
// Parameters: $jobid (string), $version (integer: the version, see job-digest),
//   $deepest (integer or null), $shallowest (integer or null).
// Example (Browser): :param {jobid: '685000', version: 0, deepest: null, shallowest: null}
CALL () {
  MATCH (p:Process)
  USING INDEX SEEK p:Process(jobid, depth)
  WHERE p.jobid = $jobid AND p.depth IS NOT NULL AND p.version = $version
  RETURN p.depth AS maxDepth ORDER BY p.jobid DESC, p.depth DESC LIMIT 1
}
UNWIND range(coalesce($deepest, maxDepth), coalesce($shallowest, 0), -1) AS level
CALL (level) {
  MATCH (p:Process {jobid: $jobid, depth: level})
  USING INDEX SEEK p:Process(jobid, depth)
  WHERE p.version = $version
  SET p.inclusive_cpu_time = p.cpu_time
    + reduce(total = 0, sub IN [(p)-[:PARENT_OF]->(c) | c.inclusive_cpu_time] | total + sub)
  RETURN count(p) AS done
}
RETURN sum(done) AS processes, max(level) AS maxDepth
