"""Processes to records, per format: the code before a change against this tree, in one run.

    .venv/bin/python benchmarks/bench_records.py [--rounds 5] [--baseline REV] [--write]

One throwaway server holds two jobs, loaded by this tree's loader: the 3,480-process sample
685000 and a seeded 50,000-process synthetic job (``bench-synthetic``, as
``bench_archive.py`` makes it). On them, the API calls that turn many processes into
records, in every format (``terse``, ``dict``, ``pandas``, ``orm``; ``orm`` queries made
into records with ``.all()``):

* ``op_roots(job, 'op:cp')``: the largest op's roots (9,494 processes on the synthetic job);
* ``get_procs(job)``: every process of the job;
* every op: ``op_roots(job, 'op:<v>')`` for each op value of the job, ``dict`` (what
  ``bench_archive.py`` times after a load).

Each side runs in a child process of its own (``--worker``) with its code first on
``PYTHONPATH``: the baseline's ``epmt_graph/`` is extracted with ``git archive`` from
``--baseline`` (default: ``main`` before the change, deb9746), this tree's is the
repository's. Rounds alternate which side goes first; in a round a worker makes every call
once untimed, then once timed, and reports wall seconds, its own CPU seconds and the
server's (the JVM's, from ``/proc``). Medians over the rounds.

Prints a Markdown section; ``--write`` puts it in RESULTS.md in place of the last one
(between its markers); ``--json FILE`` keeps the raw figures.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

__all__ = ["main"]

REPO = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- bench_records: begin -->", "<!-- bench_records: end -->"
#: main before the change (the commit it was made on): the code it is measured against.
BASELINE = "deb9746"
SYNTHETIC = "bench-synthetic"
JOBS = ("685000", SYNTHETIC)
FORMATS = ("terse", "dict", "pandas", "orm")


def _calls(jobid: str, ops: list[str]) -> dict[str, Callable[[], int]]:
    """Name -> a call returning how many records it made (the worker's side only)."""
    import epmt_graph.api as eq

    def counted(result: Any) -> int:
        return len(result.all() if isinstance(result, eq.ProcessQuery) else result)

    calls: dict[str, Callable[[], int]] = {}
    for fmt in FORMATS:
        calls[f"op_roots op:cp {fmt}"] = lambda f=fmt: counted(eq.op_roots(jobid, "op:cp", fmt=f))
        calls[f"get_procs {fmt}"] = lambda f=fmt: counted(eq.get_procs(jobid, fmt=f))
    calls["every op's op_roots dict"] = lambda: sum(
        len(eq.op_roots(jobid, f"op:{op}", fmt="dict")) for op in ops
    )
    return calls


def _jvm_seconds(pid: int | None) -> float:
    """CPU seconds the server's JVM has used so far (0 when unknown)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker(ops: dict[str, list[str]], server_pid: int | None, repeat: int) -> list[dict[str, Any]]:
    """Every call on every job: once untimed, then ``repeat`` times timed."""
    out = []
    for jobid in JOBS:
        for name, call in _calls(jobid, ops[jobid]).items():
            call()
            for _ in range(repeat):
                server = _jvm_seconds(server_pid)
                cpu, wall = time.process_time(), time.perf_counter()
                n = call()
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                out.append(
                    {
                        "job": jobid,
                        "call": name,
                        "records": n,
                        "wall": wall,
                        "cpu": cpu,
                        "server": _jvm_seconds(server_pid) - server,
                    }
                )
    return out


def _baseline_tree(rev: str, work: Path) -> Path:
    """``epmt_graph/`` of ``rev``, extracted into ``work/baseline``."""
    archive = work / "baseline.tar"
    with archive.open("wb") as sink:
        subprocess.run(
            ["git", "-C", str(REPO), "archive", rev, "epmt_graph"], stdout=sink, check=True
        )
    target = work / "baseline"
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    return target


def _run_worker(code: Path, env: dict[str, str], args: list[str]) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", *args],
        env={**env, "PYTHONPATH": str(code)},
        capture_output=True,
        text=True,
        check=True,
    )
    result: list[dict[str, Any]] = json.loads(done.stdout)
    return result


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from bench_util import samples_dir, snapshot, throwaway_server

    import epmt_graph.api as eq
    from epmt_graph.db import Graph, set_default_graph
    from epmt_graph.loader import load
    from epmt_graph.synthetic import write_archive

    sides = {"before": _baseline_tree(args.baseline, work), "after": REPO}
    synthetic = write_archive(work / "synthetic.tgz", args.synthetic, seed=7, jobid=SYNTHETIC)
    out: dict[str, Any] = {"snapshots": {"start": snapshot()}, "rounds": []}
    with throwaway_server(heap="2g", pagecache="1g") as (connection, server):
        set_default_graph(Graph(connection))
        load([samples_dir() / "query" / "685000.tgz", synthetic])
        ops = {
            jobid: sorted({p["tags"]["op"] for p in eq.get_procs(jobid) if "op" in p["tags"]})
            for jobid in JOBS
        }
        pid_file = Path(server["home"]) / "server.pid"
        pid = pid_file.read_text().strip() if pid_file.exists() else ""
        env = {**os.environ, "NEO4J_URI": connection.uri}
        worker_args = ["--ops", json.dumps(ops), "--server-pid", pid, "--repeat", str(args.repeat)]
        out |= {"server": server, "ops": ops, "baseline": args.baseline, "repeat": args.repeat}
        out["processes"] = {jobid: len(eq.get_procs(jobid, fmt="terse")) for jobid in JOBS}
        for r in range(args.rounds):
            order = list(sides) if r % 2 == 0 else list(reversed(sides))
            found = {"snapshot": snapshot()}
            for side in order:
                found[side] = _run_worker(sides[side], env, worker_args)
                print(f"round {r + 1}, {side}: done", file=sys.stderr)
            out["rounds"].append(found)
    out["snapshots"]["end"] = snapshot()
    return out


def _figures(fig: dict[str, Any]) -> dict[tuple[str, str], dict[str, dict[str, float]]]:
    """(job, call) -> side -> medians of records, wall, cpu, server over the rounds."""
    out: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    for side in ("before", "after"):
        rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for found in fig["rounds"]:
            for row in found[side]:
                rows.setdefault((row["job"], row["call"]), []).append(row)
        for key, samples in rows.items():
            out.setdefault(key, {})[side] = {
                k: median(s[k] for s in samples) for k in ("records", "wall", "cpu", "server")
            }
    return out


def section(info: dict[str, Any], fig: dict[str, Any]) -> str:
    """The RESULTS.md section, between its markers."""
    snaps = [fig["snapshots"]["start"], *(r["snapshot"] for r in fig["rounds"])]
    lines = [
        BEGIN,
        "## Processes to records, per format (issue 18)",
        "",
        "```",
        f".venv/bin/python {info['command']}",
        "```",
        "",
        f"- **Date**: {info['date']} (run took {info['wall_seconds']:.0f} s); **code**: "
        f"commit {info['git']['commit']} (after) against {fig['baseline']} (before)",
        f"- **Machine**: {info['machine']['cores']} cores, shared with other sessions' work; "
        "load average (1/5/15 min) and CPU probe (`bench_util.cpu_probe`, ms) at the start "
        "and at each round: "
        + "; ".join(f"{s['load']}, {s['cpu_probe_ms']} ms" for s in snaps)
        + ".",
        f"- **Rounds**: {len(fig['rounds'])}, who goes first alternating, each call "
        f"{fig['repeat']} times timed in a round after an untimed one; medians over all. "
        "*records/s* = records / wall seconds; *client CPU* and *server CPU*: the worker's "
        "own CPU seconds and the JVM's, during the call.",
        "- **Jobs**: "
        + ", ".join(
            f"{jobid} ({fig['processes'][jobid]:,} processes, {len(fig['ops'][jobid])} ops)"
            for jobid in JOBS
        )
        + f"; {SYNTHETIC} is `write_archive(..., seed=7)`.",
        "",
        "| job | call | records | before s | after s | before records/s | after records/s "
        "| speed-up | client CPU s before / after | server CPU s before / after |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (job, call), side in _figures(fig).items():
        b, a = side["before"], side["after"]
        lines.append(
            f"| {job} | `{call}` | {a['records']:,.0f} | {b['wall']:.3f} | {a['wall']:.3f} "
            f"| {b['records'] / b['wall']:,.0f} | {a['records'] / a['wall']:,.0f} "
            f"| {b['wall'] / a['wall']:.1f}x | {b['cpu']:.2f} / {a['cpu']:.2f} "
            f"| {b['server']:.2f} / {a['server']:.2f} |"
        )
    lines += ["", END, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each side once (default 5)")
    parser.add_argument("--baseline", default=BASELINE, help=f"code before (default {BASELINE})")
    parser.add_argument("--repeat", type=int, default=3, help="timed calls a round (default 3)")
    parser.add_argument("--synthetic", type=int, default=50_000, help="synthetic job's processes")
    parser.add_argument("--write", action="store_true", help="put the section in RESULTS.md")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ops", help=argparse.SUPPRESS)
    parser.add_argument("--server-pid", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        pid = int(args.server_pid) if args.server_pid else None
        print(json.dumps(worker(json.loads(args.ops), pid, args.repeat)))
        return
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_util import recorded_run, write_section

    info, figures = recorded_run("bench_records", argv, functools.partial(run, args))
    if args.json:
        args.json.write_text(json.dumps(info | figures, indent=1) + "\n")
    text = section(info, figures)
    print(text)
    if args.write:
        write_section(text, BEGIN, END)


if __name__ == "__main__":
    main()
