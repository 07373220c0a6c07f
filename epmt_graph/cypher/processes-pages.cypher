// Processes of jobs as processes.cypher selects, orders and pages them (the engine behind
// get_procs), in pages: each row holds up to $pageSize processes in that order, each with
// its fields, or only its uid. The API reads this one: a record per page costs the driver
// far less than one per process.
// Parameters: as processes.cypher, and $pageSize (processes per row, at least 1),
// $full (true: every field, as processes.cypher; false: only the uid).
// Example (Browser): :param {jobids: ['685000'], tags: null, filter: [[{f: 'duration', l: null, i: null, op: '>', v: 1000000}]], when: null, hosts: null, order: [{f: 'duration', l: null, i: null, desc: true}], skip: 0, limit: 10, pageSize: 4, full: true}
MATCH (h:JobHead)
WHERE h.jobid IN $jobids
WITH h.jobid AS jobid, h.version AS version
MATCH (p:Process)-[:BELONGS_TO]->(j:Job)
USING INDEX SEEK p:Process(jobid)
WHERE p.jobid = jobid AND p.version = version
  AND ($hosts IS NULL OR p.host IN $hosts)
  AND ($when IS NULL OR (p.start <= $when[p.jobid].end AND p.end >= $when[p.jobid].start))
  AND ($tags IS NULL OR any(t IN $tags WHERE
        CASE WHEN t.exact IS NULL THEN all(pair IN t.pairs WHERE pair IN p.tag_pairs)
             ELSE p.tags = t.exact END))
  AND any(conjunction IN $filter WHERE all(a IN conjunction WHERE
        any(v IN [coalesce(p[a.f], p[a.l][a.i])] WHERE CASE a.op
          WHEN '=' THEN v = a.v
          WHEN '<>' THEN v <> a.v
          WHEN '<' THEN v < a.v
          WHEN '<=' THEN v <= a.v
          WHEN '>' THEN v > a.v
          WHEN '>=' THEN v >= a.v
          WHEN 'in' THEN v IN a.v
          WHEN 'not in' THEN NOT v IN a.v
          WHEN 'is null' THEN v IS NULL
          WHEN 'is not null' THEN v IS NOT NULL
          WHEN 'like' THEN toStringOrNull(v) =~ a.v
          WHEN 'not like' THEN NOT toStringOrNull(v) =~ a.v
        END)))
WITH p, j
ORDER BY
  CASE WHEN $order[0].desc THEN coalesce(p[$order[0].f], p[$order[0].l][$order[0].i]) END DESC,
  CASE WHEN NOT $order[0].desc THEN coalesce(p[$order[0].f], p[$order[0].l][$order[0].i]) END,
  CASE WHEN $order[1].desc THEN coalesce(p[$order[1].f], p[$order[1].l][$order[1].i]) END DESC,
  CASE WHEN NOT $order[1].desc THEN coalesce(p[$order[1].f], p[$order[1].l][$order[1].i]) END,
  CASE WHEN $order[2].desc THEN coalesce(p[$order[2].f], p[$order[2].l][$order[2].i]) END DESC,
  CASE WHEN NOT $order[2].desc THEN coalesce(p[$order[2].f], p[$order[2].l][$order[2].i]) END,
  p.jobid, p.start, p.pid
SKIP $skip
LIMIT $limit
WITH collect(p) AS ps, collect(j) AS js
UNWIND range(0, size(ps) - 1, $pageSize) AS first
RETURN [k IN range(first, first + $pageSize - 1) WHERE k < size(ps) |
        CASE WHEN $full
             THEN head([p IN [ps[k]] | p {.*, threads_json: null, tz: js[k].tz, user: js[k].user,
                                         parent: coalesce(p.parent,
                                                          head([(q:Process)-[:PARENT_OF]->(p) | q.uid]))}])
             ELSE {uid: ps[k].uid} END
       ] AS processes
