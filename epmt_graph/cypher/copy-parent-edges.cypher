// Copy the PARENT_OF edges into the processes of version $from of a job whose idx is in
// [$low, $high) to version $version (whose processes copy-processes made), found by uid.
// Returns how many edges were copied.
// Parameters: $jobid (string), $from (integer), $version (integer), $low (integer), $high
//   (integer).
MATCH (old:Job {jobid: $jobid, version: $from})<-[:BELONGS_TO]-(child:Process)
WHERE $low <= child.idx < $high
MATCH (parent:Process)-[:PARENT_OF]->(child)
WITH parent.uid AS up, child.uid AS uc
MATCH (np:Process {uid: up})
USING INDEX SEEK np:Process(uid)
WHERE np.version = $version
MATCH (nc:Process {uid: uc})
USING INDEX SEEK nc:Process(uid)
WHERE nc.version = $version
CREATE (np)-[:PARENT_OF]->(nc)
RETURN count(*) AS copied
