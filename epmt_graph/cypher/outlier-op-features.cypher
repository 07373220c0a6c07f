// Outlier features of operations: for each tag and each job, the processes of the job
// carrying the tag (as ops-metrics selects them), counted, their cpu_time summed, and
// their durations summed as EPMT does: each process's (end - start) as a float
// (seconds * 1e6), added up (in the server's order, not EPMT's start order: the last
// bit may differ from get_op_metrics'; a sort ran out of transaction memory on kern
// jobs with a 1 GB heap). Only these three numbers
// cross the wire: the lean engine of detect_outlier_ops for EPMT's default features.
// Job by job (a subquery), so that a transaction holds one job's processes at a time.
// Parameters:
//   $jobids   list of job ids
//   $tags     list of tags, each {pairs: ["k:v", ...], exact: null | "k:v;k2:v2"} as in
//             processes.cypher; a row's `op` is the index of its tag in this list
// Returns one row per (op, jobid) having processes, ordered by op, then jobid.
// Example (Browser): :param {jobids: ['685000', '685016'], tags: [{pairs: ['op:hsmget'], exact: null}]}
MATCH (h:JobHead)
WHERE h.jobid IN $jobids
WITH h.jobid AS jobid, h.version AS version
CALL (jobid, version) {
  MATCH (p:Process)
  USING INDEX SEEK p:Process(jobid)
  WHERE p.jobid = jobid AND p.version = version
  WITH p.tags AS tags, p.tag_pairs AS pairs, collect([p.start, p.end, p.cpu_time]) AS group
  UNWIND [op IN range(0, size($tags) - 1) WHERE
          CASE WHEN $tags[op].exact IS NULL THEN all(pair IN $tags[op].pairs WHERE pair IN pairs)
               ELSE tags = $tags[op].exact END] AS op
  UNWIND group AS q
  RETURN op, count(*) AS num_procs, sum(q[2]) AS cpu_time,
         sum((toFloat(q[1] - q[0]) / 1e6) * 1e6) AS duration
}
RETURN op, jobid, num_procs, cpu_time, duration
ORDER BY op, jobid
