// Constraints and indexes the loader creates before its first write (idempotent).
// Every load writes a new version of its job: a Job node and Process nodes that carry
// `version`. A job's one JobHead names the version that readers see (`h.version`); the named
// queries reach jobs and processes only through it (see docs/architecture.md).
// Reference models (RefModel) have unique ids and unique names (a null name is not checked).
// Parameters: none.
DROP CONSTRAINT job_jobid IF EXISTS;
DROP CONSTRAINT process_uid IF EXISTS;
CREATE CONSTRAINT jobhead_jobid IF NOT EXISTS FOR (h:JobHead) REQUIRE h.jobid IS UNIQUE;
CREATE CONSTRAINT job_version IF NOT EXISTS FOR (j:Job) REQUIRE (j.jobid, j.version) IS UNIQUE;
CREATE INDEX process_uid_lookup IF NOT EXISTS FOR (p:Process) ON (p.uid);
CREATE INDEX process_jobid_depth IF NOT EXISTS FOR (p:Process) ON (p.jobid, p.depth);
CREATE INDEX process_jobid_start IF NOT EXISTS FOR (p:Process) ON (p.jobid, p.start);
CREATE INDEX process_jobid IF NOT EXISTS FOR (p:Process) ON (p.jobid);
CREATE INDEX job_start IF NOT EXISTS FOR (j:Job) ON (j.start);
CREATE CONSTRAINT refmodel_id IF NOT EXISTS FOR (r:RefModel) REQUIRE r.id IS UNIQUE;
CREATE CONSTRAINT refmodel_name IF NOT EXISTS FOR (r:RefModel) REQUIRE r.name IS UNIQUE
