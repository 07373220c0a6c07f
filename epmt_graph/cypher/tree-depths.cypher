// Write `depth` onto the processes of a job, walking PARENT_OF down one level at a time:
// roots (processes without a parent) get 0, their children 1, and so on. Each level is one
// index seek on (jobid, depth), so the whole job costs O(processes), even for deep chains.
// Levels $fromLevel..$toLevel are walked; with $fromLevel = 0 the roots are set first.
// Returns how many processes sit at $toLevel: 0 means the walk is complete.
// Parameters: $jobid (string), $version (integer: the version, see job-digest),
//   $fromLevel (integer >= 0), $toLevel (integer >= $fromLevel).
CALL () {
  WITH $fromLevel = 0 AS first
  WHERE first
  MATCH (root:Process {jobid: $jobid})
  USING INDEX SEEK root:Process(jobid)
  WHERE root.version = $version AND NOT EXISTS { (:Process)-[:PARENT_OF]->(root) }
  SET root.depth = 0
  RETURN count(root) AS roots
}
UNWIND range(CASE WHEN $fromLevel = 0 THEN 1 ELSE $fromLevel END, $toLevel) AS level
CALL (level) {
  MATCH (up:Process {jobid: $jobid, depth: level - 1})-[:PARENT_OF]->(child:Process)
  USING INDEX SEEK up:Process(jobid, depth)
  WHERE up.version = $version
  SET child.depth = level
  RETURN count(child) AS reached
}
WITH level, reached ORDER BY level DESC LIMIT 1
RETURN reached AS frontier
