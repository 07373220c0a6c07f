// Take over a version of a job whose writer is gone, to delete it: it must be unpublished and
// its lease over (or never given, by an older loader). The Job node is write-locked first,
// so the checks see the latest commit; `taken` says whether they held, and the caller rolls
// back if not. No row if the version is gone.
// Parameters: $jobid (string), $version (integer), $writer (string), $lease (integer, ms).
MATCH (j:Job {jobid: $jobid, version: $version})
SET j.writer = $writer
WITH j, j.lease_until AS until, EXISTS { (:JobHead {jobid: $jobid, version: $version}) } AS shown
SET j.lease_until = timestamp() + $lease
RETURN NOT shown AND coalesce(until < timestamp(), true) AS taken
