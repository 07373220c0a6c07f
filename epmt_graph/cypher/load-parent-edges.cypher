// Create a batch of PARENT_OF edges between processes of one job.
// Parameters: $edges (list of [parent uid, child uid]).
UNWIND $edges AS edge
MATCH (parent:Process {uid: edge[0]})
USING INDEX SEEK parent:Process(uid)
MATCH (child:Process {uid: edge[1]})
USING INDEX SEEK child:Process(uid)
CREATE (parent)-[:PARENT_OF]->(child)
