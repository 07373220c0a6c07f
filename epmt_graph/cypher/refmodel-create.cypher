// Create a reference model linked to the JobHeads of the jobs it was built from (the link
// outlives a job's replacement; a JobHead with models cannot be deleted while they last).
// Returns the model's id and how many of the jobs were linked (fewer: some not loaded).
// Parameters: $id (integer), $name (string or null), $tags (canonical "k:v;..." string),
//   $tag_pairs (list of "k:v"), $op_tags_json, $computed_json, $info_json (JSON strings),
//   $enabled (boolean), $created (microseconds since the epoch), $jobids (list of job ids).
// Example (Browser): :param {id: 1, name: null, tags: '', tag_pairs: [], op_tags_json: '[]', computed_json: '{}', info_json: '{}', enabled: true, created: 0, jobids: ['685000']}
CREATE (r:RefModel {id: $id, name: $name, tags: $tags, tag_pairs: $tag_pairs,
                    op_tags_json: $op_tags_json, computed_json: $computed_json,
                    info_json: $info_json, enabled: $enabled, created: $created})
WITH r
UNWIND $jobids AS jobid
MATCH (h:JobHead {jobid: jobid})
CREATE (r)-[:BUILT_FROM]->(h)
RETURN r.id AS id, count(h) AS linked
