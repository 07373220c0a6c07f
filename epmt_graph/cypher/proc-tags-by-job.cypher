// The distinct process tags of each job, as the loader stored them (EPMT's
// proc_sums['all_proc_tags']: a JSON list of tag maps, sorted by their JSON), by job start.
// Parameters: $jobids (list of job ids).
// Example (Browser): :param {jobids: ['685000', '685016']}
MATCH (h:JobHead)
WHERE h.jobid IN $jobids
WITH h.jobid AS jobid, h.version AS version
MATCH (j:Job {jobid: jobid, version: version})
RETURN j.jobid AS jobid, j.all_proc_tags_json AS tags
ORDER BY j.start, j.jobid
