// The published version of a job, with its content digest, source and process count (no
// row if the job is not loaded).
// Parameters: $jobid (string).
MATCH (h:JobHead {jobid: $jobid})
WITH h.jobid AS jobid, h.version AS version
MATCH (j:Job {jobid: jobid, version: version})
RETURN j.version AS version, j.digest AS digest, j.source AS source, j.num_procs AS processes
