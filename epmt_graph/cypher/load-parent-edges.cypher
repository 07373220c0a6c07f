// Create a batch of PARENT_OF edges between processes of one version of a job, found by
// uid: the edges whose two ends load-processes wrote in different batches.
// Parameters: $version (integer), $edges (list of [parent uid, child uid]).
UNWIND $edges AS edge
MATCH (parent:Process {uid: edge[0], version: $version})
USING INDEX SEEK parent:Process(uid)
MATCH (child:Process {uid: edge[1], version: $version})
USING INDEX SEEK child:Process(uid)
CREATE (parent)-[:PARENT_OF]->(child)
