// The subtrees tree_diff compares, per job. A subtree starts at each process whose tags differ
// from its parent's (or that has no parent) and holds it and the processes below reached
// through parents of the same tags: an operation's processes, or an untagged stretch. The
// subtrees partition a job. Those with the same tags and the same exename path from the
// job's root down to the subtree's root form one row: how many subtrees, their processes
// and summed cpu_time. O(processes + subtree roots x depth).
// Parameters: $jobids (list of job ids).
// Example (Browser): :param {jobids: ['685000', '685016']}
MATCH (h:JobHead)
WHERE h.jobid IN $jobids
WITH h.jobid AS jobid, h.version AS version
MATCH (top:Process)
USING INDEX SEEK top:Process(jobid)
WHERE top.jobid = jobid AND top.version = version
  AND NOT EXISTS { MATCH (parent:Process)-[:PARENT_OF]->(top) WHERE parent.tags = top.tags }
CALL (top) {
  MATCH (top) ((a:Process)-[:PARENT_OF]->(b:Process) WHERE b.tags = a.tags)* (p:Process)
  RETURN count(p) AS processes, sum(p.cpu_time) AS cpu_time
}
MATCH up = (root:Process)-[:PARENT_OF]->*(top)
WHERE NOT EXISTS { (:Process)-[:PARENT_OF]->(root) }
RETURN top.jobid AS jobid, top.tags AS tag, [n IN nodes(up) | n.exename] AS path,
       count(top) AS subtrees, sum(processes) AS processes, sum(cpu_time) AS cpu_time
ORDER BY jobid, tag, path
