// Replace the annotations of one job (a JSON object as a string); returns them (no row if the
// job is not loaded).
// Parameters: $jobid (string), $json (string).
MATCH (h:JobHead {jobid: $jobid})
WITH h.jobid AS jobid, h.version AS version
MATCH (j:Job {jobid: jobid, version: version})
SET j.annotations_json = $json
RETURN j.annotations_json AS json
