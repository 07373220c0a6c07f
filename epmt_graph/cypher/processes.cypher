// Processes of jobs, filtered, ordered and paged, one row each (get_procs reads the same
// selection in pages of rows: processes-pages.cypher).
// Parameters:
//   $jobids  list of job ids (required; the API passes every job id for "all jobs")
//   $tags    null, or a list of alternatives {pairs: ["k:v", ...], exact: null | "k:v;k2:v2"}:
//            a process matches one alternative when it has all its pairs (or, with exact,
//            exactly that canonical tag string; "" selects untagged processes)
//   $filter  list of conjunctions of {f: property, l: list, i: slot, op: "=" "<>" "<" "<="
//            ">" ">=" "in" "not in" "is null" "is not null" "like" "not like", v: value (for
//            like, a regular expression matching the whole text)}; [[]] selects everything.
//            A field the node keeps packed in a list property (the metrics in `metrics`, in
//            the order of (:Job).metric_names: epmt_graph/schema/fields.py PROCESS_PACKED) is
//            also named by that list, l, and its slot there, i (null otherwise); a node
//            written with the field as a property of its own is read by f
//   $when    null, or a map jobid -> {start, end} in microseconds: processes running at
//            some time in [start, end] (start = end for an instant)
//   $hosts   null, or a list of host names
//   $order   list of up to three {f: property, l: list, i: slot, desc: boolean} (ties:
//            jobid, start, pid; l and i as in $filter)
//   $skip, $limit  integers
// Example (Browser): :param {jobids: ['685000'], tags: null, filter: [[{f: 'duration', l: null, i: null, op: '>', v: 1000000}, {f: 'args', l: null, i: null, op: 'like', v: '.*nc.*'}]], when: null, hosts: null, order: [{f: 'rchar', l: 'metrics', i: 12, desc: true}], skip: 0, limit: 10}
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
RETURN p {.*, threads_json: null, tz: j.tz, user: j.user,
          parent: coalesce(p.parent,
                           head([(q:Process)-[:PARENT_OF]->(p) | q.uid]))} AS p
