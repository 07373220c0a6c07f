"""Record the reference answers of the real EPMT 5.0.1 on the sample archives.

Run with the EPMT venv's python (see setup_venv.sh), never with the project's:

    $(bash benchmarks/epmt_ref/setup_venv.sh) benchmarks/epmt_ref/answers.py [--out PATH]

It makes a fresh sqlite DB in a temp dir (the user's EPMT DB is never touched),
submits copies of the sample jobs, drives EPMT's post-processing and process-tree
computation, runs the query API and writes tests/fixtures/epmt/answers.json.

Conventions in the JSON:
  * process key  = f"{host}:{pid}:{start_us}", start_us = raw papiex `start`
    (integer microseconds since the epoch, UTC);
  * datetimes    = ISO strings, exactly as EPMT returns them: naive, in the job's
    time zone (US/Eastern for the GFDL jobs);
  * sets         = sorted lists; tuples = lists; NaN/inf = null;
  * volatile values (row creation/update stamps) = "<volatile>";
  * a call that raised in EPMT = {"error": "<ExceptionType>: <message>"}.
"""

import argparse
import datetime as _dt
import json
import math
import os
import platform
import shutil
import sys
import traceback
from pathlib import Path

from epmt_db import SAMPLES, post_process_all, scratch_epmt, stage_copy, submit_one, submit_samples

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "tests" / "fixtures" / "epmt" / "answers.json"
#: Where --only api_gaps writes (answers.json is then left as it is).
API_GAPS_OUT = REPO / "tests" / "fixtures" / "epmt" / "api_gaps.json"
#: Where --only records writes.
RECORDS_OUT = REPO / "tests" / "fixtures" / "epmt" / "records.json"

QUERY_JOBS = ["685000", "685003", "685016"]
QUERY_ARCHIVES = [f"query/{j}.tgz" for j in QUERY_JOBS]
# every other sample EPMT might accept, in a fixed order (dirs end in "/")
OTHER_ARCHIVES = [
    "submit/692500.tgz",
    "submit/804268.tgz",
    "submit/804280.tgz",
    "submit/3455/",
    "daemon/627919.tgz",
    "daemon/ingest/691201.tgz",
    "daemon/ingest/692544.tgz",
    "misc/685000.tgz",
    "misc/685016.tgz",
    "misc/failed-exitcode.tgz",
    "misc/corrupted-csv.tgz",
    "tsv/12340/",
    "tsv/collated-tsv-2220.tgz",
    "csv/",
    "corrupted_csv/",
]
VOLATILE = "<volatile>"
PROC_COLUMNS = [
    "depth",
    "cpu_time",
    "inclusive_cpu_time",
    "children",
    "descendants",
    "parent",
    "exename",
]
RETRY_TZ = "Asia/Kolkata"  # zone of the non-GFDL sample recordings (EPMT's own tests use it)
VOLATILE_KEYS = {"created_at", "updated_at"}


# ---------------------------------------------------------------- json
def J(x):
    """Convert an EPMT/pandas/numpy value into plain JSON data."""
    import numpy as np
    import pandas as pd
    from epmt.orm import Job, Operation, Process
    from sqlalchemy.orm.query import Query

    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return None if (math.isnan(x) or math.isinf(x)) else x
    if isinstance(x, pd.Timestamp):
        return None if pd.isna(x) else x.isoformat()
    if isinstance(x, (_dt.datetime, _dt.date)):
        return x.isoformat()
    if isinstance(x, _dt.timedelta):
        return {"timedelta_us": int(x / _dt.timedelta(microseconds=1))}
    if isinstance(x, Operation):
        return J(x.to_dict())
    if isinstance(x, dict):
        return {str(k): J(v) for k, v in x.items()}
    if isinstance(x, (set, frozenset)):
        vals = [J(v) for v in x]
        return sorted(vals, key=lambda v: (str(type(v)), json.dumps(v, sort_keys=True)))
    if isinstance(x, pd.DataFrame):
        return [J(r) for r in x.to_dict("records")]
    if isinstance(x, pd.Series):
        return [J(v) for v in x.tolist()]
    if isinstance(x, np.ndarray):
        return [J(v) for v in x.tolist()]
    if isinstance(x, Job):
        return x.jobid
    if isinstance(x, Process):
        return pkey(x)
    if isinstance(x, Query):
        return [J(v) for v in x]
    if isinstance(x, (list, tuple)):
        return [J(v) for v in x]
    return repr(x)


def scrub(d):
    """Replace run-dependent timestamps in a job/process dict."""
    return {k: (VOLATILE if k in VOLATILE_KEYS else v) for k, v in d.items()}


def err(e):
    return {"error": f"{type(e).__name__}: {e}"}


def call(out, key, fn):
    """Run fn() and store its JSON form (or the error) under out[key]."""
    try:
        out[key] = J(fn())
    except Exception as e:  # record EPMT's failure, keep going
        out[key] = err(e)
        out[key]["traceback_tail"] = traceback.format_exc().strip().splitlines()[-3:]
    return out[key]


def dumps_pretty(x, indent=0, width=160):
    """Sorted-key JSON, one element per line, but anything whose compact form
    fits in `width` columns stays on one line (keeps the file small and diffable)."""
    flat = json.dumps(x, sort_keys=True, allow_nan=False, ensure_ascii=False)
    if len(flat) + indent <= width or not isinstance(x, (dict, list)) or not x:
        return flat
    if isinstance(x, list) and all(v is None or isinstance(v, (int, float)) for v in x):
        return flat  # lists of numbers (pids, ...) stay on one line
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(x, dict):
        items = [
            f"{inner}{json.dumps(k, ensure_ascii=False)}: {dumps_pretty(x[k], indent + 1, width)}"
            for k in sorted(x)
        ]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    items = [inner + dumps_pretty(v, indent + 1, width) for v in x]
    return "[\n" + ",\n".join(items) + "\n" + pad + "]"


# ---------------------------------------------------------------- processes
_START_US = {}


def start_us(p):
    """Raw papiex start (us since epoch UTC) of a Process: thread 0's `start`."""
    if p.id in _START_US:
        return _START_US[p.id]
    v = None
    try:
        v = int(p.threads_df[0]["start"])
    except Exception:
        v = None
    if v is None:  # fall back: stored start is naive local time of the job's zone
        import pytz

        tz = pytz.timezone(
            (p.job.env_dict or {}).get("TZ") or os.environ.get("EPMT_TZ") or "US/Eastern"
        )
        v = int(tz.localize(p.start).timestamp() * 1_000_000)
    _START_US[p.id] = v
    return v


def pkey(p):
    return f"{p.host_id}:{p.pid}:{start_us(p)}"


def proc_brief(p):
    """A compact, DB-id-free view of a process (ORM object)."""
    return {
        "key": pkey(p),
        "jobid": p.jobid,
        "pid": p.pid,
        "ppid": p.ppid,
        "exename": p.exename,
        "tags": J(p.tags),
        "start": J(p.start),
        "end": J(p.end),
        "duration": J(p.duration),
        "cpu_time": J(p.cpu_time),
        "inclusive_cpu_time": J(p.inclusive_cpu_time),
        "depth": p.depth,
        "exitcode": p.exitcode,
        "numtids": p.numtids,
        "host": p.host_id,
    }


def procs_brief(q):
    return [proc_brief(p) for p in q]


def dict_procs_brief(
    rows,
    cols=(
        "jobid",
        "pid",
        "exename",
        "tags",
        "start",
        "duration",
        "cpu_time",
        "inclusive_cpu_time",
        "depth",
        "exitcode",
        "args",
    ),
):
    """Project process dicts (fmt='dict') onto DB-id-free columns + key."""
    from epmt.orm import Process
    from epmt.orm.sqlalchemy.general import Session

    out = []
    for r in rows:
        p = Session.query(Process).get(r["id"])
        d = {c: J(r.get(c)) for c in cols}
        d["key"] = pkey(p)
        out.append(d)
    return out


