// Delete the Job node of one version (after its processes are gone; the caller holds it,
// lock-version in the same transaction). Returns 0 or 1.
// Parameters: $jobid (string), $version (integer).
MATCH (j:Job {jobid: $jobid, version: $version})
DETACH DELETE j
RETURN count(*) AS deleted
