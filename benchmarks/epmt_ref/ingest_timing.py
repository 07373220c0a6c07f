"""Time the real EPMT 5.0.1: ingest phases and warm query latencies.

Run with the EPMT venv's python (see setup_venv.sh):

    $(bash benchmarks/epmt_ref/setup_venv.sh) benchmarks/epmt_ref/ingest_timing.py \
        [--repeat 20] [--repeat-slow 3] [--tag op:hsmget] ARCHIVE_OR_JOBDIR...

Uses a fresh sqlite DB in a temp dir and copies of the inputs (copying is not
timed). Prints exactly one JSON object on stdout; EPMT's own chatter goes to stderr.

Phases, each timed with time.perf_counter:
  submit            EPMT's `epmt submit` path (submit_dir_or_tgz_to_db) per input
  post_process      epmt_job.post_process_pending_jobs() (proc_sums, hosts, tags);
                    EPMT defers it (post_process_job_on_ingest=False) until first query
  process_trees     epmt_query.compute_process_trees(jobs) (parent/child, ancestors,
                    depth, inclusive_cpu_time; lazy_compute_process_tree=True)
Warm queries (skipped with --ingest-only; one untimed warm-up call, then N timed repeats, pooled over the jobs):
  get_roots(job), root(job), op_roots(job, 'op:<v>') for every op value of the job,
  op_roots(all_jobs, TAG), len(root(job).descendants) (relationship re-loaded each time),
  get_procs(job, tags=TAG, order=desc(Process.duration), fmt='dict'),
  get_op_metrics(job) (all tags of the job; --repeat-slow times).
"""

import argparse
import contextlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from epmt_db import open_epmt, post_process_all, submit_one


def pct(samples, q):
    s = sorted(samples)
    if not s:
        return None
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def stats_ms(samples):
    ms = [x * 1000.0 for x in samples]
    return (
        {
            "n": len(ms),
            "p50_ms": round(pct(ms, 0.50), 3),
            "p95_ms": round(pct(ms, 0.95), 3),
            "mean_ms": round(statistics.fmean(ms), 3),
            "max_ms": round(max(ms), 3),
        }
        if ms
        else {"n": 0}
    )


