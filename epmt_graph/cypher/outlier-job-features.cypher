// The outlier features of jobs, and a reference model, in one read: the lean engine of
// detect_outlier_jobs for EPMT's default features (duration, cpu_time and num_procs, the
// sums stored on each Job). Per job only those three numbers and its values of the tag
// keys that make jobs comparable cross the wire, all in one row.
// Parameters:
//   $jobids  list of job ids (ids of no loaded job are left out)
//   $keys    list of tag keys (e.g. ['exp_name', 'exp_component']): each job's value of
//            each, null where it has none
//   $model   null, or a reference model's id
// Returns one row: `jobs`, a list of [jobid, duration, cpu_time, num_procs, [values of
// $keys]] by start (then jobid), as jobs.cypher orders them; `model`, the RefModel's
// properties (null if $model is null or names no model), and `model_jobs`, the ids of the
// jobs it was built from (as refmodel.cypher); `uneven`, the Job properties some of the jobs
// have and others lack (papiex metrics of jobs recorded with other metrics), sorted: [] when
// every job has the same (EPMT's detect_outlier_jobs refuses jobs whose columns hold NaN).
// Example (Browser): :param {jobids: ['685000', '685003', '685016', '692544'], keys: ['exp_name', 'exp_component'], model: null}
UNWIND $jobids AS id
MATCH (h:JobHead {jobid: id})
WITH h.jobid AS jobid, h.version AS version
MATCH (j:Job {jobid: jobid, version: version})
WITH j ORDER BY j.start, j.jobid
WITH collect([j.jobid, j.duration, j.cpu_time, j.num_procs,
              [k IN $keys | head([pair IN j.tag_pairs WHERE pair STARTS WITH k + ':' |
                                  substring(pair, size(k) + 1)])]]) AS jobs,
     collect(keys(j)) AS held
CALL (held) {
  UNWIND held AS names
  UNWIND names AS key
  WITH key, count(*) AS holders
  WHERE holders < size(held)
  WITH key ORDER BY key
  RETURN collect(key) AS uneven
}
CALL () {
  OPTIONAL MATCH (r:RefModel {id: $model})
  OPTIONAL MATCH (r)-[:BUILT_FROM]->(b:JobHead)
  WITH r, b.jobid AS jobid ORDER BY jobid
  RETURN r {.*} AS model, collect(jobid) AS model_jobs
}
RETURN jobs, model, model_jobs, uneven
