// Delete the Job node of one version (after its processes are gone). Returns 0 or 1.
// Parameters: $jobid (string), $version (integer).
MATCH (j:Job {jobid: $jobid, version: $version})
DETACH DELETE j
RETURN count(*) AS deleted