# ---------------------------------------------------------------- per job
def job_record(eq, jobid):
    from epmt.orm import Job

    rec = {}
    job = Job[jobid]
    procs = list(eq.get_procs(jobid, fmt="orm"))
    rec["process_count"] = len(procs)
    call(rec, "roots", lambda: [p.pid for p in eq.get_roots(jobid, fmt="orm")])
    call(rec, "root_keys", lambda: [pkey(p) for p in eq.get_roots(jobid, fmt="orm")])
    call(rec, "root_pid", lambda: eq.root(jobid, fmt="orm").pid)
    call(rec, "root_key", lambda: pkey(eq.root(jobid, fmt="orm")))
    ops = {}
    try:
        op_values = sorted(eq.job_proc_tags(jobid, fold=True).get("op", []) or [])
        if isinstance(op_values, str):
            op_values = [op_values]
    except Exception as e:
        op_values = []
        ops["_error"] = err(e)
    for v in op_values:
        tag = f"op:{v}"
        call(ops, tag, lambda tag=tag: [p.pid for p in eq.op_roots(jobid, tag, fmt="orm")])
    rec["op_roots"] = ops
    eq.compute_process_trees([jobid])
    procmap = {}
    for p in eq.get_procs(jobid, fmt="orm"):
        k = pkey(p)
        if k in procmap:
            rec.setdefault("_duplicate_keys", []).append(k)
        parent = p.parent
        procmap[k] = [
            p.depth,
            J(p.cpu_time),
            J(p.inclusive_cpu_time),
            len(p.children),
            len(p.descendants),
            pkey(parent) if parent is not None else None,
            p.exename,
        ]
    rec["processes"] = {"columns": PROC_COLUMNS, "rows": procmap}
    call(rec, "get_jobs_dict", lambda: scrub(eq.get_jobs(jobid, fmt="dict")[0]))
    call(rec, "get_job_tags", lambda: eq.get_job_tags(jobid))
    call(rec, "get_job_tags_fold_false", lambda: eq.get_job_tags(jobid, fold=False))
    call(rec, "get_job_status", lambda: eq.get_job_status(jobid))
    call(rec, "job_proc_tags", lambda: eq.job_proc_tags(jobid))
    call(rec, "job_proc_tags_fold", lambda: eq.job_proc_tags(jobid, fold=True))
    call(rec, "rank_proc_tags_keys", lambda: eq.rank_proc_tags_keys(jobid))
    call(rec, "hosts", lambda: sorted(h.name for h in job.hosts))
    return rec


# ---------------------------------------------------------------- facts
def facts(eq):
    from epmt.orm import Job, Process

    F = {}

    def fact(name, expected, fn):
        try:
            got = J(fn())
        except Exception as e:
            F[name] = {"expected": expected, "error": err(e)["error"], "ok": False}
            return
        F[name] = {"expected": expected, "actual": got, "ok": got == expected}

    Q = QUERY_JOBS
    fact(
        "get_jobs(query_jobs, order=desc(Job.start), limit=2, offset=1, fmt='terse')",
        ["685003", "685000"],
        lambda: eq.get_jobs(Q, order=eq.desc(Job.start), limit=2, offset=1, fmt="terse"),
    )
    fact(
        "get_procs(query_jobs, fltr=Process.duration > 1000000, fmt='orm').count()",
        630,
        lambda: eq.get_procs(Q, fltr=(Process.duration > 1000000), fmt="orm").count(),
    )
    fact(
        "longest duration of get_procs(query_jobs, fltr=Process.duration > 1000000, order=desc(Process.duration))",
        7005558348,
        lambda: int(
            eq.get_procs(
                Q, fltr=(Process.duration > 1000000), order=eq.desc(Process.duration), fmt="orm"
            )
            .first()
            .duration
        ),
    )
    fact(
        "get_procs(query_jobs, tags='op_sequence:4', fmt='orm').count()",
        270,
        lambda: eq.get_procs(Q, tags="op_sequence:4", fmt="orm").count(),
    )
    fact(
        "get_procs(query_jobs, tags='op_sequence:5', fmt='orm').count()",
        285,
        lambda: eq.get_procs(Q, tags="op_sequence:5", fmt="orm").count(),
    )
    fact(
        "get_procs(query_jobs, tags=['op_sequence:4', 'op_sequence:5'], fmt='orm').count()",
        555,
        lambda: eq.get_procs(Q, tags=["op_sequence:4", "op_sequence:5"], fmt="orm").count(),
    )
    fact(
        "pids of get_procs('685000', when='06/15/2019 07:53')",
        [6098, 6226],
        lambda: sorted(p.pid for p in eq.get_procs("685000", when="06/15/2019 07:53", fmt="orm")),
    )
    fact(
        "get_procs(['685000', '685003'], hosts=['pp208', 'pp212'], fmt='orm').count()",
        7265,
        lambda: eq.get_procs(["685000", "685003"], hosts=["pp208", "pp212"], fmt="orm").count(),
    )

    def root6098():
        eq.compute_process_trees(["685000"])
        p = eq.get_procs("685000", fltr=(Process.pid == 6098), fmt="orm").first()
        return [len(p.children), len(p.descendants)]

    fact("685000 pid 6098 [len(children), len(descendants)]", [735, 3448], root6098)
    fact(
        "get_procs(query_jobs, tags='op_sequence:4', fltr=duration > 10000000, order=desc(duration)) first duration",
        207384313,
        lambda: int(
            eq.get_procs(
                Q,
                tags="op_sequence:4",
                fltr=(Process.duration > 10000000),
                order=eq.desc(Process.duration),
                fmt="orm",
            )
            .first()
            .duration
        ),
    )

    def first_desc():
        eq.compute_process_trees(Q)
        p = eq.get_procs(
            Q,
            tags="op_sequence:4",
            fltr=(Process.duration > 10000000),
            order=eq.desc(Process.duration),
            fmt="orm",
        ).first()
        return len(p.descendants[:])

    fact("... its len(descendants)", 85, first_desc)
    fact(
        "get_procs(query_jobs, tags='op_sequence:4', fltr=duration > 10000000).count()",
        2,
        lambda: eq.get_procs(
            Q, tags="op_sequence:4", fltr=(Process.duration > 10000000), fmt="orm"
        ).count(),
    )
    # from EPMT's own test-suite (test_query.py) on the same jobs
    fact("root('685016', fmt='orm').pid", 122181, lambda: eq.root("685016", fmt="orm").pid)
    fact(
        "len(get_procs(['685016'], fmt='terse'))",
        3412,
        lambda: len(eq.get_procs(["685016"], fmt="terse")),
    )
    fact(
        "get_procs(['685016', '685000'], fmt='orm').count()",
        6892,
        lambda: eq.get_procs(["685016", "685000"], fmt="orm").count(),
    )
    fact(
        "pids of op_roots(['685000', '685003'], 'op_sequence:4')",
        sorted([11023, 11185, 11187, 32160, 32328, 32330]),
        lambda: sorted(
            p.pid for p in eq.op_roots(["685000", "685003"], "op_sequence:4", fmt="orm")
        ),
    )
    fact(
        "len(job_proc_tags(['685000', '685016']))",
        89,
        lambda: len(eq.job_proc_tags(["685000", "685016"])),
    )
    fact(
        "get_op_metrics(['685000', '685016']) shape",
        [178, 31],
        lambda: list(eq.get_op_metrics(["685000", "685016"]).shape),
    )
    fact("get_op_metrics(query_jobs) shape", [573, 31], lambda: list(eq.get_op_metrics(Q).shape))
    fact(
        "get_op_metrics(query_jobs, group_by_tag=True) shape",
        [459, 29],
        lambda: list(eq.get_op_metrics(Q, group_by_tag=True).shape),
    )
    fact(
        "Operation(['685000'], {'op': 'timavg'}).duration",
        41388496.0,
        lambda: eq.Operation(["685000"], {"op": "timavg"}).duration,
    )
    fact(
        "get_ops(['685000','685003'], tags='op', combine=True)[0] proc_sums [num_procs, numtids]",
        [7111, 7544],
        lambda: [
            eq.get_ops(["685000", "685003"], tags="op", combine=True)[0]["proc_sums"][k]
            for k in ("num_procs", "numtids")
        ],
    )
    fact(
        "get_roots(['685000', '685003']) pids (test_query.test_job_roots)",
        [
            6098,
            29001,
            31171,
            31291,
            10015,
            10168,
            32139,
            11002,
            32315,
            11172,
            1311,
            1490,
            12990,
            13118,
            13220,
            1652,
            1941,
            13597,
            14403,
            14547,
            2321,
            2655,
            26466,
            26469,
            26500,
            26726,
            26729,
            26760,
            26986,
            26989,
            27020,
            27246,
            27249,
            27280,
            27506,
            27509,
            27540,
            27775,
            27833,
            27836,
            27867,
            28093,
            28129,
            8082,
            8179,
            8231,
            8283,
            8335,
            8387,
            8439,
            8491,
            8543,
            8603,
            8655,
            8707,
            8863,
            8997,
            9044,
            9090,
            9126,
            9162,
            9198,
            9237,
            9881,
            9930,
            9979,
            10028,
            10077,
            10126,
            10175,
        ],
        lambda: [p.pid for p in eq.get_roots(["685000", "685003"], fmt="orm")],
    )
    return F


