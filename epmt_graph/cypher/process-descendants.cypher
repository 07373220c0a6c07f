// Every process below a process (children, their children, ...), by start time.
// Each step of the walk names the parent, so no per-row lookup is needed.
// Parameters: $uid (process id, "jobid:idx").
// Example (Browser): :param {uid: '685000:0'}
MATCH (top:Process {uid: $uid})-[:BELONGS_TO]->(j:Job)
USING INDEX SEEK top:Process(uid)
WHERE EXISTS { (:JobHead {jobid: top.jobid, version: top.version}) }
MATCH (top)-[:PARENT_OF]->*(parent:Process)-[:PARENT_OF]->(p:Process)
RETURN p {.*, threads_json: null, tz: j.tz, user: j.user, parent: parent.uid} AS p
ORDER BY p.start, p.pid
