// Delete a Job node (after its processes are gone). Returns how many jobs were deleted (0 or 1).
// Parameters: $jobid (string).
MATCH (j:Job {jobid: $jobid})
DETACH DELETE j
RETURN count(*) AS deleted
