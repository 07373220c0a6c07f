// Copy the processes of one version of a job ($from) whose idx is in [$low, $high) into the
// new version $version (made by copy-job), each changed as $changes says for its uid:
// `props` set on it, and `slots` ([[list, slot, value, property], ...]) written into the list
// property that packs the field (`metrics`, ...), or, on a node written with the field as a
// property of its own, into that property. `created_at` is kept (absent: the copied
// version's). Returns how many were copied.
// Parameters: $jobid (string), $from (integer), $version (integer), $low (integer), $high
//   (integer), $changes (map: process uid -> {props: map, slots: list of
//   [list, slot, value, property]}).
MATCH (old:Job {jobid: $jobid, version: $from})
MATCH (j:Job {jobid: $jobid, version: $version})
MATCH (p:Process)-[:BELONGS_TO]->(old)
WHERE $low <= p.idx < $high
CREATE (q:Process)-[:BELONGS_TO]->(j)
SET q = p {.*, version: $version, created_at: coalesce(p.created_at, p.version)}
WITH p, q, $changes[p.uid] AS change
SET q += coalesce(change.props, {})
FOREACH (s IN coalesce(change.slots, []) |
  SET q[CASE WHEN q[s[0]] IS NULL THEN s[3] ELSE s[0] END] =
      CASE WHEN q[s[0]] IS NULL THEN s[2] ELSE q[s[0]][..s[1]] + [s[2]] + q[s[0]][s[1] + 1..] END)
RETURN count(q) AS copied
