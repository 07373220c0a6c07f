// Operation metrics: for each tag and each job, the processes of the job carrying the tag,
// counted and summed, with every process's [start, end] (for interval arithmetic and
// EPMT's float sums): the engine of get_op_metrics, Operation.proc_sums and ops_costs.
// Processes are first grouped by (job, tag string), so each distinct tag of a job is
// matched once against each requested tag, not once per process.
// Parameters:
//   $jobids   list of job ids
//   $tags     list of tags, each {pairs: ["k:v", ...], exact: null | "k:v;k2:v2"} as in
//             processes.cypher; a row's `op` is the index of its tag in this list
//   $listed   the names of the metrics each node keeps in its `metrics` list, in its order
//             (the Job's metric_names): all of them are summed, from one read per process
//   $extras   other thread-summed metrics to add up, kept as properties of their own
// Returns one row per (op, jobid) having processes, ordered by op, then jobid; `sums` and
// `present` follow $listed, then $extras (present: how many of the processes have that
// metric). A node written without a `metrics` list has its metrics read by name.
// Example (Browser): :param {jobids: ['685000'], tags: [{pairs: ['op:hsmget'], exact: null}], listed: ['usertime', 'systemtime', 'rssmax'], extras: ['cutime']}
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
WITH op, jobid, num_procs, start, end, duration, cpu_time, numtids, ps,
     [q IN ps | coalesce(q.metrics, [name IN $listed | q[name]])] AS lists
RETURN op, jobid, num_procs, start, end, duration, cpu_time, numtids,
       [i IN range(0, size($listed) - 1) | reduce(s = 0, l IN lists | s + coalesce(l[i], 0))]
         + [m IN $extras | reduce(s = 0, q IN ps | s + coalesce(q[m], 0))] AS sums,
       [i IN range(0, size($listed) - 1) | size([l IN lists WHERE l[i] IS NOT NULL])]
         + [m IN $extras | size([q IN ps WHERE q[m] IS NOT NULL])] AS present,
       [q IN ps | [q.start, q.end]] AS spans
ORDER BY op, jobid