# ---------------------------------------------------------------- workbook
def workbook(eq, loaded_jobs):
    """Every eq.* call of the workbook, adapted to the sample jobs."""
    from epmt.orm import Job, Process

    W = {}
    Q = list(QUERY_JOBS)
    DM = ["op:hsmget", "op:cp", "op:dmget", "op:gcp", "op:mv", "op:untar", "op:tar", "op:rm"]
    DMOPS = ["op:hsmget", "op:dmput", "op:cp", "op:rm", "op:mv", "op:untar"]

    # --- job queries
    call(
        W,
        "get_jobs(tags='exp_name:ESM4_historical_D151;exp_component:ocean_month_rho2_1x1deg', fmt='terse')",
        lambda: eq.get_jobs(
            tags="exp_name:ESM4_historical_D151;exp_component:ocean_month_rho2_1x1deg", fmt="terse"
        ),
    )
    call(
        W,
        "get_jobs(tags='exp_name:ESM4_historical_D151', fmt='terse')",
        lambda: eq.get_jobs(tags="exp_name:ESM4_historical_D151", fmt="terse"),
    )
    call(W, "get_jobs(fmt='terse')", lambda: eq.get_jobs(fmt="terse"))
    call(
        W,
        "conv_jobs(query_jobs, fmt='pandas') [sorted columns, rows]",
        lambda: (lambda df: [sorted(df.columns.values), len(df)])(eq.conv_jobs(Q, fmt="pandas")),
    )
    call(W, "get_jobs(query_jobs, fmt='orm').count()", lambda: eq.get_jobs(Q, fmt="orm").count())
    call(
        W,
        "[(j.jobid, j.tags) for j in get_jobs(tags='exp_name:ESM4_historical_D151', fmt='orm')]",
        lambda: [
            [j.jobid, j.tags] for j in eq.get_jobs(tags="exp_name:ESM4_historical_D151", fmt="orm")
        ],
    )
    call(
        W,
        "get_job_tags(get_jobs(tags='exp_name:ESM4_historical_D151', fmt='orm'))",
        lambda: eq.get_job_tags(eq.get_jobs(tags="exp_name:ESM4_historical_D151", fmt="orm")),
    )
    call(W, "get_job_tags(query_jobs)", lambda: eq.get_job_tags(Q))
    call(W, "get_job_tags(query_jobs, fold=False)", lambda: eq.get_job_tags(Q, fold=False))
    call(
        W,
        "get_job_tags(query_jobs, tag_filter='exp_name:ESM4_historical_D151;exp_time:18840101')",
        lambda: eq.get_job_tags(Q, tag_filter="exp_name:ESM4_historical_D151;exp_time:18840101"),
    )
    for j in Q:
        call(W, f"get_job_status('{j}')", lambda j=j: eq.get_job_status(j))
    call(
        W,
        "get_jobs(query_jobs, order=desc(Job.duration), fmt='dict') [jobid, duration, exitcode]",
        lambda: [
            [r["jobid"], r["duration"], r["exitcode"]]
            for r in eq.get_jobs(Q, order=eq.desc(Job.duration), fmt="dict")
        ],
    )
    call(
        W,
        "get_jobs(query_jobs, order=desc(Job.duration), limit=1, fmt='terse')",
        lambda: eq.get_jobs(Q, order=eq.desc(Job.duration), limit=1, fmt="terse"),
    )
    call(
        W,
        "get_jobs(get_jobs(query_jobs, fmt='orm'), fltr=(Job.exitcode != 0), fmt='terse')",
        lambda: eq.get_jobs(eq.get_jobs(Q, fmt="orm"), fltr=(Job.exitcode != 0), fmt="terse"),
    )
    call(
        W,
        "get_jobs(fltr=(Job.exitcode != 0), fmt='terse')",
        lambda: eq.get_jobs(fltr=(Job.exitcode != 0), fmt="terse"),
    )
    call(
        W,
        "sorted(get_jobs(query_jobs, fmt='orm').first().proc_sums.keys())",
        lambda: sorted(eq.get_jobs(Q, fmt="orm").first().proc_sums.keys()),
    )
    call(
        W,
        "sorted(get_jobs(get_jobs(query_jobs, fmt='orm').first(), fmt='pandas').columns)",
        lambda: sorted(eq.get_jobs(eq.get_jobs(Q, fmt="orm").first(), fmt="pandas").columns.values),
    )
    # get_jobs filters exercised by EPMT's own tests
    for label, kw in [
        (
            "tags=['ocn_res:0.5l75;exp_component:ocean_cobalt_fdet_100', 'ocn_res:0.5l75;exp_component:ocean_annual_rho2_1x1deg']",
            dict(
                tags=[
                    "ocn_res:0.5l75;exp_component:ocean_cobalt_fdet_100",
                    "ocn_res:0.5l75;exp_component:ocean_annual_rho2_1x1deg",
                ]
            ),
        ),
        (
            "tags='exp_component:ocean_month_rho2_1x1deg'",
            dict(tags="exp_component:ocean_month_rho2_1x1deg"),
        ),
        ("before=0", dict(before=0)),
        ("after=0", dict(after=0)),
        ("before='06/15/2019 00:00'", dict(before="06/15/2019 00:00")),
        ("after='06/15/2019 00:00'", dict(after="06/15/2019 00:00")),
        ("before=-30", dict(before=-30)),
        ("after=-30", dict(after=-30)),
        ("hosts=['pp208', 'pp212']", dict(hosts=["pp208", "pp212"])),
        ("hosts=['pp208', 'pp313', 'pp212']", dict(hosts=["pp208", "pp313", "pp212"])),
        ("when='06/15/2019 07:00'", dict(when="06/15/2019 07:00")),
        ("when='06/15/2019 08:00'", dict(when="06/15/2019 08:00")),
        ("when='06/15/2019 09:00'", dict(when="06/15/2019 09:00")),
        ("when='06/15/2019 10:00'", dict(when="06/15/2019 10:00")),
        ("hosts='pp208', when='06/15/2019 08:00'", dict(hosts="pp208", when="06/15/2019 08:00")),
        (
            "when='06/15/2019 08:00', hosts=['pp208', 'pp212']",
            dict(when="06/15/2019 08:00", hosts=["pp208", "pp212"]),
        ),
        ("fltr=(Job.jobid != '685000')", dict(fltr=(Job.jobid != "685000"))),
    ]:
        call(
            W,
            f"get_jobs(query_jobs, {label}, fmt='terse')",
            lambda kw=kw: eq.get_jobs(Q, fmt="terse", **kw),
        )
    call(
        W,
        "get_jobs('685016, 685000', fmt='terse')",
        lambda: eq.get_jobs("685016, 685000", fmt="terse"),
    )
    call(W, "comparable_job_partitions(query_jobs)", lambda: eq.comparable_job_partitions(Q))
    call(W, "are_jobs_comparable(query_jobs)", lambda: eq.are_jobs_comparable(Q))
    call(W, "get_features(query_jobs)", lambda: eq.get_features(Q))

    # --- operations
    call(
        W,
        "get_procs(query_jobs, tags='op:hsmget', fmt='orm').count()",
        lambda: eq.get_procs(Q, tags="op:hsmget", fmt="orm").count(),
    )

    def op_hsmget():
        op = eq.Operation(Q, {"op": "hsmget"})
        return {
            "tags": op.tags,
            "processes.count()": op.processes.count(),
            "proc_sums": op.proc_sums,
            "duration": op.duration,
            "start": op.start,
            "finish": op.finish,
            "num_runs()": op.num_runs(),
            "contiguous()": op.contiguous(),
        }

    call(W, "Operation(query_jobs, {'op': 'hsmget'})", op_hsmget)
    for tags in ({"op": "timavg"},):
        for jl in (["685000"], ["685000", "685003"]):
            call(
                W,
                f"Operation({jl}, {tags}) [tags, duration, proc_sums]",
                lambda jl=jl, tags=tags: (
                    lambda op: {"tags": op.tags, "duration": op.duration, "proc_sums": op.proc_sums}
                )(eq.Operation(jl, tags)),
            )
    call(
        W,
        "sorted(Operation(['685000'], {'op': 'timavg'}).to_dict().keys())",
        lambda: sorted(eq.Operation(["685000"], {"op": "timavg"}).to_dict().keys()),
    )

    def ops_view(ops, full=False, keys=True):
        import hashlib

        out = []
        for o in ops:
            d = dict(o)
            if full:
                procs = d.pop("processes", [])
                ks = [pkey_by_id(r["id"]) for r in procs]
                d["processes.count"] = len(procs)
                d["processes.sorted_keys_sha256"] = hashlib.sha256(
                    "\n".join(sorted(ks)).encode()
                ).hexdigest()
                if keys:
                    d["processes.keys"] = ks
            out.append(d)
        return out

    call(
        W,
        f"get_ops(query_jobs, tags={DMOPS}, fmt='dict')",
        lambda: eq.get_ops(Q, tags=DMOPS, fmt="dict"),
    )
    call(
        W,
        "get_ops(query_jobs, tags=['op:hsmget'], full=True, fmt='dict') [processes as keys]",
        lambda: ops_view(eq.get_ops(Q, tags=["op:hsmget"], full=True, fmt="dict"), full=True),
    )
    call(
        W,
        "get_ops(query_jobs, 'op', full=True, fmt='dict') [processes: count + sha256 of sorted keys]",
        lambda: ops_view(eq.get_ops(Q, "op", full=True, fmt="dict"), full=True, keys=False),
    )
    call(
        W,
        "get_ops(query_jobs, 'op', combine=True, fmt='dict')",
        lambda: eq.get_ops(Q, "op", combine=True, fmt="dict"),
    )
    call(W, "get_ops(query_jobs, '', fmt='dict')", lambda: eq.get_ops(Q, "", fmt="dict"))
    call(
        W,
        "get_ops(query_jobs, 'op', combine=True, full=True, fmt='dict') [processes: count + sha256 of sorted keys]",
        lambda: ops_view(
            eq.get_ops(Q, "op", combine=True, full=True, fmt="dict"), full=True, keys=False
        ),
    )
    J2 = ["685000", "685003"]
    for m in ("sum", "sum-minus-overlap", "finish-minus-start"):
        call(
            W,
            f"get_ops(['685000', '685003'], tags=['op:timavg', 'op:ncks'], op_duration_method='{m}')",
            lambda m=m: eq.get_ops(J2, tags=["op:timavg", "op:ncks"], op_duration_method=m),
        )
    call(
        W,
        "get_ops(['685000', '685003'], tags=['op:timavg', 'op:ncks'], combine=True, fmt='orm') [to_dict()]",
        lambda: [
            o.to_dict()
            for o in eq.get_ops(J2, tags=["op:timavg", "op:ncks"], combine=True, fmt="orm")
        ],
    )
    call(
        W,
        "get_ops(['685000', '685003'], tags='op', combine=True)",
        lambda: eq.get_ops(J2, tags="op", combine=True),
    )

    def durations(rows):
        return [[r["jobid"], r["tags"], r["duration"]] for r in rows]

    for m in ("sum", "sum-minus-overlap", "finish-minus-start"):
        if m == "sum":
            call(
                W,
                "get_op_metrics(['685000', '685016'], fmt='dict', op_duration_method='sum')",
                lambda: eq.get_op_metrics(
                    ["685000", "685016"], fmt="dict", op_duration_method="sum"
                ),
            )
        else:  # only `duration` depends on the method
            call(
                W,
                f"get_op_metrics(['685000', '685016'], fmt='dict', op_duration_method='{m}') [jobid, tags, duration]",
                lambda m=m: durations(
                    eq.get_op_metrics(["685000", "685016"], fmt="dict", op_duration_method=m)
                ),
            )
        call(
            W,
            f"get_op_metrics(['685000', '685016'], tags='op_sequence:89', fmt='dict', op_duration_method='{m}')",
            lambda m=m: eq.get_op_metrics(
                ["685000", "685016"], tags="op_sequence:89", fmt="dict", op_duration_method=m
            ),
        )
        call(
            W,
            f"get_op_metrics(query_jobs, tags={DM}, fmt='dict', op_duration_method='{m}')",
            lambda m=m: eq.get_op_metrics(Q, tags=DM, fmt="dict", op_duration_method=m),
        )
        call(
            W,
            f"get_op_metrics(query_jobs, tags={DM}, group_by_tag=True, fmt='dict', op_duration_method='{m}')",
            lambda m=m: eq.get_op_metrics(
                Q, tags=DM, group_by_tag=True, fmt="dict", op_duration_method=m
            ),
        )
    call(
        W,
        "get_op_metrics(query_jobs, op_duration_method='bogus')",
        lambda: eq.get_op_metrics(Q, op_duration_method="bogus"),
    )
    call(W, "get_op_metrics(query_jobs, fmt='dict')", lambda: eq.get_op_metrics(Q, fmt="dict"))
    call(
        W,
        "get_op_metrics(query_jobs, group_by_tag=True, fmt='dict')",
        lambda: eq.get_op_metrics(Q, group_by_tag=True, fmt="dict"),
    )
    call(
        W,
        "get_op_metrics(query_jobs, tags=['op:hsmget', 'op:mv'], fmt='dict')",
        lambda: eq.get_op_metrics(Q, tags=["op:hsmget", "op:mv"], fmt="dict"),
    )
    call(
        W,
        "get_op_metrics(query_jobs, tags=['op:hsmget', 'op:mv'], group_by_tag=True, fmt='dict')",
        lambda: eq.get_op_metrics(Q, tags=["op:hsmget", "op:mv"], group_by_tag=True, fmt="dict"),
    )
    call(
        W,
        "get_op_metrics(jobs='685000', fmt='dict')",
        lambda: eq.get_op_metrics(jobs="685000", fmt="dict"),
    )
    call(W, "get_op_metrics([])", lambda: eq.get_op_metrics([]))
    call(
        W,
        "sum(j.cpu_time for j in get_jobs(query_jobs, fmt='orm'))",
        lambda: sum(j.cpu_time for j in eq.get_jobs(Q, fmt="orm")),
    )
    call(
        W,
        "sum(j.duration for j in get_jobs(query_jobs, fmt='orm'))",
        lambda: sum(j.duration for j in eq.get_jobs(Q, fmt="orm")),
    )
    call(
        W,
        f"ops_costs(query_jobs, tags={DM}, features=['cpu_time'])  # workbook's spelling",
        lambda: eq.ops_costs(Q, tags=DM, features=["cpu_time"]),
    )
    for metric in ("cpu_time", "duration"):
        call(
            W,
            f"ops_costs(query_jobs, tags={DM}, metric='{metric}')",
            lambda metric=metric: eq.ops_costs(Q, tags=DM, metric=metric),
        )
    call(W, "ops_costs(query_jobs) [default tags, metric='cpu_time']", lambda: eq.ops_costs(Q))
    for jl, tag in (
        (["685000"], "op:hsmget"),
        (Q, "op:hsmget"),
        (["685000", "685003"], "op_sequence:4"),
        (["685000"], "op:dmput"),
        (Q, "op_sequence:1"),
    ):
        call(
            W,
            f"op_roots({jl}, '{tag}', fmt='orm') [brief, order as returned]",
            lambda jl=jl, tag=tag: procs_brief(eq.op_roots(jl, tag, fmt="orm")),
        )
    call(W, "op_roots([], 'op_sequence:4')", lambda: eq.op_roots([], "op_sequence:4"))
    call(W, "op_roots(query_jobs, '')", lambda: eq.op_roots(Q, ""))

    # --- process queries
    call(
        W,
        "sorted(get_procs(['685000'], fmt='pandas').columns)",
        lambda: sorted(eq.get_procs(["685000"], fmt="pandas").columns.values),
    )
    call(
        W,
        "get_procs(['685000', '685016'], fmt='orm').count()",
        lambda: eq.get_procs(["685000", "685016"], fmt="orm").count(),
    )
    call(
        W,
        "len(get_procs(query_jobs, tags='op:cp;op_instance:11;op_sequence:66', fmt='dict'))",
        lambda: len(eq.get_procs(Q, tags="op:cp;op_instance:11;op_sequence:66", fmt="dict")),
    )
    call(
        W,
        "len(get_procs(tags='', fmt='terse')) [untagged procs, whole DB]",
        lambda: len(eq.get_procs(tags="", fmt="terse")),
    )
    call(
        W,
        "len(get_procs(query_jobs, tags={}, fmt='terse'))",
        lambda: len(eq.get_procs(Q, tags={}, fmt="terse")),
    )
    call(
        W,
        "job_proc_tags(get_jobs(query_jobs, fmt='orm'))",
        lambda: eq.job_proc_tags(eq.get_jobs(Q, fmt="orm")),
    )
    call(
        W,
        "job_proc_tags(['685000', '685016'], fold=False)",
        lambda: eq.job_proc_tags(["685000", "685016"], fold=False),
    )
    call(W, "job_proc_tags(query_jobs, fold=True)", lambda: eq.job_proc_tags(Q, fold=True))
    call(
        W,
        "job_proc_tags(query_jobs, exclude=['op_instance'])",
        lambda: eq.job_proc_tags(Q, exclude=["op_instance"]),
    )
    call(
        W,
        "job_proc_tags(query_jobs, tag_filter='op:cp')",
        lambda: eq.job_proc_tags(Q, tag_filter="op:cp"),
    )
    call(W, "job_proc_tags([], fold=False)", lambda: eq.job_proc_tags([], fold=False))
    call(W, "rank_proc_tags_keys(['685000'])", lambda: eq.rank_proc_tags_keys(["685000"]))
    call(
        W,
        "rank_proc_tags_keys(query_jobs, order='frequency')",
        lambda: eq.rank_proc_tags_keys(Q, order="frequency"),
    )
    call(
        W,
        "get_procs(query_jobs, tags={'op': 'ncatted'}, order=desc(Process.cpu_time), limit=10, fmt='dict')",
        lambda: dict_procs_brief(
            eq.get_procs(
                Q, tags={"op": "ncatted"}, order=eq.desc(Process.cpu_time), limit=10, fmt="dict"
            )
        ),
    )
    call(
        W,
        "get_procs(query_jobs, tags='op:ncatted;op_sequence:85', fltr=(Process.exename == 'ncatted'), order=desc(Process.duration), fmt='dict')",
        lambda: dict_procs_brief(
            eq.get_procs(
                Q,
                tags="op:ncatted;op_sequence:85",
                fltr=(Process.exename == "ncatted"),
                order=eq.desc(Process.duration),
                fmt="dict",
            )
        ),
    )
    call(
        W,
        "get_procs(query_jobs, limit=5, order=desc(Process.cpu_time), fmt='dict')",
        lambda: dict_procs_brief(
            eq.get_procs(Q, limit=5, order=eq.desc(Process.cpu_time), fmt="dict")
        ),
    )
    call(
        W,
        "sorted(get_procs(query_jobs, tags='op:ncatted;op_sequence:85', fmt='pandas').columns)",
        lambda: sorted(
            eq.get_procs(Q, tags="op:ncatted;op_sequence:85", fmt="pandas").columns.values
        ),
    )
    call(
        W,
        "compute_process_trees(['685000', '685003'])",
        lambda: eq.compute_process_trees(["685000", "685003"]),
    )
    call(
        W,
        "get_procs(['685000', '685003'], order=desc(Process.depth), limit=5, fmt='dict') [exename, pid, depth]",
        lambda: [
            [r["exename"], r["pid"], r["depth"]]
            for r in eq.get_procs(
                ["685000", "685003"], order=eq.desc(Process.depth), limit=5, fmt="dict"
            )
        ],
    )
    call(
        W,
        "max depth per query job",
        lambda: {
            j: eq.get_procs(j, order=eq.desc(Process.depth), limit=1, fmt="orm")[0].depth for j in Q
        },
    )
    call(
        W,
        "get_procs('685000', order=desc(Process.start), limit=1, fmt='orm')[0].depth",
        lambda: eq.get_procs("685000", order=eq.desc(Process.start), limit=1, fmt="orm")[0].depth,
    )

    def walk():
        eq.compute_process_trees(["685016"])
        procs = eq.get_procs("685016", order=eq.desc(Process.cpu_time), fmt="orm")[:10]
        p = procs[0]
        par = p.parent
        return {
            "[p.pid for p in procs]": [x.pid for x in procs],
            "p.exename, p.args, p.duration, len(p.children), p.numtids": [
                p.exename,
                p.args,
                p.duration,
                len(p.children),
                p.numtids,
            ],
            "parent.exename, parent.args, parent.pid, len(parent.children), len(parent.descendants)": [
                par.exename,
                par.args,
                par.pid,
                len(par.children),
                len(par.descendants),
            ],
            "p.threads_sums": p.threads_sums,
            "[a.pid for a in p.ancestors]": sorted(a.pid for a in p.ancestors),
        }

    call(W, "process tree walk on 685016 (top cpu_time process)", walk)

    def walk26860():
        p = eq.get_procs("685000", fltr=(Process.pid == 26860), fmt="orm").first()
        return {"parent.pid": p.parent.pid, "ancestors": sorted(a.pid for a in p.ancestors)}

    call(W, "685000 pid 26860 parent/ancestors", walk26860)

    def roots_view(jl):
        return [
            [r.exename, r.args, r.pid, r.ppid, r.start, pkey(r)]
            for r in eq.get_roots(jl, fmt="orm")
        ]

    call(
        W,
        "get_roots(['685000'], fmt='orm').count()",
        lambda: eq.get_roots(["685000"], fmt="orm").count(),
    )
    call(
        W,
        "get_roots(['685000'], fmt='orm') [exename, args, pid, ppid, start, key]",
        lambda: roots_view(["685000"]),
    )
    call(W, "get_roots(query_jobs) [pids]", lambda: [r.pid for r in eq.get_roots(Q, fmt="orm")])
    call(
        W,
        "root(['685000'], fmt='orm') [exename, args, pid, ppid, start, key]",
        lambda: (lambda r: [r.exename, r.args, r.pid, r.ppid, r.start, pkey(r)])(
            eq.root(["685000"], fmt="orm")
        ),
    )
    call(
        W,
        "root(query_jobs, fmt='orm') [pid, jobid, key]  # a collection: first process by start overall",
        lambda: (lambda r: [r.pid, r.jobid, pkey(r)])(eq.root(Q, fmt="orm")),
    )
    call(
        W,
        "root('685016') [pid, exename]",
        lambda: (lambda d: [d["pid"], d["exename"]])(eq.root("685016")),
    )
    call(
        W, "root('685016', fmt='pandas').shape", lambda: list(eq.root("685016", fmt="pandas").shape)
    )
    call(
        W,
        "root('685016', fmt='orm').descendants count",
        lambda: len(eq.root("685016", fmt="orm").descendants),
    )
    call(
        W,
        "procs_histogram(['685000'], attr='exename')",
        lambda: eq.procs_histogram(["685000"], attr="exename"),
    )
    call(
        W,
        "procs_histogram(['685000'], attr='numtids')",
        lambda: eq.procs_histogram(["685000"], attr="numtids"),
    )
    call(
        W,
        "procs_histogram(['685000', '685003'], metric='cpu_time')",
        lambda: eq.procs_histogram(["685000", "685003"], metric="cpu_time"),
    )
    call(W, "procs_set(['685000', '685003'])", lambda: eq.procs_set(["685000", "685003"]))
    call(
        W,
        "procs_set(['685000', '685003'], attr='host_id')",
        lambda: eq.procs_set(["685000", "685003"], attr="host_id"),
    )
    call(
        W,
        "timeline(query_jobs, fmt='dict', limit=25)",
        lambda: dict_procs_brief(eq.timeline(Q, fmt="dict", limit=25)),
    )
    call(
        W,
        "timeline(['685000', '685016'], limit=5, hosts=['pp313', 'pp208'], fmt='dict') [jobid, exename, start, host]",
        lambda: [
            [r["jobid"], r["exename"], r["start"], r["host"]]
            for r in eq.timeline(
                ["685000", "685016"], limit=5, hosts=["pp313", "pp208"], fmt="dict"
            )
        ],
    )

    # --- thread query
    def threads():
        r = eq.root("685000", fmt="orm")
        df = eq.get_thread_metrics(r)
        return {
            "root.pid": r.pid,
            "sorted(columns)": sorted(df.columns.values),
            "rows": [{k: v for k, v in row.items() if k != "process_pk"} for row in J(df)],
        }

    call(W, "get_thread_metrics(root('685000', fmt='orm'))", threads)

    def threads_multi():
        ps = list(
            eq.get_procs(
                "685000", fltr=(Process.numtids > 1), order=Process.start, limit=3, fmt="orm"
            )
        )
        df = eq.get_thread_metrics(*ps)
        return {"keys": [pkey(p) for p in ps], "rows": len(df), "tids": [int(t) for t in df["tid"]]}

    call(W, "get_thread_metrics(*first 3 multi-threaded procs of 685000)", threads_multi)

    # --- case study
    call(
        W,
        "get_procs('685016', order=desc(Process.inclusive_cpu_time), limit=10, fmt='dict')",
        lambda: dict_procs_brief(
            eq.get_procs("685016", order=eq.desc(Process.inclusive_cpu_time), limit=10, fmt="dict")
        ),
    )
    call(
        W,
        "get_procs('685016', order=desc(Process.cpu_time), limit=10, fmt='dict')",
        lambda: dict_procs_brief(
            eq.get_procs("685016", order=eq.desc(Process.cpu_time), limit=10, fmt="dict")
        ),
    )
    call(
        W,
        "get_procs(['685016'], tags='op:fregrid', order=desc(Process.inclusive_cpu_time), limit=10, fmt='dict')",
        lambda: dict_procs_brief(
            eq.get_procs(
                ["685016"],
                tags="op:fregrid",
                order=eq.desc(Process.inclusive_cpu_time),
                limit=10,
                fmt="dict",
            )
        ),
    )
    for j in Q:
        call(
            W,
            f"get_procs(['{j}'], fltr=(Process.exitcode > 0), fmt='orm').count()",
            lambda j=j: eq.get_procs([j], fltr=(Process.exitcode > 0), fmt="orm").count(),
        )

    def jobattrs():
        j = eq.get_jobs("685000", fmt="orm").first()
        return [j.duration, j.cpu_time, j.exitcode, j.tags]

    call(W, "get_jobs('685000', fmt='orm').first() [duration, cpu_time, exitcode, tags]", jobattrs)

    # --- conversions
    def conv():
        out = {}
        for inform in ("terse", "dict", "pandas", "orm"):
            procs = eq.get_procs("685000", order=Process.start, fmt=inform)
            n = procs.count() if inform == "orm" else len(procs)
            outs = {}
            for outform in ("terse", "dict", "pandas", "orm"):
                p2 = eq.conv_procs(procs, fmt=outform)
                outs[outform] = p2.count() if outform == "orm" else len(p2)
            out[inform] = {"count": n, "conv_procs counts": outs}
        return out

    call(W, "conv_procs(get_procs('685000', order=Process.start, fmt=IN), fmt=OUT) counts", conv)
    call(W, "conv_procs([])", lambda: eq.conv_procs([]))
    call(W, "conv_procs(None)", lambda: eq.conv_procs(None))
    call(W, "conv_jobs([])", lambda: eq.conv_jobs([]))
    call(
        W,
        "conv_jobs(['685000', '685003'], fmt='terse')",
        lambda: eq.conv_jobs(["685000", "685003"], fmt="terse"),
    )

    # --- annotations (workbook uses 629337; we use 685000)
    A = "685000"
    seq = [
        ("get_job_annotations('685000')", lambda: eq.get_job_annotations(A)),
        ("annotate_job('685000', {'abc': 100})", lambda: eq.annotate_job(A, {"abc": 100})),
        ("get_job_annotations('685000') #2", lambda: eq.get_job_annotations(A)),
        ("annotate_job('685000', {'def': 200})", lambda: eq.annotate_job(A, {"def": 200})),
        ("get_job_annotations('685000') #3", lambda: eq.get_job_annotations(A)),
        ("annotate_job('685000', {'abc': 500})", lambda: eq.annotate_job(A, {"abc": 500})),
        (
            "get_jobs(annotations={'abc': 500}, fmt='terse')",
            lambda: eq.get_jobs(annotations={"abc": 500}, fmt="terse"),
        ),
        (
            "annotate_job('685000', {'my_key': 'something new'}, replace=True)",
            lambda: eq.annotate_job(A, {"my_key": "something new"}, replace=True),
        ),
        ("get_job_annotations('685000') #4", lambda: eq.get_job_annotations(A)),
        ("remove_job_annotations('685000')", lambda: eq.remove_job_annotations(A)),
        ("get_job_annotations('685000') #5", lambda: eq.get_job_annotations(A)),
        (
            "annotate_job('685016', 'abc:200;def:bye')",
            lambda: eq.annotate_job("685016", "abc:200;def:bye"),
        ),
        (
            "get_jobs(annotations={'abc': '200'}, fmt='terse')",
            lambda: eq.get_jobs(annotations={"abc": "200"}, fmt="terse"),
        ),
        ("tag_job('685016', 'extra:1')", lambda: eq.tag_job("685016", "extra:1")),
        (
            "tag_job('685016', <original tags>, replace=True)",
            lambda: eq.tag_job(
                "685016",
                {k: v for k, v in Job["685016"].tags.items() if k != "extra"},
                replace=True,
            ),
        ),
    ]
    W["annotations_sequence"] = {}
    for k, fn in seq:
        call(W["annotations_sequence"], k, fn)

    # --- analyses
    S = {}
    call(S, "get_unanalyzed_jobs()", lambda: eq.get_unanalyzed_jobs())
    call(S, "get_unanalyzed_jobs(query_jobs)", lambda: eq.get_unanalyzed_jobs(Q))
    call(S, "analyze_pending_jobs(query_jobs)", lambda: eq.analyze_pending_jobs(Q))
    call(
        S,
        "set_job_analyses('685000', {'outlier_detection': 1})",
        lambda: eq.set_job_analyses("685000", {"outlier_detection": 1}),
    )
    call(S, "get_unanalyzed_jobs(query_jobs) #2", lambda: eq.get_unanalyzed_jobs(Q))
    call(
        S,
        "get_jobs(analyses={'outlier_detection': 1}, fmt='terse')",
        lambda: eq.get_jobs(analyses={"outlier_detection": 1}, fmt="terse"),
    )
    call(S, "remove_job_analyses('685000')", lambda: eq.remove_job_analyses("685000"))
    call(S, "analyze_jobs(query_jobs)", lambda: eq.analyze_jobs(Q))
    for j in Q:
        call(S, f"get_job_analyses('{j}')", lambda j=j: eq.get_job_analyses(j))
    call(S, "get_unanalyzed_jobs(query_jobs) #3", lambda: eq.get_unanalyzed_jobs(Q))
    call(S, "get_unanalyzed_jobs() #2", lambda: eq.get_unanalyzed_jobs())
    W["analyses_sequence"] = S

    # --- deletion (last: it empties the DB)
    D = {}
    call(D, "len(get_jobs(fmt='terse'))", lambda: len(eq.get_jobs(fmt="terse")))
    call(
        D,
        "delete_jobs(['685000', '685003'])  # several, no force",
        lambda: eq.delete_jobs(["685000", "685003"]),
    )
    call(D, "delete_jobs('685016')  # single, no force", lambda: eq.delete_jobs("685016"))
    call(
        D,
        "get_jobs(query_jobs, fmt='terse') after single delete",
        lambda: eq.get_jobs(Q, fmt="terse"),
    )
    call(D, "delete_jobs('685016') again", lambda: eq.delete_jobs("685016"))
    call(
        D,
        "delete_jobs(['685000', '685003'], force=True)",
        lambda: eq.delete_jobs(["685000", "685003"], force=True),
    )
    call(D, "get_jobs(fmt='terse') after deletes", lambda: eq.get_jobs(fmt="terse"))
    call(
        D, "delete_jobs([], force=True, after=-7)", lambda: eq.delete_jobs([], force=True, after=-7)
    )
    call(
        D,
        "delete_jobs([], force=True, before='01/21/2018 09:55')",
        lambda: eq.delete_jobs([], force=True, before="01/21/2018 09:55"),
    )
    call(
        D,
        "delete_jobs([], force=True, before=-30)  # removes every other loaded sample job",
        lambda: eq.delete_jobs([], force=True, before=-30),
    )
    call(D, "len(get_jobs(fmt='terse')) at end", lambda: len(eq.get_jobs(fmt="terse")))
    call(D, "get_procs(fmt='orm').count() at end", lambda: eq.get_procs(fmt="orm").count())
    W["delete_sequence"] = D
    return W


