// Publish a written version of a job: point its JobHead at it, in one property write, so
// that readers switch from the previous version (if any) to this one all at once.
// Returns the version that was published before (null for a new job); no row if the
// version does not exist. The caller checks that it is the one it expected.
// Parameters: $jobid (string), $version (integer).
MATCH (j:Job {jobid: $jobid, version: $version})
MERGE (h:JobHead {jobid: $jobid})
WITH h, h.version AS previous
SET h.version = $version
RETURN previous
