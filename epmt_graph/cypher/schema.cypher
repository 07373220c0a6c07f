// Constraints and indexes the loader creates before its first write (idempotent).
// Parameters: none.
CREATE CONSTRAINT job_jobid IF NOT EXISTS FOR (j:Job) REQUIRE j.jobid IS UNIQUE;
CREATE CONSTRAINT process_uid IF NOT EXISTS FOR (p:Process) REQUIRE p.uid IS UNIQUE;
CREATE INDEX process_jobid_depth IF NOT EXISTS FOR (p:Process) ON (p.jobid, p.depth);
CREATE INDEX process_jobid_start IF NOT EXISTS FOR (p:Process) ON (p.jobid, p.start);
CREATE INDEX process_jobid IF NOT EXISTS FOR (p:Process) ON (p.jobid);
CREATE INDEX job_start IF NOT EXISTS FOR (j:Job) ON (j.start)