def timed(fn, repeat, warmup=True):
    if warmup:
        fn()
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def warm_queries(eq, Process, Session, jobs, args, result):
    """Time the warm queries into ``result`` (``query_tag``, ``latency``, ``repeat``)."""
    op_values = {j: sorted(eq.job_proc_tags(j, fold=True).get("op", []) or []) for j in jobs}
    op_values = {j: ([v] if isinstance(v, str) else v) for j, v in op_values.items()}
    tag = args.tag
    if tag is None:
        counts = {}
        for vs in op_values.values():
            for v in vs:
                counts[v] = counts.get(v, 0) + 1
        tag = f"op:{max(sorted(counts), key=lambda v: counts[v])}" if counts else ""
    result["query_tag"] = tag
    R, RS = args.repeat, args.repeat_slow
    lat = {
        k: []
        for k in (
            "get_roots(job)",
            "root(job)",
            "op_roots(job, op:<each value>)",
            "op_roots(all_jobs, tag)",
            "len(root(job).descendants)",
            "get_procs(job, tags=tag, order=desc(Process.duration), fmt='dict')",
            "get_op_metrics(job)",
        )
    }
    for j in jobs:
        lat["get_roots(job)"] += timed(lambda: [p.pid for p in eq.get_roots(j, fmt="orm")], R)
        lat["root(job)"] += timed(lambda: eq.root(j, fmt="orm").pid, R)
        for v in op_values[j]:
            lat["op_roots(job, op:<each value>)"] += timed(
                lambda v=v: [p.pid for p in eq.op_roots(j, f"op:{v}", fmt="orm")], R
            )

        def n_desc():
            r = eq.root(j, fmt="orm")
            Session.expire(r, ["descendants"])  # force the relationship to be re-read
            return len(r.descendants)

        lat["len(root(job).descendants)"] += timed(n_desc, R)
        if tag:
            lat["get_procs(job, tags=tag, order=desc(Process.duration), fmt='dict')"] += timed(
                lambda: eq.get_procs(j, tags=tag, order=eq.desc(Process.duration), fmt="dict"),
                R,
            )
        if op_values[j]:
            lat["get_op_metrics(job)"] += timed(lambda: eq.get_op_metrics(j), RS)
    if tag:
        lat["op_roots(all_jobs, tag)"] += timed(
            lambda: [p.pid for p in eq.op_roots(jobs, tag, fmt="orm")], R
        )
    result["latency"] = {k: stats_ms(v) for k, v in lat.items()}
    result["repeat"] = {"fast": R, "slow": RS}


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("inputs", nargs="+", help=".tgz archives or job directories")
    ap.add_argument(
        "--repeat", type=int, default=20, help="timed repeats per fast query (default 20)"
    )
    ap.add_argument(
        "--repeat-slow", type=int, default=3, help="timed repeats of get_op_metrics (default 3)"
    )
    ap.add_argument(
        "--tag",
        default=None,
        help="tag for the cross-job op_roots and get_procs queries "
        "(default: the op value shared by most jobs)",
    )
    ap.add_argument(
        "--ingest-only", action="store_true", help="time the ingest phases, not the queries"
    )
    ap.add_argument("--keep-tmp", action="store_true")
    args = ap.parse_args(argv)

    real_stdout = sys.stdout
    tmp = Path(tempfile.mkdtemp(prefix="epmt_timing_"))
    result = {"tool": "epmt", "inputs": args.inputs}
    try:
        with contextlib.redirect_stdout(sys.stderr):
            # errors only: logging would skew timings
            eq, settings = open_epmt(tmp / "epmt.sqlite", verbose=-1, fresh=True)
            import importlib.metadata as md
            import platform

            from epmt.orm import Process
            from epmt.orm.sqlalchemy.general import Session

            result["epmt_version"] = md.version("epmt")
            result["python_version"] = platform.python_version()

            # stage copies (untimed); EPMT is told not to move/remove them anyway
            staged = []
            for i, src in enumerate(args.inputs):
                src = Path(src)
                dst = tmp / "in" / f"{i:03d}_{src.name}"
                dst.parent.mkdir(parents=True, exist_ok=True)
                if src.is_dir():
                    shutil.copytree(src, dst)
                    staged.append(str(dst) + "/")
                else:
                    shutil.copy2(src, dst)
                    staged.append(str(dst))

            # ---- phases
            per_input = []
            t0 = time.perf_counter()
            for src, path in zip(args.inputs, staged, strict=False):
                t = time.perf_counter()
                r = submit_one(path, settings)
                per_input.append(
                    {
                        "input": src,
                        "ok": r["ok"],
                        "jobid": r.get("jobid"),
                        "processes": r.get("processes", 0),
                        "seconds": time.perf_counter() - t,
                        **({"error": r.get("error") or r.get("message")} if not r["ok"] else {}),
                    }
                )
            t_submit = time.perf_counter() - t0

            t0 = time.perf_counter()
            post_process_all()
            t_pp = time.perf_counter() - t0

            jobs = eq.get_jobs(fmt="terse")
            t0 = time.perf_counter()
            eq.compute_process_trees(jobs)
            t_tree = time.perf_counter() - t0

            nproc = sum(x["processes"] for x in per_input if x["ok"])
            total = t_submit + t_pp + t_tree
            result.update(
                {
                    "jobs": jobs,
                    "per_input": per_input,
                    "processes": nproc,
                    "seconds": {
                        "submit": t_submit,
                        "post_process": t_pp,
                        "process_trees": t_tree,
                        "total": total,
                    },
                    "processes_per_second": {
                        "submit": nproc / t_submit if t_submit else None,
                        "total": nproc / total if total else None,
                    },
                }
            )

            if not args.ingest_only:
                warm_queries(eq, Process, Session, jobs, args, result)
    finally:
        if args.keep_tmp:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    real_stdout.write(json.dumps(result, sort_keys=True) + "\n")
    real_stdout.flush()


if __name__ == "__main__":
    main()
