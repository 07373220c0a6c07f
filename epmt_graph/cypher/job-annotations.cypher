// The annotations of one job, as JSON (no row if the job is not loaded).
// Parameters: $jobid (string).
MATCH (h:JobHead {jobid: $jobid})
WITH h.jobid AS jobid, h.version AS version
MATCH (j:Job {jobid: jobid, version: version})
RETURN coalesce(j.annotations_json, '{}') AS json
