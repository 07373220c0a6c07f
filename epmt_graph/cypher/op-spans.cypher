// An operation's extent, job by job: the processes of the jobs carrying any of the tags,
// counted, with their first start, last end and summed duration (Operation's start, finish
// and duration), and optionally every [start, end] (its intervals).
// Parameters:
//   $jobids  list of job ids
//   $tags    null (every process), or a list of tags {pairs, exact} as in processes.cypher
//   $spans   boolean: also return [start, end] of every process
// Example (Browser): :param {jobids: ['685000'], tags: [{pairs: ['op:timavg'], exact: null}], spans: true}
MATCH (h:JobHead)
WHERE h.jobid IN $jobids
WITH h.jobid AS jobid, h.version AS version
MATCH (p:Process)
USING INDEX SEEK p:Process(jobid)
WHERE p.jobid = jobid AND p.version = version
  AND ($tags IS NULL OR any(t IN $tags WHERE
        CASE WHEN t.exact IS NULL THEN all(pair IN t.pairs WHERE pair IN p.tag_pairs)
             ELSE p.tags = t.exact END))
WITH p.jobid AS jobid, count(p) AS num_procs, min(p.start) AS start, max(p.end) AS end,
     sum(p.duration) AS duration, collect(CASE WHEN $spans THEN [p.start, p.end] END) AS spans
RETURN jobid, num_procs, start, end, duration, spans
ORDER BY jobid
