// Hide a job from readers by removing its JobHead; its versions are deleted afterwards.
// Returns the version that was published (no row if the job is not loaded).
// Parameters: $jobid (string).
MATCH (h:JobHead {jobid: $jobid})
WITH h, h.version AS version
DELETE h
RETURN version
