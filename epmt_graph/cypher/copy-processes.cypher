// Copy the processes of one version of a job ($from) whose idx is in [$low, $high) into the
// new version $version (made by copy-job), each changed as $changes says for its uid:
// `props` set on it, and `slots` ([[slot, value], ...]) written into its `metrics` list.
// `created_at` is kept (absent: the copied version's). Returns how many were copied.
// Parameters: $jobid (string), $from (integer), $version (integer), $low (integer), $high
//   (integer), $changes (map: process uid -> {props: map, slots: list of [slot, value]}).
MATCH (old:Job {jobid: $jobid, version: $from})
MATCH (j:Job {jobid: $jobid, version: $version})
MATCH (p:Process)-[:BELONGS_TO]->(old)
WHERE $low <= p.idx < $high
CREATE (q:Process)-[:BELONGS_TO]->(j)
SET q = p {.*, version: $version, created_at: coalesce(p.created_at, p.version)}
WITH p, q, $changes[p.uid] AS change
SET q += coalesce(change.props, {})
SET q.metrics = reduce(m = q.metrics, s IN coalesce(change.slots, []) |
      m[..s[0]] + [s[1]] + m[s[0] + 1..])
RETURN count(q) AS copied
