// The jobs an operation question ranges over, by start: id, time zone (to show times as
// EPMT does), the job totals ops_costs compares operations with, and the job's info JSON
// (its `metric_names` list the papiex metrics the processes summed).
// Parameters: $jobids (list of job ids).
// Example (Browser): :param {jobids: ['685000', '685003', '685016']}
MATCH (h:JobHead)
WHERE h.jobid IN $jobids
WITH h.jobid AS jobid, h.version AS version
MATCH (j:Job {jobid: jobid, version: version})
RETURN j.jobid AS jobid, j.tz AS tz, j.duration AS duration, j.cpu_time AS cpu_time,
       j.info_json AS info
ORDER BY j.start, j.jobid
