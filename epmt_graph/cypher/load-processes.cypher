// Create a batch of Process nodes of one version of a job, each linked to its Job, and the
// PARENT_OF edges among them, by position in $rows (no lookups); an edge to a parent in
// another batch is made by load-parent-edges once every batch is in.
// Parameters: $jobid (string), $version (integer), $rows (list of maps of Process
//   properties), $links (list of [parent position, child position] in $rows).
MATCH (j:Job {jobid: $jobid, version: $version})
UNWIND $rows AS row
CREATE (p:Process)-[:BELONGS_TO]->(j)
SET p = row, p.version = $version
WITH collect(p) AS created
UNWIND $links AS link
WITH created[link[0]] AS parent, created[link[1]] AS child
CREATE (parent)-[:PARENT_OF]->(child)
