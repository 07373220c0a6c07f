"""Outlier detection, ours against EPMT 5.0.1 on SQLite, in one run.

    .venv/bin/python benchmarks/bench_outliers.py [--jobs 100] [--procs 5000] [--repeat 5]

One run:

1. the job set (``outliers_data.py``): seeded synthetic archives of one experiment, a few
   out of line, from the cache ``$EPMT_GRAPH_CACHE/bench-outliers/<key>/`` or generated
   into it (the output says which);
2. EPMT's ingest of the set into its SQLite database, with its two reference models
   (``epmt_ref/outliers_timing.py ingest``), unless the cache has the database already;
3. a throwaway Neo4j (temp home, free loopback ports, auth off), the same archives loaded
   with ``epmt_graph.loader.load`` and the same two reference models made with
   ``create_refmodel`` (untimed);
4. EPMT's script as a worker in its own venv (``... outliers_timing.py serve``: a copy of
   the cached database, each call once untimed) and ours, each call once untimed too;
   then ``--repeat`` rounds: each call on EPMT's side, then on ours (ours first in every
   other round), so that both sides meet the shared machine's load as it is then. The
   calls: ``detect_outlier_jobs(jobids)``, ``detect_outlier_ops(jobids)`` and both with
   ``trained_model=`` (a model built on 50 normal jobs); every job of the set, as a list
   of ids; default features and methods;
5. the two sides' answers compared: the same outlier jobs per feature (per op tag), the
   same flags per job, the same op tag order and scores;
6. where our calls spend their time (``bench_outliers_profile.py``, untimed): the round
   trips to Neo4j by named query, the rest in Python, the functions of most own time.

Writes ``benchmarks/outliers.json`` (everything) and the "Outlier detection" section of
``benchmarks/RESULTS.md`` (the rest of that file is rendered again, unchanged, from
``benchmarks/results.json``, and the sections other benchmarks keep between their own
markers are carried over: ``bench_outliers_report.write_results_md``). Exit 0 when it
ran (the target may still fail).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib
import json
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import outliers_data
from bench_outliers_profile import profile_call
from bench_outliers_report import write_results_md
from bench_util import REPO, git_state, machine_info, other_jvms, snapshot, throwaway_server
from outliers_summary import compare, summarize

import epmt_graph.api as eq
from epmt_graph.db import Graph
from epmt_graph.loader import load

__all__ = ["CALLS", "EpmtWorker", "main"]

EPMT_SCRIPT = REPO / "benchmarks" / "epmt_ref" / "outliers_timing.py"
#: The timed calls, by key: the function and whether it is given the trained model.
CALLS = {
    "jobs": ("detect_outlier_jobs", False),
    "ops": ("detect_outlier_ops", False),
    "jobs_model": ("detect_outlier_jobs", True),
    "ops_model": ("detect_outlier_ops", True),
}
#: The reference models, as EPMT's script names and builds them (op_tags per model).
MODELS = {"jobs": None, "ops": "*"}


class EpmtWorker:
    """EPMT's ``outliers_timing.py serve`` in its venv: one command a line, one JSON line back."""

    def __init__(self, python: str, set_dir: Path) -> None:
        self.log: IO[str] = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            [python, str(EPMT_SCRIPT), "serve", str(set_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.ready = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.log.seek(0)
            raise RuntimeError(f"EPMT's worker stopped: {self.log.read()[-3000:]}")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"EPMT's worker: {reply['error']}")
        return reply

    def ask(self, command: str) -> dict[str, Any]:
        """Send ``command``; its reply."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        """Ask the worker to quit, and wait for it."""
        if self.proc.poll() is None and self.proc.stdin is not None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        self.proc.wait(timeout=120)
        self.log.close()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--jobs", type=int, default=100, help="jobs in the set (100)")
    ap.add_argument("--procs", type=int, default=5000, help="processes of a normal job (5000)")
    ap.add_argument("--seed", type=int, default=0, help="first seed tried (0)")
    ap.add_argument("--repeat", type=int, default=5, help="timed rounds (5)")
    ap.add_argument("--target", type=float, default=5.0, help="speed-up wanted (5)")
    ap.add_argument("--heap", default="2g", help="heap of our Neo4j (2g)")
    ap.add_argument("--pagecache", default="1g", help="page cache of our Neo4j (1g)")
    ap.add_argument("--epmt-python", help="EPMT venv python (default: from setup_venv.sh)")
    ap.add_argument("--out-dir", type=Path, default=REPO / "benchmarks")
    return ap.parse_args(argv)


def spec_of(args: argparse.Namespace) -> outliers_data.Spec:
    """The job set's parameters: the outliers' positions scale with ``--jobs``."""
    n = args.jobs
    heavy = tuple(sorted({n * 11 // 100, n * 47 // 100, n * 83 // 100}))
    big = tuple(sorted({n * 29 // 100, n * 68 // 100} - set(heavy)))
    return outliers_data.Spec(n, args.procs, args.seed, heavy, big, min(50, n // 2))


def epmt_python(given: str | None) -> str:
    """The python of the EPMT 5.0.1 venv (created by setup_venv.sh if missing)."""
    if given:
        return given
    out = subprocess.run(
        ["bash", str(REPO / "benchmarks" / "epmt_ref" / "setup_venv.sh")],
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def epmt_ingest(python: str, set_dir: Path) -> dict[str, Any]:
    """EPMT's ingest of the set into its cached database (nothing to do when it is there)."""
    done = subprocess.run(
        [python, str(EPMT_SCRIPT), "ingest", str(set_dir)],
        capture_output=True,
        text=True,
        timeout=7200,
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"EPMT's ingest failed: {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if result.get("refused"):
        raise RuntimeError(f"EPMT refused archives: {result['refused']}")
    return result


def our_module() -> ModuleType | None:
    """``epmt_graph.outliers`` if it is there, else None."""
    try:
        return importlib.import_module("epmt_graph.outliers")
    except ImportError:
        return None


Call = Callable[[], Any]


def our_calls(
    module: ModuleType, jobids: list[str], models: dict[str, Any]
) -> dict[str, Callable[[Graph], Call]]:
    """Our four calls, each as a maker of the call on a given graph."""

    def maker(name: str, with_model: bool, kind: str) -> Callable[[Graph], Call]:
        fn = getattr(module, name)
        extra = {"trained_model": models[kind]} if with_model else {}
        return lambda graph: lambda: fn(jobids, graph=graph, **extra)

    return {key: maker(name, model, key.split("_")[0]) for key, (name, model) in CALLS.items()}


def rounds(
    epmt: EpmtWorker, ours: dict[str, Call] | None, repeat: int
) -> dict[str, dict[str, list[float]]]:
    """``repeat`` rounds of every call, EPMT's and ours in turn; seconds per call."""
    out: dict[str, dict[str, list[float]]] = {"epmt": {k: [] for k in CALLS}, "ours": {}}
    if ours is not None:
        out["ours"] = {k: [] for k in CALLS}
    for n in range(repeat):
        for key in CALLS:
            sides = ["epmt", "ours"] if n % 2 == 0 else ["ours", "epmt"]
            for side in sides:
                if side == "epmt":
                    out["epmt"][key].append(epmt.ask(f"time {key}")["seconds"])
                elif ours is not None:
                    t0 = time.perf_counter()
                    ours[key]()
                    out["ours"][key].append(time.perf_counter() - t0)
        print(f"round {n + 1}/{repeat} done", file=sys.stderr)
    return out


def ours_side(
    args: argparse.Namespace, jobset: outliers_data.JobSet, python: str, res: dict[str, Any]
) -> None:
    """Load our server, start EPMT's worker, warm both, time the rounds, compare answers."""
    module = our_module()
    with contextlib.ExitStack() as stack:
        connection, server = stack.enter_context(
            throwaway_server(heap=args.heap, pagecache=args.pagecache)
        )
        graph = stack.enter_context(Graph(connection))
        res["server"] = server
        print(f"neo4j up in {server['start_seconds']} s; loading the set ...", file=sys.stderr)
        t0 = time.perf_counter()
        load(jobset.archives, graph=graph)
        res["ours_load_seconds"] = time.perf_counter() - t0
        models = {}
        for kind, op_tags in MODELS.items():
            made = eq.create_refmodel(
                jobset.manifest["model_jobs"],
                name=f"bench-outliers-{kind}",
                op_tags=op_tags,
                graph=graph,
            )
            models[kind] = made["id"]
        res["snapshots"]["rounds"] = snapshot()
        print("EPMT's worker: copy of its database, warm-up ...", file=sys.stderr)
        worker = EpmtWorker(python, jobset.root)
        try:
            res["epmt_worker"] = worker.ready
            makers = our_calls(module, jobset.jobids, models) if module else {}
            calls = {key: make(graph) for key, make in makers.items()}
            answers: dict[str, Any] = {}
            warmup: dict[str, float] = {}
            for key, fn in calls.items():
                t0 = time.perf_counter()
                answers[key] = summarize(key, fn())
                warmup[key] = time.perf_counter() - t0
            res["ours_warmup_seconds"] = warmup
            res["seconds"] = rounds(worker, calls if module else None, args.repeat)
            epmt_answers = worker.ask("answers")["answers"]
        finally:
            worker.close()
        print("profile of our calls ...", file=sys.stderr)
        res["profile"] = {key: profile_call(graph, make) for key, make in makers.items()}
        res["agreement"] = {k: compare(answers[k], epmt_answers[k]) for k in answers}
        res["epmt_answers"] = {k: v.get("outliers") for k, v in epmt_answers.items()}
        if module is None:
            res["notes"].append("epmt_graph.outliers is not importable: our side untested.")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write the results; 0 when it ran."""
    args = parse_args(argv)
    started, t_start = dt.datetime.now().astimezone(), time.perf_counter()
    res: dict[str, Any] = {"snapshots": {"start": snapshot()}, "other_jvms": other_jvms()}
    res["notes"] = []
    spec = spec_of(args)
    t0 = time.perf_counter()
    jobset = outliers_data.prepare(spec)
    how = "from the cache" if jobset.cached else f"generated in {time.perf_counter() - t0:.0f} s"
    print(f"job set {jobset.root}: {how}", file=sys.stderr)
    python = epmt_python(args.epmt_python)
    t0 = time.perf_counter()
    ingest = epmt_ingest(python, jobset.root)
    how = "cached database, no re-ingest" if ingest["cached"] else "ingested now"
    print(f"EPMT's database: {how} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    res.update(
        {
            "jobset": {"root": str(jobset.root), "cached": jobset.cached, **jobset.manifest},
            "epmt_ingest": ingest,
        }
    )
    ours_side(args, jobset, python, res)
    res["snapshots"]["end"] = snapshot()
    argv_text = sys.argv[1:] if argv is None else argv
    res |= {
        "command": shlex.join([".venv/bin/python", "benchmarks/bench_outliers.py", *argv_text]),
        "date": started.isoformat(timespec="seconds"),
        "wall_seconds": time.perf_counter() - t_start,
        "machine": machine_info(),
        "git": git_state(),
        "config": {"repeat": args.repeat, "target": args.target, "spec": jobset.manifest["spec"]},
    }
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "outliers.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
    for line in write_results_md(args.out_dir):
        print(line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
