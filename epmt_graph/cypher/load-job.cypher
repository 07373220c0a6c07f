// Create the Job node of a new, unpublished version of a job (publish-job shows it).
// Parameters: $job (map of Job properties, `jobid` and `version` included).
CREATE (j:Job)
SET j = $job
