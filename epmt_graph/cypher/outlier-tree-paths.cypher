// The process trees of jobs, matched by path (explain_outlier): per job, per path key, the
// summed values of the subtrees rooted there. A process's key is the list of [exename,
// op tag] from its root down to itself, where its op tag is the list of its "k:v" tag pairs
// (sorted by key) but those starting with one of $counters (e.g. ['op:hsmget']).
// Processes of one job with the same key (siblings, or cousins below ancestors of equal
// keys) form one row. Each process walks up to its root once and counts in each
// ancestor's subtree: O(processes x depth), one read for every job.
// Returns per (jobid, key): instances (processes with that key), cpu_time (their summed
// inclusive_cpu_time, µs), duration (the summed wall spans of their subtrees, each from its
// earliest start to its latest end, µs) and num_procs (processes in their subtrees).
// Parameters: $jobids (list of job ids), $counters (prefixes of the tag pairs to leave out).
// Example (Browser): :param {jobids: ['685000', '691201'], counters: ['op_instance:', 'op_sequence:']}
MATCH (h:JobHead)
WHERE h.jobid IN $jobids
WITH h.jobid AS jobid, h.version AS version
MATCH (p:Process)
USING INDEX SEEK p:Process(jobid)
WHERE p.jobid = jobid AND p.version = version
MATCH up = (root:Process)-[:PARENT_OF]->*(p)
WHERE NOT EXISTS { (:Process)-[:PARENT_OF]->(root) }
WITH jobid, p, nodes(up) AS chain
UNWIND range(0, size(chain) - 1) AS level
WITH jobid, chain[level] AS top, p,
     CASE WHEN level = size(chain) - 1 THEN
       [n IN chain | [n.exename, [pair IN coalesce(n.tag_pairs, [])
                                  WHERE NOT any(c IN $counters WHERE pair STARTS WITH c)]]]
     END AS own
WITH jobid, top, count(p) AS processes, min(p.start) AS start, max(p.end) AS end,
     collect(own) AS keys
WITH jobid, keys[0] AS key, top.inclusive_cpu_time AS cpu, end - start AS span, processes
RETURN jobid, key, count(*) AS instances, sum(cpu) AS cpu_time, sum(span) AS duration,
       sum(processes) AS num_procs
ORDER BY jobid, key
