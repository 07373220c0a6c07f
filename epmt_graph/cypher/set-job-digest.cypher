// Put the content digest on the Job node of a version being written (a load that wrote the
// job while the digest was made sets it last, in its last transaction, before publishing).
// Parameters: $jobid (string), $version (integer), $digest (string).
MATCH (j:Job {jobid: $jobid, version: $version})
SET j.digest = $digest
