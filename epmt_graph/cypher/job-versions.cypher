// The versions of a job whose writer is gone: unpublished, and their lease over (or never
// given, by an older loader). Left by an interrupted load, replace or delete; a version being
// written, or deleted, by a live writer is not one of them. Oldest first. claim-version
// takes one over before it is deleted.
// Parameters: $jobid (string).
MATCH (j:Job)
USING INDEX SEEK j:Job(jobid, version)
WHERE j.jobid = $jobid AND j.version IS NOT NULL
  AND coalesce(j.lease_until < timestamp(), true)
  AND NOT EXISTS { (:JobHead {jobid: j.jobid, version: j.version}) }
RETURN j.version AS version
ORDER BY version
