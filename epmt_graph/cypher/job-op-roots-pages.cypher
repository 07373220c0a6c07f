// Operation roots as job-op-roots.cypher answers them, in pages: each row holds up to
// $pageSize of them in that order (job, then start), with its fields, or only its uid. The
// API reads this one: a record per page costs the driver far less than one per process.
// Parameters: as job-op-roots.cypher, and $pageSize (processes per row, at least 1),
// $full (true: every field, as job-op-roots.cypher; false: only the uid).
// Example (Browser): :param {jobids: ['685000'], pairs: ['op:hsmget'], pageSize: 100, full: true}
MATCH (h:JobHead)
WHERE h.jobid IN $jobids
WITH h.jobid AS jobid, h.version AS version
MATCH (p:Process)-[:BELONGS_TO]->(j:Job)
USING INDEX SEEK p:Process(jobid)
WHERE p.jobid = jobid AND p.version = version
  AND all(pair IN $pairs WHERE pair IN p.tag_pairs)
  AND NOT EXISTS {
    MATCH (parent:Process)-[:PARENT_OF]->(p)
    WHERE all(pair IN $pairs WHERE pair IN parent.tag_pairs)
  }
WITH p, j
ORDER BY p.jobid, p.start, p.pid
WITH collect(p) AS ps, collect(j) AS js
UNWIND range(0, size(ps) - 1, $pageSize) AS first
RETURN [k IN range(first, first + $pageSize - 1) WHERE k < size(ps) |
        CASE WHEN $full
             THEN head([p IN [ps[k]] | p {.*, threads_json: null, tz: js[k].tz, user: js[k].user,
                                         parent: coalesce(p.parent,
                                                          head([(q:Process)-[:PARENT_OF]->(p) | q.uid]))}])
             ELSE {uid: ps[k].uid} END
       ] AS processes
