// How many processes processes.cypher selects, without paging (the orm count()).
// Parameters: as processes.cypher, without $order, $skip and $limit.
MATCH (h:JobHead)
WHERE h.jobid IN $jobids
WITH h.jobid AS jobid, h.version AS version
MATCH (p:Process)
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
RETURN count(p) AS n
