// Operation roots: processes carrying every pair of a tag whose parent does not carry it
// (a tagged process without any parent is an operation root too), by job, then start; one
// row each (op_roots reads them in pages of rows: job-op-roots-pages.cypher).
// Parameters: $jobids (list of job ids), $pairs (list of "key:value" strings, the tag).
// Example (Browser): :param {jobids: ['685000'], pairs: ['op:hsmget']}
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
RETURN p {.*, threads_json: null, tz: j.tz, user: j.user,
          parent: coalesce(p.parent,
                           head([(q:Process)-[:PARENT_OF]->(p) | q.uid]))} AS p
ORDER BY p.jobid, p.start, p.pid
