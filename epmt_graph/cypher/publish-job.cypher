// Publish a written version of a job: point its JobHead at it, in one property write, so that
// readers switch from the previous version (if any) to this one all at once; the previous
// version is handed to the writer to delete (held for it $lease ms, as lock-version does).
// The version and then the head are write-locked before they are read, so the returned
// checks see the latest commits: the writer commits only if `held` (the version is still
// its own), `processes` is the count it wrote, `previous` is the version it expected and
// `published` (the head was not deleted meanwhile); else it rolls back. No row if the version
// does not exist.
// Parameters: $jobid (string), $version (integer), $writer (string), $lease (integer, ms).
MATCH (j:Job {jobid: $jobid, version: $version})
SET j.lease_until = timestamp() + $lease
WITH j, coalesce(j.writer = $writer, false) AS held, COUNT { (j)<-[:BELONGS_TO]-() } AS processes
MERGE (h:JobHead {jobid: $jobid})
SET h.publishing = $version
WITH j, h, held, processes, h.version AS previous
SET h.version = $version
REMOVE h.publishing, j.writer, j.lease_until
WITH h, held, processes, previous
OPTIONAL MATCH (old:Job {jobid: $jobid, version: previous})
SET old.writer = $writer, old.lease_until = timestamp() + $lease
RETURN held, processes, previous, coalesce(h.version = $version, false) AS published
