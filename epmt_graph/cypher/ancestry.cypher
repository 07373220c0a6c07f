// The ancestry of a process, "who started this?": the path from its root down to the process
// itself, root first, each with its depth on that path. O(depth).
// Parameters: $uid (process id, "jobid:idx").
// Example (Browser): :param {uid: '685000:100'}
MATCH (target:Process {uid: $uid})-[:BELONGS_TO]->(j:Job)
USING INDEX SEEK target:Process(uid)
WHERE EXISTS { (:JobHead {jobid: target.jobid, version: target.version}) }
MATCH up = (root:Process)-[:PARENT_OF]->*(target)
WHERE NOT EXISTS { (:Process)-[:PARENT_OF]->(root) }
WITH j, nodes(up) AS chain
UNWIND range(0, size(chain) - 1) AS depth
WITH j, depth, chain[depth] AS p, CASE depth WHEN 0 THEN null ELSE chain[depth - 1] END AS up
RETURN p {.*, threads_json: null, tz: j.tz, user: j.user, depth: depth, parent: up.uid} AS p
ORDER BY depth
