// Bring a database written before versions up to date: each Job without `version` becomes
// version 0 of its job, with its processes, and is published. One transaction per job:
// run it in an auto-commit transaction (in the Browser, prefix `:auto`). A no-op once done.
// A Job that another transaction is deleting meanwhile can be read without its properties,
// no `jobid` either: it is left alone.
// Parameters: none.
MATCH (j:Job)
WHERE j.version IS NULL AND j.jobid IS NOT NULL
CALL (j) {
  WITH j
  WHERE j.version IS NULL AND j.jobid IS NOT NULL
  CALL (j) {
    MATCH (p:Process {jobid: j.jobid})
    USING INDEX SEEK p:Process(jobid)
    SET p.version = 0
  }
  SET j.version = 0
  MERGE (h:JobHead {jobid: j.jobid})
  SET h.version = 0
} IN TRANSACTIONS OF 1 ROW
