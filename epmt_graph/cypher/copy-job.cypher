// Copy the Job node of one version of a job ($from) into a new, unpublished version
// ($version) held by its writer for $lease milliseconds (as load-job), with $props set on it:
// the first step of changing a published job without readers seeing it half-changed.
// `created_at` is kept (absent: the copied version's, its load time). Returns the copy's
// jobid (no row if version $from is gone).
// Parameters: $jobid (string), $from (integer, the version copied), $version (integer, the
//   new version), $props (map of Job properties to set), $writer (string, the writer's
//   token), $lease (integer, milliseconds).
MATCH (old:Job {jobid: $jobid, version: $from})
CREATE (j:Job)
SET j = old {.*, version: $version, created_at: coalesce(old.created_at, old.version)}
SET j += $props
SET j.writer = $writer, j.lease_until = timestamp() + $lease
RETURN j.jobid AS jobid
