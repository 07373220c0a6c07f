// Write-lock one job (by setting its analyses to themselves) and return them, as JSON:
// the first step of a read-merge-write in one write transaction (no row if not loaded).
// Parameters: $jobid (string).
MATCH (j:Job {jobid: $jobid})
SET j.analyses_json = coalesce(j.analyses_json, '{}')
RETURN j.analyses_json AS json
