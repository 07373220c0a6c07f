// Hold one version of a job for its writer, in the writer's transaction: write-lock the Job
// node and renew its lease (so another load or delete of the job leaves it alone until the
// transaction ends and $lease ms after), then say whether it is still this writer's and how
// many processes it has. The lock comes first, so what is read is the latest commit; the
// writer rolls back if the version is no longer its own. No row if the version is gone.
// Parameters: $jobid (string), $version (integer), $writer (string), $lease (integer, ms).
MATCH (j:Job {jobid: $jobid, version: $version})
SET j.lease_until = timestamp() + $lease
RETURN coalesce(j.writer = $writer, false) AS held, COUNT { (j)<-[:BELONGS_TO]-() } AS processes
