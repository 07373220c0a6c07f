"""Time the real EPMT 5.0.1's outlier detection on the outlier benchmark's job set.

Run with the EPMT venv's python (see setup_venv.sh); ``benchmarks/bench_outliers.py``
drives it. ``SET`` is a job set's cache directory (``benchmarks/outliers_data.py``:
``manifest.json``, ``archives/``):

    $(bash benchmarks/epmt_ref/setup_venv.sh) benchmarks/epmt_ref/outliers_timing.py ingest SET
        Unless SET/epmt.sqlite exists: submits copies of the archives (EPMT's `epmt submit`
        path, one at a time, as ingest_timing.py), post-processes them, creates the
        reference models `bench-outliers-jobs` and `bench-outliers-ops` (create_refmodel on
        the manifest's model_jobs, without op_tags and with op_tags='*', EPMT's default
        features and methods) and moves the database to
        SET/epmt.sqlite, so that later runs re-ingest nothing; its timings go to
        SET/epmt_ingest.json. One JSON line on stdout (with "cached": true and the earlier
        timings when the database was there already).

    ... outliers_timing.py serve SET
        Copies SET/epmt.sqlite to a temp dir (the cached database is never written), makes
        each call once untimed (warm-up), prints one JSON line ({"ready": ...}), then
        answers the commands read from stdin, one JSON line each:
          time CALL     seconds of one call (CALL: jobs, ops, jobs_model, ops_model)
          answers       what each call answered in its warm-up (benchmarks/outliers_summary.py:
                        outlier flags per job and feature, the outlier jobs per feature or op
                        tag, the op tags' order and scores)
          quit
        The calls: eod.detect_outlier_jobs(jobids), eod.detect_outlier_ops(jobids), and
        both with trained_model=<the id of the model for jobs, or ops>; jobids = every job of the set, as a list
        of ids; default features and methods.

EPMT's own chatter goes to stderr; it logs errors only (logging would skew the timings).
"""

import argparse
import contextlib
import importlib.metadata as md
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # benchmarks/: the summaries
from epmt_db import open_epmt, post_process_all, submit_one
from outliers_summary import summarize

MODEL = "bench-outliers"
#: The two reference models, by the calls they serve: EPMT keeps a model's job-level
#: thresholds only when it is built without op_tags (with op_tags it holds per-op ones only,
#: and detect_outlier_jobs finds no eligible classifier in it).
MODELS = {"jobs": None, "ops": "*"}
CALLS = ("jobs", "ops", "jobs_model", "ops_model")


def ingest(root):
    """Build root/epmt.sqlite from the archives (see the module docstring); its timings."""
    manifest = json.loads((root / "manifest.json").read_text())
    final = root / "epmt.sqlite"
    record = root / "epmt_ingest.json"
    if final.exists():
        earlier = json.loads(record.read_text()) if record.exists() else {}
        return {**earlier, "cached": True, "bytes": final.stat().st_size}
    tmp = Path(tempfile.mkdtemp(prefix="epmt_outliers_ingest_"))
    try:
        eq, settings = open_epmt(tmp / "epmt.sqlite")
        result = {"cached": False, "jobs": len(manifest["jobs"]), "processes": 0, "refused": []}
        t0 = time.perf_counter()
        for job in manifest["jobs"]:
            staged = tmp / job["archive"]
            shutil.copy2(root / "archives" / job["archive"], staged)
            r = submit_one(str(staged), settings)
            staged.unlink()
            if not r["ok"]:
                result["refused"].append({"archive": job["archive"], **r})
            result["processes"] += r.get("processes", 0)
        result["submit_seconds"] = time.perf_counter() - t0
        if result["refused"]:
            return result
        t0 = time.perf_counter()
        post_process_all()
        result["post_process_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for kind, op_tags in MODELS.items():
            model = eq.create_refmodel(
                manifest["model_jobs"], name=f"{MODEL}-{kind}", op_tags=op_tags
            )
            result[f"model_{kind}"] = {"id": model["id"], "op_tags": len(model["op_tags"])}
        result["refmodel_seconds"] = time.perf_counter() - t0
        from epmt.orm.sqlalchemy.general import Session

        Session.close()
        shutil.move(tmp / "epmt.sqlite", root / "epmt.sqlite.partial")
        (root / "epmt.sqlite.partial").rename(final)
        result["bytes"] = final.stat().st_size
        record.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def serve(root, commands, reply):
    """Warm up each call, then answer ``commands`` (lines) through ``reply`` (a dict each)."""
    tmp = Path(tempfile.mkdtemp(prefix="epmt_outliers_serve_"))
    try:
        t0 = time.perf_counter()
        shutil.copy2(root / "epmt.sqlite", tmp / "epmt.sqlite")
        copy_seconds = time.perf_counter() - t0
        eq, _ = open_epmt(tmp / "epmt.sqlite")
        import epmt.epmt_outliers as eod

        manifest = json.loads((root / "manifest.json").read_text())
        jobids = [job["jobid"] for job in manifest["jobs"]]
        models = {m["name"]: m["id"] for m in eq.get_refmodels(fmt="dict")}
        model = {kind: models[f"{MODEL}-{kind}"] for kind in MODELS}
        calls = {
            "jobs": lambda: eod.detect_outlier_jobs(jobids),
            "ops": lambda: eod.detect_outlier_ops(jobids),
            "jobs_model": lambda: eod.detect_outlier_jobs(jobids, trained_model=model["jobs"]),
            "ops_model": lambda: eod.detect_outlier_ops(jobids, trained_model=model["ops"]),
        }
        answers, warmup = {}, {}
        for name, fn in calls.items():
            t0 = time.perf_counter()
            answers[name] = summarize(name, fn())
            warmup[name] = time.perf_counter() - t0
        reply(
            {
                "ready": True,
                "epmt_version": md.version("epmt"),
                "python_version": platform.python_version(),
                "db_copy_seconds": copy_seconds,
                "warmup_seconds": warmup,
                "model_ids": model,
            }
        )
        for line in commands:
            verb, _, arg = line.strip().partition(" ")
            if verb == "quit":
                break
            if verb == "answers":
                reply({"answers": answers})
            elif verb == "time" and arg in calls:
                t0 = time.perf_counter()
                calls[arg]()
                reply({"call": arg, "seconds": time.perf_counter() - t0})
            else:
                reply({"error": f"unknown command {line.strip()!r}"})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("mode", choices=("ingest", "serve"))
    ap.add_argument("set", type=Path, help="the job set's cache directory")
    args = ap.parse_args(argv)
    real_stdout = sys.stdout

    def reply(obj):
        real_stdout.write(json.dumps(obj, sort_keys=True) + "\n")
        real_stdout.flush()

    with contextlib.redirect_stdout(sys.stderr):
        if args.mode == "ingest":
            reply(ingest(args.set))
        else:
            serve(args.set, sys.stdin, reply)


if __name__ == "__main__":
    main()
