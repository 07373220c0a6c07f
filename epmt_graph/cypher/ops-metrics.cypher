// Operation metrics: for each tag and each job, the processes of the job carrying the tag,
// counted and summed, with every process's [start, end] (for interval arithmetic and
// EPMT's float sums): the engine of get_op_metrics, Operation.proc_sums and ops_costs.
// Processes are first grouped by (job, tag string), so each distinct tag of a job is
// matched once against each requested tag, not once per process.
// Parameters:
//   $jobids   list of job ids
//   $tags     list of tags, each {pairs: ["k:v", ...], exact: null | "k:v;k2:v2"} as in
//             processes.cypher; a row's `op` is the index of its tag in this list
//   $metrics  list of the thread-summed metrics to add up, {f: property, i: slot}: i is its
//             place in the node's `metrics` list (the order of (:Job).metric_names), or
//             null for a metric kept as a property of its own
// Returns one row per (op, jobid) having processes, ordered by op, then jobid; `sums` and
// `present` follow $metrics (present: how many of the processes have that metric).
// Example (Browser): :param {jobids: ['685000'], tags: [{pairs: ['op:hsmget'], exact: null}], metrics: [{f: 'usertime', i: 0}, {f: 'rchar', i: 12}]}
MATCH (h:JobHead)
WHERE h.jobid IN $jobids
WITH h.jobid AS jobid, h.version AS version
MATCH (p:Process)
USING INDEX SEEK p:Process(jobid)
WHERE p.jobid = jobid AND p.version = version
WITH p.jobid AS jobid, p.tags AS tags, p.tag_pairs AS pairs, collect(p) AS group
UNWIND range(0, size($tags) - 1) AS op
WITH op, $tags[op] AS t, jobid, tags, pairs, group
WHERE CASE WHEN t.exact IS NULL THEN all(pair IN t.pairs WHERE pair IN pairs)
           ELSE tags = t.exact END
UNWIND group AS p
WITH op, jobid, count(p) AS num_procs, min(p.start) AS start, max(p.end) AS end,
     sum(p.duration) AS duration, sum(p.cpu_time) AS cpu_time, sum(p.numtids) AS numtids,
     collect(p) AS ps
RETURN op, jobid, num_procs, start, end, duration, cpu_time, numtids,
       [m IN $metrics | reduce(s = 0, q IN ps | s + coalesce(q[m.f], q.metrics[m.i], 0))] AS sums,
       [m IN $metrics | size([q IN ps WHERE coalesce(q[m.f], q.metrics[m.i]) IS NOT NULL])]
         AS present,
       [q IN ps | [q.start, q.end]] AS spans
ORDER BY op, jobid
