// The children of a process, by start time.
// Parameters: $uid (process id, "jobid:idx").
MATCH (parent:Process {uid: $uid})-[:PARENT_OF]->(p:Process)-[:BELONGS_TO]->(j:Job)
USING INDEX SEEK parent:Process(uid)
WHERE EXISTS { (:JobHead {jobid: parent.jobid, version: parent.version}) }
RETURN p {.*, threads_json: null, tz: j.tz, user: j.user, parent: parent.uid} AS p
ORDER BY p.start, p.pid
