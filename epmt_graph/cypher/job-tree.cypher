// Every process of a job with its parent's id: the whole tree in one read, for the tree views
// (epmt_graph.tree). One row per process, by start time; parent is null for a root.
// Parameters: $jobid (job id).
// Example (Browser): :param {jobid: '685000'}
MATCH (h:JobHead {jobid: $jobid})
WITH h.jobid AS jobid, h.version AS version
MATCH (j:Job {jobid: jobid, version: version})
MATCH (p:Process {jobid: jobid})
USING INDEX SEEK p:Process(jobid)
WHERE p.version = version
OPTIONAL MATCH (up:Process)-[:PARENT_OF]->(p)
RETURN p.uid AS id, up.uid AS parent, p.pid AS pid, p.exename AS exename, p.args AS args,
       p.host AS host, p.tag_pairs AS tags, p.start AS start, p.end AS end,
       p.cpu_time AS cpu_time, p.depth AS depth, p.inclusive_cpu_time AS inclusive_cpu_time,
       j.tz AS tz
ORDER BY p.start, p.pid
