// The parent of a process (no row for a root).
// Parameters: $uid (process id, "jobid:idx").
MATCH (child:Process {uid: $uid})
USING INDEX SEEK child:Process(uid)
WHERE EXISTS { (:JobHead {jobid: child.jobid, version: child.version}) }
MATCH (p:Process)-[:PARENT_OF]->(child)
MATCH (p)-[:BELONGS_TO]->(j:Job)
RETURN p {.*, threads_json: null, tz: j.tz, user: j.user,
          parent: coalesce(p.parent,
                           head([(q:Process)-[:PARENT_OF]->(p) | q.uid]))} AS p