_ID2KEY = {}


def pkey_by_id(pid):
    from epmt.orm import Process
    from epmt.orm.sqlalchemy.general import Session

    if pid not in _ID2KEY:
        _ID2KEY[pid] = pkey(Session.query(Process).get(pid))
    return _ID2KEY[pid]


# ---------------------------------------------------------------- sections
def record_section(eq, settings, tmp, out, epmt_version, section):
    """Load the query jobs alone and write ``section``'s answers (a module of this folder:
    api_gaps or records_answers, with its ``record(eq)``) to ``out``."""
    import importlib

    module = importlib.import_module(section)
    for rel in QUERY_ARCHIVES:
        r = submit_one(stage_copy(rel, tmp / "samples"), settings)
        if not r["ok"]:
            raise SystemExit(f"EPMT refused {rel}: {r}")
    post_process_all()
    result = {
        "_about": {
            "epmt_version": epmt_version,
            "python_version": platform.python_version(),
            "query_jobs": QUERY_JOBS,
            "loaded": "the query jobs only",
            "generator": f"benchmarks/epmt_ref/{section}.py through answers.py --only "
            "(PYTHONHASHSEED=0)",
            "doc": module.__doc__,
        },
        **module.record(eq),
    }
    write_fixture(out, result)


# ---------------------------------------------------------------- main
def only_refmodels(args):
    """Load the test graph's sample jobs and record refmodels_answers.refmodels()."""
    from refmodels_answers import ARCHIVES, refmodels

    out = Path(
        args.out if args.out != str(DEFAULT_OUT) else DEFAULT_OUT.with_name("refmodels.json")
    )
    with scratch_epmt(args.keep_tmp) as (eq, settings, tmp):
        import importlib.metadata as md

        subs = submit_samples(ARCHIVES, tmp, settings)
        post_process_all()
        result = {
            "_about": {
                "epmt_version": md.version("epmt"),
                "generator": "benchmarks/epmt_ref/answers.py --only refmodels "
                "(benchmarks/epmt_ref/refmodels_answers.py, PYTHONHASHSEED=0)",
                "archives": ARCHIVES,
                "volatile": f"created_at/updated_at are '{VOLATILE}'",
                "conventions": "as answers.json; a create call is {'answer': ..., 'stderr': ...}",
            },
            "loaded_jobs": eq.get_jobs(fmt="terse"),
            "refused": {k: v for k, v in subs.items() if not v["ok"]},
            "calls": refmodels(eq, J, call, VOLATILE),
        }
        write_fixture(out, result, refused=result["refused"])


