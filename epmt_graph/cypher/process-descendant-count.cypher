// How many processes are below a process (without fetching them).
// Parameters: $uid (process id, "jobid:idx").
// Example (Browser): :param {uid: '685000:0'}
MATCH (top:Process {uid: $uid})
USING INDEX SEEK top:Process(uid)
WHERE EXISTS { (:JobHead {jobid: top.jobid, version: top.version}) }
RETURN COUNT { (top)-[:PARENT_OF]->+(:Process) } AS n
