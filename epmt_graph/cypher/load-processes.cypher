// Create a batch of a job's Process nodes, each linked to its Job.
// Parameters: $jobid (string), $rows (list of maps of Process properties).
MATCH (j:Job {jobid: $jobid})
USING INDEX SEEK j:Job(jobid)
UNWIND $rows AS row
CREATE (p:Process)-[:BELONGS_TO]->(j)
SET p = row
