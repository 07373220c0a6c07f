// The critical path of a job: from its root (the root with the largest inclusive CPU time if
// it has several) down to a leaf, each step the child with the largest inclusive CPU time
// (ties: earliest start, then lowest pid). `share` is a step's inclusive CPU time over the
// previous step's (1.0 for the root), `share_of_root` over the root's (null over 0).
// One level per step, bounded by the job's deepest level (one seek on the (jobid, depth)
// index): O(path length x fan-out). Needs the stored tree values (`depth`, inclusive CPU).
// Parameters: $jobid (job id).
// Example (Browser): :param {jobid: '685000'}
MATCH (h:JobHead {jobid: $jobid})
WITH h.jobid AS jobid, h.version AS version
MATCH (root:Process {jobid: jobid, depth: 0})-[:BELONGS_TO]->(j:Job)
USING INDEX SEEK root:Process(jobid, depth)
WHERE root.version = version
WITH jobid, version, root, j ORDER BY root.inclusive_cpu_time DESC, root.start, root.pid LIMIT 1
CALL (jobid, version) {
  MATCH (p:Process)
  USING INDEX SEEK p:Process(jobid, depth)
  WHERE p.jobid = jobid AND p.depth IS NOT NULL AND p.version = version
  RETURN p.depth AS maxDepth ORDER BY p.jobid DESC, p.depth DESC LIMIT 1
}
WITH root, j, reduce(path = [root], level IN range(1, maxDepth) |
  path + [tip IN [last(path)] | COLLECT {
    MATCH (tip)-[:PARENT_OF]->(child:Process)
    RETURN child ORDER BY child.inclusive_cpu_time DESC, child.start, child.pid LIMIT 1
  }][0]) AS path
UNWIND range(0, size(path) - 1) AS step
WITH root, j, step, path[step] AS p, CASE step WHEN 0 THEN null ELSE path[step - 1] END AS up
RETURN p {.*, threads_json: null, tz: j.tz, user: j.user, parent: up.uid} AS p,
       step,
       CASE
         WHEN up IS NULL THEN 1.0
         WHEN up.inclusive_cpu_time = 0 THEN null
         ELSE toFloat(p.inclusive_cpu_time) / up.inclusive_cpu_time
       END AS share,
       CASE
         WHEN up IS NULL THEN 1.0
         WHEN root.inclusive_cpu_time = 0 THEN null
         ELSE toFloat(p.inclusive_cpu_time) / root.inclusive_cpu_time
       END AS share_of_root
ORDER BY step
