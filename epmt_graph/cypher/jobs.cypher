// Jobs, filtered, ordered and paged: the engine behind get_jobs and the orm JobQuery.
// Parameters:
//   $jobids     null (every job) or a list of job ids
//   $tags       null, or a list of alternatives {pairs: ["k:v", ...], exact: null | "k:v;..."}:
//               a job matches one when it has all its pairs (or, with exact, exactly that
//               canonical tag string; "" selects untagged jobs)
//   $filter     list of conjunctions of {f: property, op, v} atoms (ops as in processes.cypher);
//               [[]] selects everything
//   $window     {whenStart, whenEnd, before, after}, each null or a time {instant, local}:
//               instant is microseconds since the epoch, or null and then local maps each
//               zone name to what the wall-clock time means there. A job matches when
//               start <= whenEnd, end >= whenStart, end <= before and start >= after,
//               wall-clock times read in the job's zone
//   $hosts      null, or a list of host names: some process of the job ran on one of them
//   $emptyJson  list of JSON properties that must hold {} (e.g. ["analyses_json"])
//   $within     null, or the job ids that the annotation/analyses filters admitted
//   $order      list of up to three {f: property, desc: boolean} (ties: start, jobid)
//   $skip, $limit  integers
//   $full       true: whole Job nodes; false: jobid, tags, start and the outlier features
// Example (Browser): :param {jobids: ['685000', '685003', '685016'], tags: null, filter: [[]], window: {whenStart: null, whenEnd: null, before: null, after: null}, hosts: null, emptyJson: [], within: null, order: [{f: 'start', desc: true}], skip: 1, limit: 2, full: false}
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
WITH j
ORDER BY
  CASE WHEN $order[0].desc THEN j[$order[0].f] END DESC,
  CASE WHEN NOT $order[0].desc THEN j[$order[0].f] END,
  CASE WHEN $order[1].desc THEN j[$order[1].f] END DESC,
  CASE WHEN NOT $order[1].desc THEN j[$order[1].f] END,
  CASE WHEN $order[2].desc THEN j[$order[2].f] END DESC,
  CASE WHEN NOT $order[2].desc THEN j[$order[2].f] END,
  j.start, j.jobid
SKIP $skip
LIMIT $limit
RETURN CASE WHEN $full THEN j {.*}
            ELSE j {.jobid, .tag_pairs, .start, .duration, .cpu_time, .num_procs} END AS j