def only_deletes(args):
    """Load deletes_answers.ARCHIVES alone and record each of its STEPS, in order."""
    import logging

    from deletes_answers import ARCHIVES, CUTOFFS, STEPS, namespace, run
    from epmt.orm import Job
    from epmt.orm.sqlalchemy.general import Session

    out = Path(args.out or DEFAULT_OUT.with_name("deletes.json"))
    with scratch_epmt(args.keep_tmp) as (eq, settings, tmp):
        import importlib.metadata as md

        subs = submit_samples(ARCHIVES, tmp, settings)
        post_process_all()
        today = _dt.date.today()
        names = namespace(eq, Job, today)
        loaded = eq.get_jobs(fmt="terse")
        times = {j["jobid"]: [J(j["start"]), J(j["end"])] for j in eq.get_jobs(fmt="dict")}
        logged = []
        handler = logging.Handler(logging.WARNING)
        handler.emit = lambda record: logged.append(record.getMessage())
        epmt_log = logging.getLogger("epmt.epmt_query")
        epmt_log.addHandler(handler)
        epmt_log.setLevel(logging.WARNING)
        steps = []
        for step in STEPS:
            logged.clear()
            entry = {"call": step}
            try:
                entry["answer"] = J(run(step, names))
            except Exception as e:  # record EPMT's failure, keep going
                entry["error"] = err(e)["error"]
                entry["error_bases"] = sorted(
                    c.__name__ for c in type(e).__mro__ if c.__module__ == "builtins"
                )
                Session.rollback()
            entry["warnings"] = list(logged)
            entry["jobs_left"] = eq.get_jobs(fmt="terse", trigger_post_process=False)
            entry["models_left"] = len(eq.get_refmodels(fmt="terse"))
            steps.append(entry)
        epmt_log.removeHandler(handler)
        result = {
            "_about": {
                "epmt_version": md.version("epmt"),
                "python_version": platform.python_version(),
                "generator": "benchmarks/epmt_ref/answers.py --only deletes "
                "(benchmarks/epmt_ref/deletes_answers.py, PYTHONHASHSEED=0)",
                "archives": ARCHIVES,
                "today": today.isoformat(),
                "cutoffs": CUTOFFS,
                "conventions": "a step: its call's answer, or error ('<Type>: <message>') with "
                "the builtin classes of the error; the warnings EPMT logged; the jobs and the "
                "number of models left after it",
            },
            "loaded_jobs": loaded,
            "refused": {k: v for k, v in subs.items() if not v["ok"]},
            "start_end": times,
            "steps": steps,
        }
        write_fixture(out, result, refused=result["refused"])


