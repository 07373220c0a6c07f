// The non-empty annotations or analyses of jobs, as JSON, for the API's key/value filters.
// Parameters: $jobids (null: every job), $prop ('annotations_json' or 'analyses_json').
// Example (Browser): :param {jobids: null, prop: 'annotations_json'}
CALL () {
  UNWIND coalesce($jobids, []) AS id
  MATCH (h:JobHead {jobid: id})
  WITH h.jobid AS jobid, h.version AS version
  MATCH (j:Job {jobid: jobid, version: version})
  RETURN j
  UNION
  UNWIND CASE WHEN $jobids IS NULL THEN [true] ELSE [] END AS everyJob
  MATCH (h:JobHead)
  WITH h.jobid AS jobid, h.version AS version
  MATCH (j:Job {jobid: jobid, version: version})
  RETURN j
}
WITH j
WHERE coalesce(j[$prop], '{}') <> '{}'
RETURN j.jobid AS jobid, j[$prop] AS json
