// What `epmt-graph migrate --verify` compares for each of the jobs (no row for a job that is
// not loaded): the published version's content digest, its process count, its roots
// (processes that no PARENT_OF edge reaches) and its processes' CPU time summed.
// Parameters: $jobids (list of job ids).
// Example (Browser): :param {jobids: ['685000', '685003']}
MATCH (h:JobHead)
WHERE h.jobid IN $jobids
WITH h.jobid AS jobid, h.version AS version
MATCH (j:Job {jobid: jobid, version: version})
CALL (jobid, version) {
  MATCH (p:Process {jobid: jobid})
  USING INDEX SEEK p:Process(jobid)
  WHERE p.version = version
  RETURN count(p) AS processes,
         count(CASE WHEN NOT EXISTS { (:Process)-[:PARENT_OF]->(p) } THEN 1 END) AS roots,
         sum(p.cpu_time) AS cpuTime
}
RETURN jobid, j.digest AS digest, processes, roots, cpuTime