def only_explore(args):
    """Load the test graph's sample jobs, record explore_answers.STEPS; add EPMT's
    outliers_nb jobs, record explore_answers.NB_STEPS."""
    import epmt.epmt_exp_explore as exp
    import numpy as np
    from epmt.epmtlib import get_install_root
    from explore_answers import ARCHIVES, NB_ARCHIVES, NB_STEPS, STEPS, record

    out = Path(args.out or DEFAULT_OUT.with_name("explore.json"))
    with scratch_epmt(args.keep_tmp) as (eq, settings, tmp):
        import importlib.metadata as md

        subs = submit_samples(ARCHIVES, tmp, settings)
        post_process_all()
        loaded = eq.get_jobs(fmt="terse")
        steps = record(exp, np, J, STEPS)
        wheel_data = Path(get_install_root()) / "test" / "data"
        for rel in NB_ARCHIVES:
            staged = tmp / "samples" / rel
            staged.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(wheel_data / rel, staged)
            subs[rel] = submit_one(str(staged), settings)
        post_process_all()
        result = {
            "_about": {
                "epmt_version": md.version("epmt"),
                "python_version": platform.python_version(),
                "numpy_version": md.version("numpy"),
                "scipy_version": md.version("scipy"),
                "generator": "benchmarks/epmt_ref/answers.py --only explore "
                "(benchmarks/epmt_ref/explore_answers.py, PYTHONHASHSEED=0)",
                "archives": ARCHIVES,
                "nb_archives": NB_ARCHIVES,
                "conventions": "a step: its call's answer (an OrderedDict as its [key, value] "
                "items), or error ('<Type>: <message>') with the builtin classes of the error; "
                "what it printed; the warnings EPMT logged",
            },
            "loaded_jobs": loaded,
            "nb_loaded_jobs": eq.get_jobs(fmt="terse"),
            "refused": {k: v for k, v in subs.items() if not v["ok"]},
            "steps": steps,
            "nb_steps": record(exp, np, J, NB_STEPS),
        }
        write_fixture(out, result, refused=result["refused"])


