// The subtree of a process as a graph: the process, its descendants and the PARENT_OF edges
// between them. In the Browser this draws the tree.
// Parameters: $uid (process id, "jobid:idx").
MATCH path = (top:Process {uid: $uid})-[:PARENT_OF]->*(:Process)
USING INDEX SEEK top:Process(uid)
RETURN path
