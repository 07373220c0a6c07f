// Create a batch of Process nodes of one version of a job, each linked to its Job.
// Parameters: $jobid (string), $version (integer), $rows (list of maps of Process properties).
MATCH (j:Job {jobid: $jobid, version: $version})
UNWIND $rows AS row
CREATE (p:Process)-[:BELONGS_TO]->(j)
SET p = row, p.version = $version