def only_outliers(args):
    """Load outliers_answers.ARCHIVES and the kern jobs alone and record each of its STEPS."""
    import hashlib
    import time

    import epmt.epmt_outliers as eod
    import epmt.epmt_stat as es
    from epmt.epmtlib import get_install_root
    from epmt.orm import Job, Process
    from epmt.orm.sqlalchemy.general import Session
    from outliers_answers import ARCHIVES, CONVENTIONS, KERN, KERN_TZ, namespace, record

    out = Path(args.out or DEFAULT_OUT.with_name("outliers.json"))
    began = time.monotonic()
    with scratch_epmt(args.keep_tmp) as (eq, settings, tmp):
        import importlib.metadata as md

        subs = submit_samples(ARCHIVES, tmp, settings)
        kern_dir = Path(get_install_root()) / "test" / "data" / "outliers"
        os.environ["EPMT_TZ"] = KERN_TZ
        try:
            for name in KERN:
                subs[f"{name}.tgz"] = submit_one(str(kern_dir / f"{name}.tgz"), settings)
        finally:
            del os.environ["EPMT_TZ"]
        post_process_all()
        loaded = time.monotonic()
        steps = record(namespace(eq, eod, es, Job, Process), err, Session.rollback)
        seconds = {"load": round(loaded - began, 1), "steps": round(time.monotonic() - loaded, 1)}
        result = {
            "_about": {
                "epmt_version": md.version("epmt"),
                "python_version": platform.python_version(),
                "pandas_version": md.version("pandas"),
                "generator": "benchmarks/epmt_ref/answers.py --only outliers "
                "(benchmarks/epmt_ref/outliers_answers.py, PYTHONHASHSEED=0)",
                "archives": ARCHIVES,
                "kern": KERN,
                "kern_tz": KERN_TZ,
                "kern_sha256": {
                    name: hashlib.sha256((kern_dir / f"{name}.tgz").read_bytes()).hexdigest()
                    for name in KERN
                },
                "conventions": CONVENTIONS,
            },
            "loaded_jobs": eq.get_jobs(fmt="terse"),
            "refused": {k: v for k, v in subs.items() if not v["ok"]},
            "kern_start_end": {
                j["jobid"]: [J(j["start"]), J(j["end"])] for j in eq.get_jobs(KERN, fmt="dict")
            },
            "steps": steps,
        }
        write_fixture(out, result, refused=result["refused"], seconds=seconds)


