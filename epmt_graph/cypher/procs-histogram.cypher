// A histogram of one process property over the processes of jobs: each value with how many
// processes have it and, given $metric, the sum of that property over them. Values come in
// the order they first appear by start time (EPMT builds its dict walking processes so).
// Parameters:
//   $jobids  list of job ids
//   $attr    the property to group by (e.g. 'exename', 'numtids', 'host')
//   $metric  null, or the property to sum (e.g. 'cpu_time')
//   $attrAt, $metricAt  null, or [list, slot]: where the node keeps that property packed
//            (e.g. ['metrics', 12] for rchar; as processes.cypher's l, i)
// Example (Browser): :param {jobids: ['685000'], attr: 'exename', metric: 'rchar', attrAt: null, metricAt: ['metrics', 12]}
MATCH (h:JobHead)
WHERE h.jobid IN $jobids
WITH h.jobid AS jobid, h.version AS version
MATCH (p:Process)
USING INDEX SEEK p:Process(jobid)
WHERE p.jobid = jobid AND p.version = version
WITH coalesce(p[$attr], p[$attrAt[0]][$attrAt[1]]) AS value, count(p) AS n,
     sum(coalesce(p[$metric], p[$metricAt[0]][$metricAt[1]])) AS total,
     min([p.start, p.jobid, p.pid]) AS first
RETURN value, n, total
ORDER BY first
