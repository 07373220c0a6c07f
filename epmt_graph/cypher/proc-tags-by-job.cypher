// The distinct process tags of each job, as the loader stored them (EPMT's
// proc_sums['all_proc_tags']: a JSON list of tag maps, sorted by their JSON), by job start.
// Parameters: $jobids (list of job ids).
// Example (Browser): :param {jobids: ['685000', '685016']}
MATCH (j:Job)
WHERE j.jobid IN $jobids
RETURN j.jobid AS jobid, j.all_proc_tags_json AS tags
ORDER BY j.start, j.jobid
