"""Benchmark epmt_graph against EPMT 5.0.1 and an in-memory floor, in one run.

    .venv/bin/python benchmarks/run.py [--quick]

One run:

1. starts a throwaway Neo4j (temp home, free loopback ports, auth off, heap 2g, page cache
   1g) and stops it when our side is done;
2. ingest of the query jobs (685000, 685003, 685016): ours cold, then warm reloads, loads of
   all three through ``loader.load``, one instrumented reload per job to split the write
   time into phases, the server's floor (the same node properties written bare), and then
   ours and EPMT's ingest (``--ingest-only``) in turn, ``--warm`` rounds, for the ingest
   targets;
3. the tree questions, warm, p50/p95 (``bench_ours.queries``), in two halves with EPMT's
   run between them: ``benchmarks/epmt_ref/ingest_timing.py`` on the same archives with
   the same repeats and tag, in EPMT's own venv (``benchmarks/epmt_ref/setup_venv.sh``);
4. scale, ours alone: a seeded synthetic 50,000-process job and a 500-deep chain;
5. the floor: networkx/pandas over the same parsed rows;
6. growth (``bench_growth``), on its own throwaway Neo4j: the per-job questions on a
   one-job database, then on the database grown to ``--growth-procs`` processes;

then writes ``benchmarks/results.json`` (everything) and ``benchmarks/RESULTS.md`` (tables,
targets with PASS/FAIL; followed by the "Outlier detection" section that
``bench_outliers.py`` renders from its own ``benchmarks/outliers.json``, if there is one).
Sample archives are read in place from ``EPMT_SAMPLES`` or
``<repo>/../shared/data/epmt-samples``; nothing is copied into the repo.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_floor
import bench_growth
import bench_ingest
import bench_ours
import bench_turn
from bench_outliers_report import write_results_md
from bench_targets import targets
from bench_util import (
    REPO,
    git_state,
    machine_info,
    other_jvms,
    samples_dir,
    snapshot,
    throwaway_server,
)

from epmt_graph.config import NEO4J_VERSION
from epmt_graph.db import Graph
from epmt_graph.loader import JobRows, read_job

QUERY_JOBS = ("685000", "685003", "685016")
#: Timed calls per question in the untimed round that warms the server up before them.
WARM_ROUND = 5
#: Timed calls per scale question (big answers: the 50K job's descendants are 50K rows).
SCALE_REPEAT = 3
#: Timed calls per job (and op value) of the raw Cypher diagnostics (not compared with EPMT).
RAW_REPEAT = 5


class Clock:
    """Wall seconds per section of the run, recorded into ``sections``."""

    def __init__(self, sections: dict[str, float]) -> None:
        self.sections = sections
        self.t = time.perf_counter()

    def lap(self, name: str) -> None:
        """Record the seconds since the last lap as section ``name``."""
        now = time.perf_counter()
        self.sections[name] = round(now - self.t, 1)
        self.t = now


EPMT_REF = REPO / "benchmarks" / "epmt_ref"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="few repeats, a 10K scale job")
    ap.add_argument("--repeat", type=int, help="timed calls per question (20; quick 3)")
    ap.add_argument("--repeat-slow", type=int, help="timed get_op_metrics calls (3; quick 1)")
    ap.add_argument("--warm", type=int, help="warm reloads per job, and loads of all (5; quick 2)")
    ap.add_argument("--scale-procs", type=int, help="processes of the big job (50000; quick 10000)")
    ap.add_argument("--chain", type=int, default=500, help="depth of the chain job (500)")
    ap.add_argument("--chain-procs", type=int, default=5000, help="processes of the chain job")
    ap.add_argument(
        "--memory-procs",
        type=int,
        nargs="+",
        help="job sizes for the loader-memory section (50000 500000; quick 10000 50000)",
    )
    ap.add_argument(
        "--memory-heap",
        default="8g",
        help="heap of the loader-memory section's own server (8g: about 10 KB of server heap "
        "per process of a write transaction, and a job is written 100,000 processes at a time)",
    )
    ap.add_argument("--tag", help="tag of the tag questions (default: op:hsmget)")
    ap.add_argument(
        "--growth-procs", type=int, help="grown database size (1000000; quick 100000; 0 skips)"
    )
    ap.add_argument("--epmt-python", help="EPMT venv python (default: from setup_venv.sh)")
    ap.add_argument("--epmt-timeout", type=float, default=1200.0, help="seconds (1200)")
    ap.add_argument("--out-dir", type=Path, default=REPO / "benchmarks")
    ap.add_argument(
        "--render",
        type=Path,
        metavar="RESULTS_JSON",
        help="only rewrite RESULTS.md (beside it) from an earlier run's results.json",
    )
    args = ap.parse_args(argv)
    quick = args.quick
    args.repeat = args.repeat or (3 if quick else 20)
    args.repeat_slow = args.repeat_slow or (1 if quick else 3)
    args.warm = args.warm or (2 if quick else 5)
    args.scale_procs = args.scale_procs or (10_000 if quick else 50_000)
    args.memory_procs = args.memory_procs or ([10_000, 50_000] if quick else [50_000, 500_000])
    if args.growth_procs is None:
        args.growth_procs = 100_000 if quick else 1_000_000
    return args


def pick_tag(ops: dict[str, list[str]], wanted: str | None) -> str:
    """``wanted``, else ``op:hsmget`` if every job has it, else the op most jobs share."""
    if wanted:
        return wanted
    if all("hsmget" in values for values in ops.values()):
        return "op:hsmget"
    counts: dict[str, int] = {}
    for values in ops.values():
        for value in values:
            counts[value] = counts.get(value, 0) + 1
    return f"op:{max(sorted(counts), key=lambda v: counts[v])}"


def epmt_python(given: str | None) -> str:
    """The python of the EPMT 5.0.1 venv (created by setup_venv.sh if missing)."""
    if given:
        return given
    out = subprocess.run(
        ["bash", str(EPMT_REF / "setup_venv.sh")],
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def run_epmt(
    paths: list[Path], args: argparse.Namespace, tag: str, *options: str
) -> dict[str, Any]:
    """EPMT's ``ingest_timing.py`` on ``paths`` (``options`` added): its JSON, or
    ``{"error": ...}``."""
    try:
        python = epmt_python(args.epmt_python)
    except (OSError, subprocess.SubprocessError) as exc:
        return {"error": f"no EPMT venv: {exc}"}
    command = [
        python,
        str(EPMT_REF / "ingest_timing.py"),
        "--repeat",
        str(args.repeat),
        "--repeat-slow",
        str(args.repeat_slow),
        "--tag",
        tag,
        *options,
        *map(str, paths),
    ]
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        try:
            done = subprocess.run(
                command, stdout=subprocess.PIPE, stderr=err, text=True, timeout=args.epmt_timeout
            )
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {args.epmt_timeout:.0f} s", "command": command}
        err.seek(0)
        tail = err.read()[-3000:]
    wall = time.perf_counter() - t0
    if done.returncode != 0 or not done.stdout.strip():
        return {"error": f"exit {done.returncode}", "stderr_tail": tail, "command": command}
    try:
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    except json.JSONDecodeError as exc:
        return {"error": f"bad JSON: {exc}", "stdout": done.stdout[-2000:], "command": command}
    result["wall_seconds"] = wall
    result["command"] = command
    return result


def neo4j_version(graph: Graph) -> str:
    """The server's version and edition, as it reports them."""
    records = graph.execute_read(
        lambda tx: list(tx.run("CALL dbms.components() YIELD versions, edition RETURN *"))
    )
    return f"{records[0]['versions'][0]} {records[0]['edition']}" if records else NEO4J_VERSION