def write_fixture(out, result, **report):
    """Write ``result`` to ``out`` (pretty JSON) and print where, its size and ``report``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dumps_pretty(result) + "\n", encoding="utf-8")
    print(json.dumps({"out": str(out), "bytes": out.stat().st_size, **report}))


def main(argv=None):
    if os.environ.get("PYTHONHASHSEED") != "0":
        # EPMT builds several lists from sets of strings (e.g. the tags of get_ops(jobs, 'op')),
        # so their order follows the string hash seed: pin it for a reproducible fixture
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]])
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", help=f"default: {DEFAULT_OUT} ({API_GAPS_OUT} with --only api_gaps)")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (DB + copies)")
    ap.add_argument(
        "--only",
        choices=["refmodels", "api_gaps", "deletes", "records", "explore", "outliers"],
        help="record one section alone into its own file (refmodels: "
        "tests/fixtures/epmt/refmodels.json; api_gaps, on the query jobs: api_gaps.json; "
        "deletes, on its own jobs: deletes.json; records, on the query jobs: records.json; "
        "explore, on the test graph's jobs and EPMT's outliers_nb jobs: explore.json; "
        "outliers, on the kern and query/submit jobs: outliers.json)",
    )
    args = ap.parse_args(argv)
    if args.only == "refmodels":
        return only_refmodels(args)
    if args.only == "deletes":
        return only_deletes(args)
    if args.only == "explore":
        return only_explore(args)
    if args.only == "outliers":
        return only_outliers(args)

    with scratch_epmt(args.keep_tmp) as (eq, settings, tmp):
        import importlib.metadata as md

        if args.only in ("api_gaps", "records"):
            section, default = {
                "api_gaps": ("api_gaps", API_GAPS_OUT),
                "records": ("records_answers", RECORDS_OUT),
            }[args.only]
            out = Path(args.out or default)
            record_section(eq, settings, tmp, out, md.version("epmt"), section)
            return

        stage = tmp / "samples"
        result = {
            "_about": {
                "epmt_version": md.version("epmt"),
                "python_version": platform.python_version(),
                "pandas_version": md.version("pandas"),
                "sqlalchemy_version": md.version("SQLAlchemy"),
                "date": _dt.date.today().isoformat(),
                "db": "sqlite (fresh temp file), EPMT default settings: bulk_insert=True, "
                "post_process_job_on_ingest=False, lazy_compute_process_tree=True",
                "samples": str(SAMPLES),
                "query_jobs": QUERY_JOBS,
                "process_key": "f'{host}:{pid}:{start_us}', start_us = raw papiex start (us since epoch, UTC)",
                "datetimes": "ISO strings as EPMT returns them: naive, in the job's zone (US/Eastern here)",
                "volatile": f"{sorted(VOLATILE_KEYS)} values are replaced by '{VOLATILE}'",
                "conventions": "sets -> sorted lists, tuples -> lists, NaN -> null, dict keys -> str; "
                "a failing call -> {'error': ..., 'traceback_tail': [...]}",
                "generator": "benchmarks/epmt_ref/answers.py (PYTHONHASHSEED=0)",
                "processes_table": "jobs.<id>.processes.rows: key -> [depth, cpu_time, inclusive_cpu_time, "
                "len(children), len(descendants), parent key, exename], after compute_process_trees",
                "tz_retry": f"an archive refused with 'do not fall within job interval' is retried with "
                f"EPMT_TZ={RETRY_TZ} and recorded under '<archive> [EPMT_TZ={RETRY_TZ}]'",
                "order_note": "lists EPMT builds from sets (get_ops tag expansion, get_job_tags/job_proc_tags "
                "folds, procs_histogram keys) have hash-dependent order: compare them as sets",
                "semantics_notes": [
                    "get_roots(jobs): processes whose parent is NULL after the tree build, ordered by start",
                    "root(job): the first process by start among ALL processes of the job(s) (a list of jobs "
                    "gives one process overall), not a parentless one by construction",
                    "op_roots(jobs, tag): tagged processes whose parent exists and is not tagged; it INNER JOINs "
                    "on the parent, so a tagged process with no parent (e.g. the job root) is never an op root; "
                    "ordered by jobid, start",
                    "process tree: parent = process with pid == ppid over the WHOLE job (all hosts); on pid "
                    "reuse the earliest-starting candidate whose end > child start",
                ],
            }
        }

        subs = {}
        for rel in QUERY_ARCHIVES + OTHER_ARCHIVES:
            path = stage_copy(rel, stage)
            before = set(eq.get_jobs(fmt="terse", trigger_post_process=False))
            r = submit_one(path, settings)
            after = set(eq.get_jobs(fmt="terse", trigger_post_process=False))
            r["jobs_added_to_db"] = sorted(after - before)
            subs[rel] = r
            if not r["ok"] and "do not fall within job interval" in r.get("error", ""):
                # recorded in another zone? EPMT reads EPMT_TZ when the job env has no TZ
                os.environ["EPMT_TZ"] = RETRY_TZ
                try:
                    r2 = submit_one(path, settings)
                finally:
                    del os.environ["EPMT_TZ"]
                after2 = set(eq.get_jobs(fmt="terse", trigger_post_process=False))
                r2["jobs_added_to_db"] = sorted(after2 - after)
                subs[f"{rel} [EPMT_TZ={RETRY_TZ}]"] = r2
        result["submissions"] = subs
        result["post_process_pending_jobs()"] = post_process_all()

        loaded = eq.get_jobs(fmt="terse")
        result["loaded_jobs"] = loaded
        jobs = {}
        for j in loaded:
            jobs[j] = job_record(eq, j)
        result["jobs"] = jobs
        result["facts"] = facts(eq)
        result["workbook"] = workbook(eq, loaded)

        out = Path(args.out or DEFAULT_OUT)
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", encoding="utf-8") as f:
            f.write(dumps_pretty(result) + "\n")
        bad = {k: v for k, v in result["facts"].items() if not v["ok"]}
        print(
            json.dumps(
                {
                    "out": str(out),
                    "bytes": out.stat().st_size,
                    "loaded_jobs": loaded,
                    "refused": {
                        k: v.get("error") or v.get("message")
                        for k, v in subs.items()
                        if not v["ok"]
                    },
                    "facts_failed": bad,
                },
                indent=1,
                default=str,
            )
        )


if __name__ == "__main__":
    main()
