// The subtree of a process as a graph: the process, its descendants and the PARENT_OF edges
// between them. In the Browser this draws the tree.
// Parameters: $uid (process id, "jobid:idx").
MATCH (top:Process {uid: $uid})
USING INDEX SEEK top:Process(uid)
WHERE EXISTS { (:JobHead {jobid: top.jobid, version: top.version}) }
MATCH path = (top)-[:PARENT_OF]->*(:Process)
RETURN path
