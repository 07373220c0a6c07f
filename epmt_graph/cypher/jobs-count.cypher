// How many jobs jobs.cypher selects, without paging (the orm JobQuery's count()).
// Parameters: as jobs.cypher, without $order, $skip, $limit and $full.
CALL () {
  // an index seek per id given; a scan of every job only when $jobids is null
  UNWIND coalesce($jobids, []) AS id
  MATCH (h:JobHead {jobid: id})
  WITH h.jobid AS jobid, h.version AS version
  MATCH (j:Job {jobid: jobid, version: version})
  RETURN j
  UNION
  UNWIND CASE WHEN $jobids IS NULL THEN [true] ELSE [] END AS everyJob
  MATCH (h:JobHead)
  WITH h.jobid AS jobid, h.version AS version
  MATCH (j:Job {jobid: jobid, version: version})
  RETURN j
}
WITH j
WHERE ($within IS NULL OR j.jobid IN $within)
  AND all(prop IN $emptyJson WHERE coalesce(j[prop], '{}') = '{}')
  AND ($tags IS NULL OR any(t IN $tags WHERE
        CASE WHEN t.exact IS NULL THEN all(pair IN t.pairs WHERE pair IN j.tag_pairs)
             ELSE j.tags = t.exact END))
  AND any(conjunction IN $filter WHERE all(a IN conjunction WHERE
        CASE a.op
          WHEN '=' THEN j[a.f] = a.v
          WHEN '<>' THEN j[a.f] <> a.v
          WHEN '<' THEN j[a.f] < a.v
          WHEN '<=' THEN j[a.f] <= a.v
          WHEN '>' THEN j[a.f] > a.v
          WHEN '>=' THEN j[a.f] >= a.v
          WHEN 'in' THEN j[a.f] IN a.v
          WHEN 'not in' THEN NOT j[a.f] IN a.v
          WHEN 'is null' THEN j[a.f] IS NULL
          WHEN 'is not null' THEN j[a.f] IS NOT NULL
          WHEN 'like' THEN toStringOrNull(j[a.f]) =~ a.v
          WHEN 'not like' THEN NOT toStringOrNull(j[a.f]) =~ a.v
        END))
WITH j, coalesce(j.tz, 'UTC') AS zone, $window AS w
WHERE (w.whenStart IS NULL
       OR (j.start <= coalesce(w.whenEnd.instant, w.whenEnd.local[zone])
           AND j.end >= coalesce(w.whenStart.instant, w.whenStart.local[zone])))
  AND (w.before IS NULL OR j.end <= coalesce(w.before.instant, w.before.local[zone]))
  AND (w.after IS NULL OR j.start >= coalesce(w.after.instant, w.after.local[zone]))
  AND ($hosts IS NULL OR EXISTS {
        MATCH (p:Process {jobid: j.jobid})
        USING INDEX SEEK p:Process(jobid)
        WHERE p.version = j.version AND p.host IN $hosts
      })
RETURN count(j) AS n
