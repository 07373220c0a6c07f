// The reference models built from each of the given jobs: one row per job that has any.
// Parameters: $jobids (list of job ids).
UNWIND $jobids AS jobid
MATCH (h:JobHead {jobid: jobid})<-[:BUILT_FROM]-(r:RefModel)
WITH h.jobid AS jobid, r.id AS id ORDER BY id
RETURN jobid, collect(id) AS models
