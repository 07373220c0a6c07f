// Delete up to $batch processes (with their edges) of one version of a job; run until it
// returns 0, then delete-job-node. The version is unpublished, so readers never see this, and
// the caller holds it (lock-version, in the same transaction).
// Parameters: $jobid (string), $version (integer), $batch (integer).
MATCH (p:Process {jobid: $jobid})
USING INDEX SEEK p:Process(jobid)
WHERE p.version = $version
WITH p LIMIT $batch
DETACH DELETE p
RETURN count(*) AS deleted
