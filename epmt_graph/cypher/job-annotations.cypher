// The annotations of one job, as JSON (no row if the job is not loaded).
// Parameters: $jobid (string).
MATCH (j:Job {jobid: $jobid})
RETURN coalesce(j.annotations_json, '{}') AS json
