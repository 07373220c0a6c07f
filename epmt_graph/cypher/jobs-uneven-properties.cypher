// The properties some of the jobs have and others lack: the fields (papiex metrics, for
// jobs recorded with different metrics) that hold no value for some of them in a frame of
// the jobs (EPMT's detect_outlier_jobs refuses jobs whose columns hold NaN).
// Parameters: $jobids (list of job ids; ids of no loaded job are left out).
// Returns one row: `keys`, those property names, sorted ([] when every job has the same).
// Example (Browser): :param {jobids: ['685000', '685003', '3455']}
UNWIND $jobids AS id
MATCH (h:JobHead {jobid: id})
WITH h.jobid AS jobid, h.version AS version
MATCH (j:Job {jobid: jobid, version: version})
WITH count(j) AS jobs, collect(keys(j)) AS held
UNWIND held AS names
UNWIND names AS key
WITH jobs, key, count(*) AS holders
WHERE holders < jobs
WITH key ORDER BY key
RETURN collect(key) AS keys