def ours_side(
    args: argparse.Namespace,
    paths: list[Path],
    ops: dict[str, list[str]],
    tag: str,
    loads: dict[str, dict[str, Any]],
    sections: dict[str, float],
) -> tuple[dict[str, Any], dict[str, JobRows]]:
    """Everything against our Neo4j, which lives exactly as long as this call."""
    out: dict[str, Any] = {}
    clock = Clock(sections)
    with throwaway_server() as (connection, server), Graph(connection) as graph:
        clock.lap("neo4j start")
        out["server"] = server
        out["neo4j_server"] = neo4j_version(graph)
        print(f"neo4j up in {server['start_seconds']} s; ingest ...", file=sys.stderr)
        loads["ingest"] = snapshot()
        out["ingest"] = bench_ingest.ingest(graph, paths, args.warm)
        out["write_split"] = bench_ingest.split_all(graph, paths)
        out["server_floor"] = bench_ingest.server_floor(graph, paths, args.warm)
        clock.lap("ours: ingest")
        print("ingest, ours and EPMT in turn ...", file=sys.stderr)
        out["alternated"] = bench_turn.alternated(
            graph, paths, lambda: run_epmt(paths, args, tag, "--ingest-only"), args.warm
        )
        clock.lap("ingest, ours and EPMT in turn")
        print("tree questions ...", file=sys.stderr)
        # The server runs Java: one untimed round of every question first lets its JIT
        # compile the query paths (EPMT's side, Python and SQLite, needs no such round).
        bench_ours.queries(graph, list(QUERY_JOBS), ops, tag, WARM_ROUND, 1)
        loads["queries"] = snapshot()

        def epmt_side() -> None:  # EPMT's run, midway through ours; our server idles
            clock.lap("ours: tree questions, first half")
            print("EPMT (ingest_timing.py) ...", file=sys.stderr)
            loads["epmt"] = snapshot()
            out["epmt"] = run_epmt(paths, args, tag)
            clock.lap("EPMT: ingest_timing.py")
            if "error" in out["epmt"]:
                print(f"EPMT side failed: {out['epmt']['error']}", file=sys.stderr)
            loads["queries, second half"] = snapshot()

        out["queries"] = bench_ours.queries(
            graph, list(QUERY_JOBS), ops, tag, args.repeat, args.repeat_slow, midway=epmt_side
        )
        out["raw"] = bench_ours.raw_queries(graph, list(QUERY_JOBS), ops, tag, RAW_REPEAT)
        clock.lap("ours: tree questions, second half")
        print("scale ...", file=sys.stderr)
        loads["scale"] = snapshot()
        with tempfile.TemporaryDirectory(prefix="epmt_graph_bench_scale_") as workdir:
            out["scale"], parsed = bench_ours.scale(
                graph,
                Path(workdir),
                args.scale_procs,
                args.chain,
                args.chain_procs,
                tag,
                SCALE_REPEAT,
                SCALE_REPEAT,
            )
        clock.lap("ours: scale")
    clock.lap("neo4j stop")
    return out, parsed


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write the results; 0 when it ran (targets may still fail)."""
    args = parse_args(argv)
    if args.render:
        write_results_md(args.render.parent, args.render)
        return 0
    started, t_start = dt.datetime.now().astimezone(), time.perf_counter()
    loads: dict[str, dict[str, Any]] = {"start": snapshot()}
    jvms = other_jvms()
    paths = [samples_dir() / "query" / f"{j}.tgz" for j in QUERY_JOBS]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"sample archives not found: {missing} (set EPMT_SAMPLES)", file=sys.stderr)
        return 2
    parsed_jobs = [read_job(p) for p in paths]  # for op values and the floor; untimed
    ops = {rows.jobid: bench_ours.op_values(rows) for rows in parsed_jobs}
    tag = pick_tag(ops, args.tag)

    sections: dict[str, float] = {}
    ours, scale_rows = ours_side(args, paths, ops, tag, loads, sections)
    clock = Clock(sections)
    epmt = ours["epmt"]
    print("floor ...", file=sys.stderr)
    loads["floor"] = snapshot()
    floor = bench_floor.queries(
        bench_floor.floor_jobs(parsed_jobs), ops, tag, args.repeat, args.repeat_slow
    )
    floor_scale = {
        name: bench_floor.scale(
            bench_floor.build(rows), bench_ours.op_values(rows), tag, SCALE_REPEAT
        )
        for name, rows in scale_rows.items()
    }
    clock.lap("floor")
    print(f"loader memory {args.memory_procs} (own server) ...", file=sys.stderr)
    memory = bench_ingest.memory_run(args.memory_procs, args.memory_heap)
    clock.lap("loader memory")
    growth = None
    if args.growth_procs > 0:  # last, on its own server: it does not disturb the figures above
        print(f"growth to {args.growth_procs:,} processes ...", file=sys.stderr)
        loads["growth"] = snapshot()
        growth = bench_growth.run_growth(
            args.growth_procs, repeat=args.repeat, repeat_slow=args.repeat_slow, tag=tag
        )
        clock.lap("growth")
    loads["end"] = snapshot()

    notes = []
    if "error" in epmt:
        notes.append(f"EPMT side failed ({epmt['error']}): EPMT columns are n/a.")
    epmt_ops = ((epmt.get("latency") or {}).get(bench_ours.KEYS["op_roots"]) or {}).get("n")
    ours_ops = sum(len(v) for v in ops.values()) * args.repeat
    if epmt_ops is not None and epmt_ops != ours_ops:
        notes.append(
            f"op_roots per op value: EPMT timed {epmt_ops} calls, ours {ours_ops}: "
            "the two sides see different op value sets."
        )
    if bench_ours.get_op_metrics() is None:
        notes.append("get_op_metrics is not importable from epmt_graph.api: n/a on our side.")
    argv_text = sys.argv[1:] if argv is None else argv
    command = shlex.join([".venv/bin/python", "benchmarks/run.py", *argv_text])
    res: dict[str, Any] = {
        "command": command,
        "date": started.isoformat(timespec="seconds"),
        "wall_seconds": time.perf_counter() - t_start,
        "machine": machine_info(),
        "git": git_state(),
        "versions": {
            "neo4j_server": ours["neo4j_server"],
            "epmt": epmt.get("epmt_version"),
            "epmt_python": epmt.get("python_version"),
        },
        "load_average": loads,
        "sections_seconds": sections,
        "other_jvms": jvms,
        "server": ours["server"],
        "config": {
            "quick": args.quick,
            "repeat": args.repeat,
            "repeat_slow": args.repeat_slow,
            "warm_round": WARM_ROUND,
            "warm": args.warm,
            "tag": tag,
            "jobs": list(QUERY_JOBS),
            "op_values": ops,
            "scale_procs": args.scale_procs,
            "chain": args.chain,
            "chain_procs": args.chain_procs,
            "growth_procs": args.growth_procs,
            "samples": str(samples_dir()),
        },
        "ingest": {
            "ours": ours["ingest"],
            "write_split": ours["write_split"],
            "server_floor": ours["server_floor"],
            "alternated": ours["alternated"],
            "epmt": epmt,
        },
        "queries": {"ours": ours["queries"], "raw": ours["raw"], "epmt": epmt, "floor": floor},
        "scale": {"ours": ours["scale"], "floor": floor_scale},
        "loader_memory": memory,
        "notes": notes,
    }
    if growth is not None:
        res["growth"] = growth
    res["targets"] = targets(res)
    res["queries"]["epmt"] = {"latency": epmt.get("latency")}  # the rest is under ingest
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "results.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
    write_results_md(args.out_dir)  # with the outlier section of bench_outliers.py, if any
    for t in res["targets"]:
        print(f"{t['verdict']:4}  {t['target']}  (ratio {t['ratio']})", file=sys.stderr)
    print(f"wrote {args.out_dir / 'RESULTS.md'} in {res['wall_seconds']:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
