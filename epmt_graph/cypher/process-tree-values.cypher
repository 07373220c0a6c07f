// Depth and inclusive CPU time of one process, computed on the fly from PARENT_OF:
// depth = number of ancestors; inclusive = own cpu_time plus every descendant's.
// Parameters: $uid (process id, "jobid:idx").
MATCH (p:Process {uid: $uid})
USING INDEX SEEK p:Process(uid)
WHERE EXISTS { (:JobHead {jobid: p.jobid, version: p.version}) }
OPTIONAL MATCH (p)-[:PARENT_OF]->+(d:Process)
WITH p, sum(d.cpu_time) AS below
RETURN COUNT { (:Process)-[:PARENT_OF]->+(p) } AS depth, p.cpu_time + below AS inclusive_cpu_time
