// Every process below a process (children, their children, ...), by start time.
// Parameters: $uid (process id, "jobid:idx").
MATCH (:Process {uid: $uid})-[:PARENT_OF]->+(p:Process)
MATCH (p)-[:BELONGS_TO]->(j:Job)
RETURN p {.*, threads_json: null, tz: j.tz, user: j.user,
          parent: head([(q:Process)-[:PARENT_OF]->(p) | q.uid])} AS p
ORDER BY p.start, p.pid
