// Delete up to $batch processes of a job (with their edges); run repeatedly inside one
// write transaction until it returns 0, then run delete-job-node. Bounded statements, one commit.
// Parameters: $jobid (string), $batch (integer).
MATCH (p:Process {jobid: $jobid})
USING INDEX SEEK p:Process(jobid)
WITH p LIMIT $batch
DETACH DELETE p
RETURN count(*) AS deleted
