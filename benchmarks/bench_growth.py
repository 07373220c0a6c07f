"""Growth: per-job questions on a one-job database, then on the same server grown to N processes.

    .venv/bin/python benchmarks/bench_growth.py --procs 100000 [--json OUT]

On its own throwaway Neo4j (heap 2g, page cache 2g): load job 685000 alone and time the
per-job questions (``bench_ours.KEYS``) on it; add 685003 and 685016 and time
``op_roots`` over those three; grow the database to N processes with every good sample job
and seeded synthetic jobs (generated into a temp dir, deleted once loaded), recording load
throughput as the history grows; time the same questions on the same jobs again;
``PROFILE`` each named query behind them on both databases (rolled back); then, as a
control against the shared machine's drift, delete the history and time the one-job
database again. Per-job latency should not grow with the history: the target is p50
within 1.5x of the faster one-job p50.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import neo4j
from bench_growth_report import ALL3, WARMUP, compare_rows, markdown_section, plan_lines
from bench_ours import BUDGET, KEYS, get_op_metrics, op_values
from bench_util import samples_dir, snapshot, stats_ms, throwaway_server, timed_load

import epmt_graph.api as eq
from epmt_graph import cypher
from epmt_graph.db import Graph
from epmt_graph.loader import compute_trees, delete_job, find_jobs, read_job
from epmt_graph.synthetic import write_archive

__all__ = ["FOLDERS", "JOB", "QUERY_JOBS", "main", "measure_growth", "run_growth"]

JOB = "685000"
QUERY_JOBS = ("685000", "685003", "685016")
#: Sample folders whose jobs all load (as the tests' ``GOOD_FOLDERS``).
FOLDERS = ("query", "submit", "daemon", "tsv")
#: Processes per synthetic job, and the first seed (jobids ``900000 + seed``).
JOB_PROCS, SEED0 = 50_000, 100
#: At least this many timed get_op_metrics calls (not more than ``repeat``): 3 are too noisy.
SLOW_MIN = 10
COUNT_ALL = "MATCH (p:Process) RETURN count(p) AS n"
Question = Callable[[Graph], Any]


def _questions(values: list[str], tag: str) -> dict[str, list[Question]]:
    """The per-job questions on :data:`JOB`, each a list of calls pooled into one figure."""

    def op_roots(jobs: Any, t: str, g: Graph) -> list[int]:
        return [p.pid for p in eq.op_roots(jobs, t, fmt="orm", graph=g)]

    metrics = get_op_metrics()
    out: dict[str, list[Question]] = {
        KEYS["get_roots"]: [lambda g: [p.pid for p in eq.get_roots(JOB, fmt="orm", graph=g)]],
        KEYS["root"]: [lambda g: int(eq.root(JOB, fmt="orm", graph=g).pid)],
        KEYS["op_roots"]: [partial(op_roots, JOB, f"op:{v}") for v in values],
        f"op_roots(job, {tag})": [partial(op_roots, JOB, tag)],
        KEYS["descendants"]: [lambda g: len(eq.root(JOB, fmt="orm", graph=g).descendants)],
        KEYS["trees"]: [lambda g: compute_trees(g, JOB)],
        KEYS["get_procs"]: [
            lambda g: eq.get_procs(
                JOB, tags=tag, order=eq.desc(eq.Process.duration), fmt="dict", graph=g
            )
        ],
    }
    if metrics is not None:
        out[KEYS["get_op_metrics"]] = [lambda g: metrics(JOB, graph=g)]
    out[ALL3] = [partial(op_roots, list(QUERY_JOBS), tag)]
    return out


def _answers(graph: Graph, tag: str) -> dict[str, Any]:
    """The answers themselves, to show both databases answer alike."""
    root = eq.root(JOB, fmt="orm", graph=graph)
    return {
        "roots": len(eq.get_roots(JOB, fmt="terse", graph=graph)),
        "root_pid": int(root.pid),
        "descendants": len(root.descendants),
        "op_roots_tag": len(eq.op_roots(JOB, tag, fmt="terse", graph=graph)),
        "get_procs_tag": len(eq.get_procs(JOB, tags=tag, fmt="terse", graph=graph)),
        "op_roots_3_jobs": len(eq.op_roots(list(QUERY_JOBS), tag, fmt="terse", graph=graph)),
    }


def _measure(graph: Graph, questions: dict[str, list[Question]], repeat: int, slow: int) -> Any:
    """p50/p95 per question, timed in rounds (each question once a round, so that the
    machine's ups and downs fall on all alike) after :data:`WARMUP` untimed rounds;
    ``get_op_metrics`` in ``slow`` of the rounds, spread out."""
    samples: dict[str, list[float]] = {key: [] for key in questions}
    slow_rounds = {WARMUP + i * repeat // slow for i in range(min(slow, repeat))}
    for r in range(WARMUP + repeat):
        for key, calls in questions.items():
            skip = key == KEYS["get_op_metrics"] and r >= WARMUP and r not in slow_rounds
            if skip or sum(samples[key]) > BUDGET:
                continue
            for call in calls:
                t0 = time.perf_counter()
                call(graph)
                if r >= WARMUP:
                    samples[key].append(time.perf_counter() - t0)
    return {key: stats_ms(values) for key, values in samples.items()}


def _noting(tx: neo4j.ManagedTransaction, calls: list[tuple[str, dict[str, Any]]]) -> Any:
    """``tx``, noting each statement run through it in ``calls``."""

    def run(query: str, parameters: dict[str, Any] | None = None, **kw: Any) -> Any:
        calls.append((query, {**(parameters or {}), **kw}))
        return tx.run(query, parameters, **kw)

    return SimpleNamespace(run=run)


class _Recording(Graph):
    """``graph`` seen through a recorder of the statements its transactions run."""

    def __init__(self, graph: Graph) -> None:  # borrows graph's driver and sessions
        self.connection, self.driver, self._graph = graph.connection, graph.driver, graph
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def session(self) -> neo4j.Session:
        return self._graph.session()

    def ensure_schema(self) -> None:
        self._graph.ensure_schema()

    def close(self) -> None:
        """Nothing to close: the driver and sessions are ``graph``'s."""

    def read(self, name: str, **params: Any) -> list[neo4j.Record]:
        self.calls.append((cypher.query(name), params))
        return self._graph.read(name, **params)

    def execute_read(self, work: Callable[[neo4j.ManagedTransaction], Any]) -> Any:
        return self._graph.execute_read(lambda tx: work(_noting(tx, self.calls)))

    def execute_write(self, work: Callable[[neo4j.ManagedTransaction], Any]) -> Any:
        return self._graph.execute_write(lambda tx: work(_noting(tx, self.calls)))


def _walk(op: dict[str, Any]) -> list[dict[str, Any]]:
    return [op, *(o for child in op.get("children") or [] for o in _walk(child))]


def _profile(graph: Graph, questions: dict[str, list[Question]]) -> dict[str, dict[str, Any]]:
    """For each question, each named query it runs, once, under PROFILE; rolled back."""
    names = {cypher.query(n): n for n in cypher.names()}
    out: dict[str, dict[str, Any]] = {}
    for key, calls in questions.items():
        recording = _Recording(graph)
        calls[0](recording)
        out[key] = {}
        for text, params in recording.calls:
            name = names.get(text)
            if name is None or name in out[key]:
                continue
            with graph.driver.session(database=graph.connection.database) as session:
                tx = session.begin_transaction()
                try:
                    result = tx.run("PROFILE " + text, params)
                    rows = len(list(result))  # consume() alone fails on some plans
                    plan = result.consume().profile or {}
                finally:
                    tx.rollback()
            ops = _walk(plan) if plan else []
            out[key][name] = {
                "db_hits": sum(int(o.get("dbHits", 0)) for o in ops),
                "rows": rows,
                "scans": sorted(
                    {o["operatorType"].split("@")[0] for o in ops if "Scan" in o["operatorType"]}
                ),
                "params": json.dumps(params, default=str)[:300],
                "plan": plan_lines(plan) if plan else [],
            }
    return out


def _count(graph: Graph) -> int:
    return int(graph.execute_read(lambda tx: tx.run(COUNT_ALL).single(strict=True)["n"]))


def _load(graph: Graph, path: Path, kind: str, generate: float = 0.0) -> dict[str, Any]:
    rows, result, parse, write = timed_load(graph, path)
    return {
        "jobid": rows.jobid,
        "kind": kind,
        "status": result.status,
        "processes": len(rows.processes),
        "generate_s": round(generate, 3),
        "parse_s": round(parse, 3),
        "write_s": round(write, 3),
        "processes_per_s": round(len(rows.processes) / (parse + write), 1),
        "db_processes_after": _count(graph),
    }


def _grow(graph: Graph, workdir: Path, n_procs: int, job_procs: int) -> list[dict[str, Any]]:
    """Load every good sample job not loaded yet, then synthetic jobs up to ``n_procs``."""
    loads = []
    for path in find_jobs([samples_dir() / f for f in FOLDERS if (samples_dir() / f).exists()]):
        row = _load(graph, path, "sample")
        if row["status"] != "unchanged":  # the query jobs, loaded already
            loads.append(row)
    seed = SEED0
    while (have := _count(graph)) < n_procs:
        t0 = time.perf_counter()
        path = write_archive(workdir / f"{seed}.tgz", min(job_procs, n_procs - have), seed=seed)
        try:
            loads.append(_load(graph, path, "synthetic", time.perf_counter() - t0))
        finally:
            path.unlink()
        seed, done, rate = seed + 1, loads[-1]["db_processes_after"], loads[-1]["processes_per_s"]
        print(f"growth: {done:,}/{n_procs:,} processes ({rate:,.0f}/s)", file=sys.stderr)
    return loads


def _shrink(graph: Graph, jobids: list[str]) -> dict[str, Any]:
    """Delete ``jobids`` (one transaction each): processes, seconds, processes/s."""
    t0, n = time.perf_counter(), sum(delete_job(graph, jobid) for jobid in jobids)
    seconds = time.perf_counter() - t0
    return {"jobs": len(jobids), "processes": n, "seconds": round(seconds, 2)}


def measure_growth(
    graph: Graph,
    workdir: Path,
    n_procs: int,
    *,
    repeat: int = 20,
    repeat_slow: int = 3,
    tag: str = "op:hsmget",
    job_procs: int = JOB_PROCS,
    control: bool = True,
) -> dict[str, Any]:
    """The growth measurement (see the module's docstring) on ``graph``, an empty database;
    synthetic archives of ``job_procs`` processes are written to ``workdir`` and deleted
    once loaded. ``repeat`` timed calls per question (``repeat_slow``, at least
    :data:`SLOW_MIN` and at most ``repeat``, for ``get_op_metrics``); ``tag`` is the tag
    questions' tag. With ``control``, the history
    is then deleted and the one-job database timed again (``after``).

    Returns ``small``/``big``/``after`` (one-job, grown, one-job again: size, latency per
    question, answers, machine snapshot), ``loads`` (a row per job loaded), ``deletes``,
    ``profiles`` (question -> query -> small/big) and the configuration.
    """
    graph.ensure_schema()
    repeat_slow = min(max(repeat_slow, SLOW_MIN), repeat)
    query = samples_dir() / "query"
    loads = [_load(graph, query / f"{JOB}.tgz", "sample")]
    questions = _questions(op_values(read_job(query / f"{JOB}.tgz")), tag)
    per_job = {k: v for k, v in questions.items() if k != ALL3}
    three = {ALL3: questions[ALL3]}

    def phase(qs: dict[str, list[Question]], into: dict[str, Any] | None = None) -> Any:
        """Time ``qs``; ``db_processes`` (or ``_3_jobs`` for ``three``) is the size."""
        size = _count(graph)
        print(f"growth: timing on {size:,} processes ...", file=sys.stderr)
        out = into or {"snapshot": snapshot(), "latency": {}}
        out["db_processes_3_jobs" if qs is three else "db_processes"] = size
        out["latency"] |= _measure(graph, qs, repeat, repeat_slow)
        return out

    small = phase(per_job)
    profiles = _profile(graph, per_job)
    loads += [_load(graph, query / f"{jobid}.tgz", "sample") for jobid in QUERY_JOBS[1:]]
    small, profiles = phase(three, small), profiles | _profile(graph, three)
    small["answers"] = _answers(graph, tag)
    loads += _grow(graph, workdir, n_procs, job_procs)
    big = phase(questions)
    big["answers"] = _answers(graph, tag)
    grown = _profile(graph, questions)
    deletes, after = None, None
    if control:
        deletes = _shrink(graph, [r["jobid"] for r in loads if r["jobid"] not in QUERY_JOBS])
        after = phase(three)
        after["answers"] = _answers(graph, tag)
        _shrink(graph, list(QUERY_JOBS[1:]))
        after = phase(per_job, after)
    return {
        "config": dict(procs=n_procs, job_procs=job_procs, repeat=repeat, slow=repeat_slow),
        "job": JOB,
        "small": small,
        "big": big,
        "after": after,
        "loads": loads,
        "deletes": deletes,
        "profiles": {
            k: {n: {"small": profiles.get(k, {}).get(n), "big": p} for n, p in qs.items()}
            for k, qs in grown.items()
        },
    }


def run_growth(n_procs: int, **kwargs: Any) -> dict[str, Any]:
    """:func:`measure_growth` on its own throwaway server (heap 2g, page cache 2g)."""
    t0 = time.perf_counter()
    with (
        throwaway_server(heap="2g", pagecache="2g") as (connection, server),
        Graph(connection) as graph,
        tempfile.TemporaryDirectory(prefix="epmt_graph_bench_growth_") as workdir,
    ):
        out = measure_growth(graph, Path(workdir), n_procs, **kwargs)
        data = Path(server["home"]) / "data"
        out["store_bytes"] = sum(f.stat().st_size for f in data.rglob("*") if f.is_file())
        out["server"] = server
    out["wall_seconds"] = round(time.perf_counter() - t0, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the growth section alone and print its markdown (and verdicts on stderr)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--procs", type=int, default=1_000_000, help="grown size (1000000)")
    ap.add_argument("--job-procs", type=int, default=JOB_PROCS, help="per synthetic job")
    ap.add_argument("--repeat", type=int, default=20, help="timed calls per question (20)")
    ap.add_argument("--repeat-slow", type=int, default=3, help="for get_op_metrics (3)")
    ap.add_argument("--no-control", action="store_true", help="skip the delete-back control")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    opts = {k: getattr(args, k) for k in ("repeat", "repeat_slow", "job_procs")}
    opts["control"] = not args.no_control
    growth = run_growth(args.procs, **opts)
    if args.json:
        args.json.write_text(json.dumps(growth, indent=1, default=str) + "\n")
    print("\n".join(markdown_section({"growth": growth})))
    for row in compare_rows({"growth": growth}):
        print(f"{row['verdict']:4}  {row['question']}  ratio {row['ratio']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
