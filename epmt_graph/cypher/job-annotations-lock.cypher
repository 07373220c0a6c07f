// Write-lock one job (by setting its annotations to themselves) and return them, as JSON:
// the first step of a read-merge-write in one write transaction (no row if not loaded).
// Parameters: $jobid (string).
MATCH (j:Job {jobid: $jobid})
SET j.annotations_json = coalesce(j.annotations_json, '{}')
RETURN j.annotations_json AS json
