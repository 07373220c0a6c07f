// Hide a job from readers by removing its JobHead (write-locked before its version is read),
// and hand the version it showed to the caller to delete: held for $writer for $lease ms, as
// lock-version does. Returns that version (no row if the job is not loaded).
// Parameters: $jobid (string), $writer (string), $lease (integer, milliseconds).
MATCH (h:JobHead {jobid: $jobid})
SET h.unpublishing = true
WITH h, h.version AS version
DELETE h
WITH version
MATCH (j:Job {jobid: $jobid, version: version})
SET j.writer = $writer, j.lease_until = timestamp() + $lease
RETURN version
