// The ancestors of a process, from its root down to its parent.
// Parameters: $uid (process id, "jobid:idx").
MATCH (target:Process {uid: $uid})
USING INDEX SEEK target:Process(uid)
WHERE EXISTS { (:JobHead {jobid: target.jobid, version: target.version}) }
MATCH path = (p:Process)-[:PARENT_OF]->+(target)
MATCH (p)-[:BELONGS_TO]->(j:Job)
RETURN p {.*, threads_json: null, tz: j.tz, user: j.user,
          parent: coalesce(p.parent,
                           head([(q:Process)-[:PARENT_OF]->(p) | q.uid]))} AS p
ORDER BY length(path) DESC
