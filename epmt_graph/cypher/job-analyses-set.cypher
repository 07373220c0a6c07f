// Replace the analyses of one job (a JSON object as a string); returns them (no row if the
// job is not loaded).
// Parameters: $jobid (string), $json (string).
MATCH (j:Job {jobid: $jobid})
SET j.analyses_json = $json
RETURN j.analyses_json AS json
