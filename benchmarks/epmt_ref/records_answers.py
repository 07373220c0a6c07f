"""EPMT 5.0.1's answers for records you can change (issue 16): the pandas columns of jobs
and processes (``created_at``, ``updated_at``), ``get_features``, ``tag_job``,
``verify_jobs`` before and after EPMT's ``test_verify_jobs`` changes, and EPMT's
``test_job_advanced``/``test_procs_advanced`` tag changes with ``orm_commit``.

Run through answers.py, which loads only the query jobs for it:

    $(bash benchmarks/epmt_ref/setup_venv.sh) benchmarks/epmt_ref/answers.py --only records

and writes tests/fixtures/epmt/records.json. Conventions are answers.py's; a process named
in a ``verify_jobs`` error (``Process[<db id>]``) is named by its key instead
(``Process[<host>:<pid>:<start_us>]``), and ``created_at``/``updated_at`` values are
recorded by type only (``datetime`` or ``None``): they are the times of this run.
"""

import datetime as dt
import re

from answers import QUERY_JOBS, J, err, pkey, pkey_by_id

_PROCESS_ID = re.compile(r"Process\[(\d+)\]")


def _keyed(errors):
    """verify_jobs's errors with each ``Process[<db id>]`` as ``Process[<key>]``."""
    return {
        jobid: [_PROCESS_ID.sub(lambda m: f"Process[{pkey_by_id(int(m[1]))}]", e) for e in found]
        for jobid, found in errors.items()
    }


def _kind(value):
    return None if value is None else type(value).__name__


def _stamps(rows):
    return [{k: _kind(r.get(k)) for k in ("created_at", "updated_at")} for r in rows]


def _attempt(fn):
    try:
        return {"answer": J(fn())}
    except Exception as e:  # record EPMT's failure
        return err(e)


def record(eq):
    """Every answer of this section (the query jobs loaded, post-processed)."""
    from epmt.orm import Job
    from epmt.orm.sqlalchemy.general import Session, orm_commit

    Q = list(QUERY_JOBS)
    eq.compute_process_trees(Q)  # as ours always are (EPMT builds trees lazily)
    out = {}

    # --- columns and stamps
    jobs = eq.get_jobs(Q, fmt="pandas")
    procs = eq.get_procs(Q, fmt="pandas", limit=10)
    out["get_jobs(query_jobs, fmt='pandas') columns"] = sorted(jobs.columns)
    out["get_procs(query_jobs, fmt='pandas', limit=10) columns"] = sorted(procs.columns)
    out["get_features(query_jobs)"] = J(eq.get_features(Q))
    out["stamps: get_jobs(query_jobs, fmt='dict')"] = _stamps(eq.get_jobs(Q, fmt="dict"))
    out["stamps: get_procs(query_jobs, fmt='dict', limit=3)"] = _stamps(
        eq.get_procs(Q, fmt="dict", limit=3)
    )

    # --- verify_jobs, as loaded
    out["verify_jobs(query_jobs)"] = J(eq.verify_jobs(Q))
    ok, errors = eq.verify_jobs(Q)
    out["verify_jobs(query_jobs) keyed"] = [ok, _keyed(errors)]

    # --- tag_job (on 685016, restored after)
    first = dict(Job["685016"].tags)
    out["Job['685016'].tags"] = J(first)
    out["tag_job('685016', 'color:red;size:2')"] = _attempt(
        lambda: eq.tag_job("685016", "color:red;size:2")
    )
    out["Job['685016'].tags #2"] = J(Job["685016"].tags)
    out["get_jobs(query_jobs, tags='color:red', fmt='terse')"] = J(
        eq.get_jobs(Q, tags="color:red", fmt="terse")
    )
    out["tag_job('685016', {'size': 3})"] = _attempt(lambda: eq.tag_job("685016", {"size": 3}))
    out["tag_job('685016', 'only:1', replace=True)"] = _attempt(
        lambda: eq.tag_job("685016", "only:1", replace=True)
    )
    out["Job['685016'].tags #3"] = J(Job["685016"].tags)
    out["stamps: get_jobs('685016', fmt='dict') after tag_job"] = _stamps(
        eq.get_jobs("685016", fmt="dict")
    )
    out["tag_job('nope', 'a:1')"] = _attempt(lambda: eq.tag_job("nope", "a:1"))
    Session.rollback()
    eq.tag_job("685016", first, replace=True)
    out["Job['685016'].tags restored"] = J(Job["685016"].tags)

    # --- test_job_advanced: the empty tag of a job
    j = Job["685016"]
    saved = j.tags
    j.tags = {}
    orm_commit()
    out["j.tags = {}: get_jobs(query_jobs, tags='', fmt='terse')"] = J(
        eq.get_jobs(Q, tags="", fmt="terse")
    )
    out["j.tags = {}: get_jobs(query_jobs, tags={}, fmt='terse')"] = J(
        eq.get_jobs(Q, tags={}, fmt="terse")
    )
    j.tags = saved
    orm_commit()

    # --- test_procs_advanced: the empty tag of a process
    before = len(eq.get_procs(tags={}, fmt="terse"))
    p = eq.get_procs(tags="op_sequence:1", limit=1, fmt="orm")[0]
    out["get_procs(tags='op_sequence:1', limit=1)[0]"] = pkey(p)
    saved = p.tags
    p.tags = {}
    orm_commit()
    out["get_procs(tags={}) count before, after p.tags = {}"] = [
        before,
        len(eq.get_procs(tags={}, fmt="terse")),
    ]
    out["stamps: the process after p.tags = {}"] = _stamps(
        [eq.get_procs(Q, fltr=eq.Process.id == p.id, fmt="dict")[0]]
    )
    p.tags = saved
    orm_commit()

    # --- bad input
    j = Job["685000"]
    j.no_such_field = 1
    out["j.no_such_field = 1; orm_commit()"] = _attempt(orm_commit)
    j.start = "not a time"
    out["j.start = 'not a time'; orm_commit()"] = _attempt(orm_commit)
    Session.rollback()

    # --- test_verify_jobs
    j = Job["685000"]
    p = eq.get_procs("685000", limit=1, fmt="orm")[0]
    out["get_procs('685000', limit=1)[0]"] = pkey(p)
    j.start = dt.datetime(1970, 1, 1)
    j.end = dt.datetime.now() + dt.timedelta(days=1)
    p.start = dt.datetime(1970, 1, 1)
    orm_commit()
    ok, errors = eq.verify_jobs(["685000"])
    out["verify_jobs(['685000']) after test_verify_jobs's changes"] = [ok, _keyed(errors)]
    return out
