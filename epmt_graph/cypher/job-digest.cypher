// The content digest and source of a loaded job (no row if the job is not loaded).
// Parameters: $jobid (string).
MATCH (j:Job {jobid: $jobid})
RETURN j.digest AS digest, j.source AS source
