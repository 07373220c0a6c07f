// The versions of a job that readers do not see: left by an interrupted load, replace or
// delete, or written by a load that has not published yet. Oldest first.
// Parameters: $jobid (string).
MATCH (j:Job)
USING INDEX SEEK j:Job(jobid, version)
WHERE j.jobid = $jobid AND j.version IS NOT NULL
  AND NOT EXISTS { (:JobHead {jobid: j.jobid, version: j.version}) }
RETURN j.version AS version
ORDER BY version
