// Write-lock one job (by setting its analyses to themselves) and return them, as JSON:
// the first step of a read-merge-write in one write transaction (no row if not loaded).
// Parameters: $jobid (string).
MATCH (h:JobHead {jobid: $jobid})
WITH h.jobid AS jobid, h.version AS version
MATCH (j:Job {jobid: jobid, version: version})
SET j.analyses_json = coalesce(j.analyses_json, '{}')
RETURN j.analyses_json AS json
