// The time zone of each given job that is loaded (ids of no loaded job are left out): to
// read wall-clock times in each job's zone, and to tell which ids are loaded.
// Parameters: $jobids (list of job ids).
// Example (Browser): :param {jobids: ['685000', '685016', 'nope']}
MATCH (h:JobHead)
WHERE h.jobid IN $jobids
WITH h.jobid AS jobid, h.version AS version
MATCH (j:Job {jobid: jobid, version: version})
RETURN jobid, coalesce(j.tz, 'UTC') AS zone
