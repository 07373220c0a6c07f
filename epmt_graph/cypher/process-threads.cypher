// Processes by id, in the order asked, with every stored property (their `threads_json`
// holds the raw per-thread papiex rows): the source of get_thread_metrics.
// Parameters: $ids (list of process ids, "jobid:idx").
// Example (Browser): :param {ids: ['685000:0', '685000:114']}
UNWIND range(0, size($ids) - 1) AS i
MATCH (p:Process {uid: $ids[i]})
USING INDEX SEEK p:Process(uid)
WHERE EXISTS { (:JobHead {jobid: p.jobid, version: p.version}) }
RETURN p {.*} AS p
ORDER BY i
