// Create the Job node of a new, unpublished version of a job (publish-job shows it), held by
// its writer for $lease milliseconds from now (lock-version renews the lease).
// Parameters: $job (map of Job properties, `jobid` and `version` included), $writer (string,
//   the writer's token), $lease (integer, milliseconds).
CREATE (j:Job)
SET j = $job, j.writer = $writer, j.lease_until = timestamp() + $lease
