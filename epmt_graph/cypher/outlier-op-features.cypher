// Outlier features of operations: for each tag and each job, the processes of the job
// carrying the tag (as ops-metrics selects them), counted, their cpu_time summed, and
// their durations summed as EPMT does: each process's (end - start) as a float
// (seconds * 1e6), added one by one in (start, end) order. Only these three numbers
// cross the wire: the lean engine of detect_outlier_ops for EPMT's default features.
// Parameters:
//   $jobids   list of job ids
//   $tags     list of tags, each {pairs: ["k:v", ...], exact: null | "k:v;k2:v2"} as in
//             processes.cypher; a row's `op` is the index of its tag in this list
// Returns one row per (op, jobid) having processes, ordered by op, then jobid.
// Example (Browser): :param {jobids: ['685000', '685016'], tags: [{pairs: ['op:hsmget'], exact: null}]}
MATCH (h:JobHead)
WHERE h.jobid IN $jobids
WITH h.jobid AS jobid, h.version AS version
MATCH (p:Process)
USING INDEX SEEK p:Process(jobid)
WHERE p.jobid = jobid AND p.version = version
WITH p.jobid AS jobid, p.tags AS tags, p.tag_pairs AS pairs, collect(p) AS group
WITH jobid, group,
     [op IN range(0, size($tags) - 1) WHERE
        CASE WHEN $tags[op].exact IS NULL THEN all(pair IN $tags[op].pairs WHERE pair IN pairs)
             ELSE tags = $tags[op].exact END] AS ops
WHERE size(ops) > 0
UNWIND ops AS op
UNWIND group AS p
WITH op, jobid, p.start AS start, p.end AS end, p.cpu_time AS cpu
ORDER BY op, jobid, start, end
WITH op, jobid, count(*) AS num_procs, sum(cpu) AS cpu_time,
     collect((toFloat(end - start) / 1000000.0) * 1000000.0) AS lengths
RETURN op, jobid, num_procs, cpu_time,
       reduce(total = 0.0, length IN lengths | total + length) AS duration
ORDER BY op, jobid
