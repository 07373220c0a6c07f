// The jobs of one experiment (tagged exp_name:<name>), by start: each job's id, its tag
// pairs (exp_component, exp_time, ...) and one metric, a Job property (duration, cpu_time,
// exitcode, or a sum over its processes such as num_procs or rchar): the engine of
// epmt_graph.explore. Every published job is read once; the experiment is one query.
// Parameters:
//   $pair     the experiment's tag pair, "exp_name:<name>"
//   $metric   the name of the property to return as `value` (null: none)
// Example (Browser): :param {pair: 'exp_name:ESM4_historical_D151', metric: 'duration'}
MATCH (h:JobHead)
WITH h.jobid AS jobid, h.version AS version
MATCH (j:Job {jobid: jobid, version: version})
WHERE $pair IN j.tag_pairs
RETURN j.jobid AS jobid, j.tag_pairs AS tags, j[$metric] AS value
ORDER BY j.start, j.jobid
