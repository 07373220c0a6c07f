// Create one Job node from its properties.
// Parameters: $job (map of Job properties, `jobid` included).
CREATE (j:Job)
SET j = $job
