// The processes of several operations at once, each with the indexes of the operations
// (tags) it belongs to: get_ops(full=True) lists every operation's processes this way.
// Ordered by start time (then job, pid), as get_procs.
// Parameters:
//   $jobids  list of job ids
//   $tags    list of tags {pairs, exact} as in processes.cypher; `ops` indexes this list
// Example (Browser): :param {jobids: ['685000'], tags: [{pairs: ['op:timavg'], exact: null}, {pairs: ['op:ncks'], exact: null}]}
MATCH (h:JobHead)
WHERE h.jobid IN $jobids
WITH h.jobid AS jobid, h.version AS version
MATCH (p:Process)-[:BELONGS_TO]->(j:Job)
USING INDEX SEEK p:Process(jobid)
WHERE p.jobid = jobid AND p.version = version
WITH p, j, [op IN range(0, size($tags) - 1) WHERE
            CASE WHEN $tags[op].exact IS NULL
                 THEN all(pair IN $tags[op].pairs WHERE pair IN p.tag_pairs)
                 ELSE p.tags = $tags[op].exact END] AS ops
WHERE size(ops) > 0
RETURN p {.*, threads_json: null, tz: j.tz, user: j.user,
          parent: coalesce(p.parent,
                           head([(q:Process)-[:PARENT_OF]->(p) | q.uid]))} AS p, ops
ORDER BY p.start, p.jobid, p.pid
