// Depth and inclusive CPU time of every process of a job, as the tree walks wrote them.
// Parameters: $jobid (job id).
// Example (Browser): :param {jobid: '685000'}
MATCH (h:JobHead {jobid: $jobid})
WITH h.jobid AS jobid, h.version AS version
MATCH (p:Process {jobid: jobid})
USING INDEX SEEK p:Process(jobid)
WHERE p.version = version
RETURN p.uid AS id, p.pid AS pid, p.depth AS depth, p.inclusive_cpu_time AS inclusive_cpu_time
ORDER BY p.start, p.pid
