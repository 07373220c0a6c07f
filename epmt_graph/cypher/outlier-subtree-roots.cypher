// The processes of a job at given path keys (explain_outlier's picture): each process whose
// path key, the list of [exename, op tag] from its root down to itself (op tags as in
// outlier-tree-paths.cypher), is one of $keys. Only the processes whose own exename ends
// some key walk up to their root: O(those processes x depth).
// Parameters: $jobid (job id), $keys (list of path keys, each a list of [exename, op tag]
// pairs, root first), $counters (prefixes of the tag pairs left out of op tags).
// Example (Browser): :param {jobid: '685000', keys: [[['tcsh', ['op:dmput']], ['perl', ['op:hsmget']]]], counters: ['op_instance:', 'op_sequence:']}
MATCH (h:JobHead {jobid: $jobid})
WITH h.jobid AS jobid, h.version AS version
MATCH (p:Process)
USING INDEX SEEK p:Process(jobid)
WHERE p.jobid = jobid AND p.version = version
  AND p.exename IN [key IN $keys | last(key)[0]]
MATCH up = (root:Process)-[:PARENT_OF]->*(p)
WHERE NOT EXISTS { (:Process)-[:PARENT_OF]->(root) }
WITH p, [n IN nodes(up) | [n.exename, [pair IN coalesce(n.tag_pairs, [])
                                       WHERE NOT any(c IN $counters WHERE pair STARTS WITH c)]]]
     AS key
WHERE key IN $keys
RETURN key, p.uid AS id
ORDER BY p.start, p.pid
