"""Time the real EPMT 5.0.1 from one archive to answers: submit, post-process, roots, op roots.

Run with the EPMT venv's python (see setup_venv.sh), once per round (a fresh process and a
fresh SQLite every time):

    $(bash benchmarks/epmt_ref/setup_venv.sh) benchmarks/epmt_ref/archive_timing.py \
        ARCHIVE --ops hsmget,cp,... [--warmup SMALL_ARCHIVE]

Untimed first: EPMT's imports and its schema on a fresh SQLite file (``epmt_db.open_epmt``),
a copy of the archive, and with ``--warmup`` one pass of every timed step on another, small
archive, so that EPMT's code paths are warm as ours are (its database then holds that small
job too). Timed, each with time.perf_counter, on ARCHIVE:

  submit            EPMT's `epmt submit` path (submit_dir_or_tgz_to_db)
  post_process      epmt_job.post_process_pending_jobs() (what `epmt daemon --post-process`
                    runs: sums, hosts, tags, the rows moved out of staging)
  process_trees     epmt_query.compute_process_trees([job]) (parents, depth, inclusive CPU),
                    which get_roots would otherwise run on its first call
  get_roots         eq.get_roots(job)               (EPMT's default fmt, 'dict')
  op_roots          eq.op_roots(job, 'op:<v>') for each value of --ops, one by one

Prints exactly one JSON object on stdout; EPMT's own chatter goes to stderr.
"""

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from epmt_db import open_epmt, post_process_all, submit_one


def staged(src, tmp):
    """A copy of ``src`` in ``tmp`` (EPMT is told not to move or remove it anyway)."""
    dst = Path(tmp) / "in" / Path(src).name
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)
    return str(dst)


def to_answers(eq, path, settings, ops):
    """Submit ``path`` and ask its roots and op roots; seconds per step and the answers' sizes."""
    seconds = {}
    t0 = time.perf_counter()
    done = submit_one(path, settings)
    seconds["submit"] = time.perf_counter() - t0
    if not done["ok"]:
        raise RuntimeError(f"EPMT refused {path}: {done.get('error') or done.get('message')}")
    jobid = done["jobid"]
    t0 = time.perf_counter()
    post_process_all()
    seconds["post_process"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    eq.compute_process_trees([jobid])
    seconds["process_trees"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    roots = eq.get_roots(jobid)
    seconds["get_roots"] = time.perf_counter() - t0
    each = {}
    sizes = {}
    for op in ops:
        t0 = time.perf_counter()
        found = eq.op_roots(jobid, f"op:{op}")
        each[op] = time.perf_counter() - t0
        sizes[op] = len(found)
    seconds["op_roots"] = sum(each.values())
    seconds["total"] = sum(seconds.values())
    return {
        "jobid": jobid,
        "processes": done["processes"],
        "seconds": seconds,
        "op_roots_seconds": each,
        "answers": {"roots": len(roots), "op_roots": sizes},
    }


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("archive", help="the job's .tgz archive")
    ap.add_argument("--ops", default="", help="op tag values, comma-separated")
    ap.add_argument("--warmup", help="a small archive to run every step on first, untimed")
    ap.add_argument("--warmup-ops", default="", help="op values of the warm-up archive")
    args = ap.parse_args(argv)
    ops = [v for v in args.ops.split(",") if v]

    real_stdout = sys.stdout
    tmp = Path(tempfile.mkdtemp(prefix="epmt_archive_timing_"))
    try:
        with contextlib.redirect_stdout(sys.stderr):
            # errors only: logging skews timings
            eq, settings = open_epmt(tmp / "epmt.sqlite", verbose=-1, fresh=True)
            if args.warmup:
                warm_ops = [v for v in args.warmup_ops.split(",") if v]
                to_answers(eq, staged(args.warmup, tmp / "warm"), settings, warm_ops)
            result = to_answers(eq, staged(args.archive, tmp), settings, ops)
            import importlib.metadata as md

            result["epmt_version"] = md.version("epmt")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    real_stdout.write(json.dumps(result, sort_keys=True) + "\n")
    real_stdout.flush()


if __name__ == "__main__":
    main()
