"""Our side of the benchmark: tree questions and scale, against a live Neo4j (ingest is
in :mod:`bench_ingest`).

Every call goes through the public code paths: the loader and the ``epmt_graph.api``
functions, with the same formats EPMT's timing script uses (``orm`` records, ``pid`` read
from each).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import neo4j
from bench_util import Stats, load_average, stats_ms, timed, timed_load

import epmt_graph.api as eq
from epmt_graph import cypher
from epmt_graph.db import Graph
from epmt_graph.loader import JobRows, compute_trees
from epmt_graph.synthetic import write_archive

__all__ = [
    "ALL_DESCENDANTS",
    "KEYS",
    "get_op_metrics",
    "op_values",
    "queries",
    "raw_queries",
    "scale",
]

#: Question keys, the same strings as EPMT's ``ingest_timing.py`` output, plus ours.
KEYS = {
    "get_roots": "get_roots(job)",
    "root": "root(job)",
    "op_roots": "op_roots(job, op:<each value>)",
    "op_roots_all": "op_roots(all_jobs, tag)",
    "descendants": "len(root(job).descendants)",
    "trees": "depth+inclusive CPU, all processes (per job)",
    "get_procs": "get_procs(job, tags=tag, order=desc(Process.duration), fmt='dict')",
    "get_op_metrics": "get_op_metrics(job)",
}
#: Seconds any one question may take in all before its repeats stop (keeps the run bounded).
BUDGET = 90.0


def get_op_metrics() -> Callable[..., Any] | None:
    """``eq.get_op_metrics`` if the API has it (else from its module), or None."""
    found = getattr(eq, "get_op_metrics", None)
    if found is None:
        try:
            from epmt_graph.api import opmetrics
        except ImportError:
            return None
        found = getattr(opmetrics, "get_op_metrics", None)
    return found if callable(found) else None


def op_values(rows: JobRows) -> list[str]:
    """The distinct ``op`` tag values of a job's processes, sorted."""
    return sorted(
        {p[3:] for row in rows.processes for p in row.get("tag_pairs") or [] if p[:3] == "op:"}
    )


def _get_roots(graph: Graph, job: str) -> list[int]:
    return [p.pid for p in eq.get_roots(job, fmt="orm", graph=graph)]


def _root(graph: Graph, job: str) -> int:
    return int(eq.root(job, fmt="orm", graph=graph).pid)


def _op_roots(graph: Graph, jobs: str | list[str], tag: str) -> list[int]:
    return [p.pid for p in eq.op_roots(jobs, tag, fmt="orm", graph=graph)]


def _descendants(graph: Graph, job: str) -> int:
    return len(eq.root(job, fmt="orm", graph=graph).descendants)


def _get_procs(graph: Graph, job: str, tag: str) -> Any:
    return eq.get_procs(job, tags=tag, order=eq.desc(eq.Process.duration), fmt="dict", graph=graph)


def _time(fn: Callable[..., object], *args: Any, repeat: int, **kwargs: Any) -> list[float]:
    return timed(partial(fn, *args, **kwargs), repeat, budget=BUDGET)


def queries(
    graph: Graph,
    jobs: Sequence[str],
    ops: dict[str, list[str]],
    tag: str,
    repeat: int,
    repeat_slow: int,
    *,
    midway: Callable[[], object] | None = None,
) -> dict[str, Any]:
    """Warm latencies of the tree questions, pooled over ``jobs`` like EPMT's script.

    Each question gets one untimed warm-up call, then ``repeat`` timed calls
    (``repeat_slow`` for ``get_op_metrics``); ``trees`` is ``compute_trees`` per job, and
    ``trees_all_jobs`` its sum over the jobs per repeat (EPMT's process_trees phase covers
    all jobs at once). With ``midway``, the timed calls come in two halves and ``midway()``
    runs between them: given EPMT's run, ours straddle it, so a load that drifts while the
    benchmark runs falls on both sides alike.
    """
    samples: dict[str, list[float]] = {key: [] for key in KEYS}
    per_round: list[float] = []
    if midway is None:
        _sample(graph, jobs, ops, tag, repeat, repeat_slow, samples, per_round)
    else:
        _sample(graph, jobs, ops, tag, repeat // 2, repeat_slow // 2, samples, per_round)
        midway()
        rest, rest_slow = repeat - repeat // 2, repeat_slow - repeat_slow // 2
        _sample(graph, jobs, ops, tag, rest, rest_slow, samples, per_round)
    latency: dict[str, Stats] = {KEYS[k]: stats_ms(v) for k, v in samples.items()}
    if get_op_metrics() is None:
        latency[KEYS["get_op_metrics"]] = {"n": 0, "na": "get_op_metrics not importable"}
    counts = {
        j: {
            "roots": len(_get_roots(graph, j)),
            "descendants_of_root": _descendants(graph, j),
            "op_roots_tag": len(_op_roots(graph, j, tag)),
            "get_procs_tag": len(_get_procs(graph, j, tag)),
        }
        for j in jobs
    }
    return {
        "latency": latency,
        "trees_all_jobs": stats_ms(per_round),
        "counts": counts,
        "op_roots_all_count": len(_op_roots(graph, list(jobs), tag)),
        "load_average": load_average(),
    }


def _sample(
    graph: Graph,
    jobs: Sequence[str],
    ops: dict[str, list[str]],
    tag: str,
    repeat: int,
    repeat_slow: int,
    samples: dict[str, list[float]],
    per_round: list[float],
) -> None:
    """Add ``repeat`` timed calls of each question to ``samples`` (see :func:`queries`)."""
    metrics = get_op_metrics()
    for j in jobs:
        samples["get_roots"] += _time(_get_roots, graph, j, repeat=repeat)
        samples["root"] += _time(_root, graph, j, repeat=repeat)
        for v in ops[j]:
            samples["op_roots"] += _time(_op_roots, graph, j, f"op:{v}", repeat=repeat)
        samples["descendants"] += _time(_descendants, graph, j, repeat=repeat)
        samples["get_procs"] += _time(_get_procs, graph, j, tag, repeat=repeat)
        if metrics is not None and ops[j]:
            samples["get_op_metrics"] += timed(
                partial(metrics, j, graph=graph), repeat_slow, budget=BUDGET
            )
    samples["op_roots_all"] += _time(_op_roots, graph, list(jobs), tag, repeat=repeat)
    spent = 0.0
    for round_no in range(repeat + 1):  # round 0 is the warm-up
        round_seconds = 0.0
        for j in jobs:
            t0 = time.perf_counter()
            compute_trees(graph, j)
            seconds = time.perf_counter() - t0
            round_seconds += seconds
            if round_no:
                samples["trees"].append(seconds)
        if round_no:
            per_round.append(round_seconds)
            spent += round_seconds
        if spent > BUDGET:
            break


def _read(graph: Graph, name: str, **params: Any) -> int:
    return len(graph.read(name, **params))


def _ping(graph: Graph) -> object:  # the read path of Graph.read, with nothing to run
    return graph.driver.execute_query(
        "RETURN 1 AS one",
        routing_=neo4j.RoutingControl.READ,
        database_=graph.connection.database,
    ).records


def _raw_descendants(graph: Graph, job: str, query: str) -> int:
    (record,) = graph.read("job-root", jobid=job)
    return _read(graph, query, uid=record["p"]["uid"])


#: The raw descendants row fetching every descendant, beside the one mirroring ``len()``.
ALL_DESCENDANTS = "root(job).descendants, every row fetched (process-descendants)"


def raw_queries(
    graph: Graph, jobs: Sequence[str], ops: dict[str, list[str]], tag: str, repeat: int
) -> dict[str, Stats]:
    """Where our time goes: the named Cypher queries alone (``Graph.read``: Bolt + server,
    records fetched, no API rendering), and a bare Bolt round trip (``RETURN 1``).

    For ``len(root(job).descendants)``: ``job-root`` then the count query the API uses
    (``process-descendant-count``, if shipped), and separately with every descendant
    fetched (``process-descendants``), which is what EPMT's ``len()`` does (it loads the
    relationship)."""
    samples: dict[str, list[float]] = {
        "bolt round trip (RETURN 1)": _time(_ping, graph, repeat=repeat)
    }
    for key in ("get_roots", "root", "op_roots", "descendants"):
        samples[KEYS[key]] = []
    samples[ALL_DESCENDANTS] = []
    # mirror len(): a count query when the API has one, else every row
    names = cypher.names()
    count = "process-descendant-count"
    count = count if count in names else "process-descendants"
    for j in jobs:
        samples[KEYS["get_roots"]] += _time(_read, graph, "job-roots", jobids=[j], repeat=repeat)
        samples[KEYS["root"]] += _time(_read, graph, "job-root", jobid=j, repeat=repeat)
        for v in ops[j]:
            samples[KEYS["op_roots"]] += _time(
                _read, graph, "job-op-roots", jobids=[j], pairs=[f"op:{v}"], repeat=repeat
            )
        samples[KEYS["descendants"]] += _time(_raw_descendants, graph, j, count, repeat=repeat)
        samples[ALL_DESCENDANTS] += _time(
            _raw_descendants, graph, j, "process-descendants", repeat=repeat
        )
    samples[KEYS["op_roots_all"]] = _time(
        _read, graph, "job-op-roots", jobids=list(jobs), pairs=[tag], repeat=repeat
    )
    return {k: stats_ms(v) for k, v in samples.items()}


def _scale_job(
    graph: Graph, path: Path, tag: str, repeat: int, repeat_trees: int
) -> tuple[dict[str, Any], JobRows]:
    rows, result, parse, write = timed_load(graph, path)
    j, n = rows.jobid, len(rows.processes)
    ops = op_values(rows)
    op_samples: list[float] = []
    for v in ops:
        op_samples += _time(_op_roots, graph, j, f"op:{v}", repeat=repeat)
    latency = {
        "compute_trees (depth+inclusive, all processes)": _time(
            compute_trees, graph, j, repeat=repeat_trees
        ),
        KEYS["get_roots"]: _time(_get_roots, graph, j, repeat=repeat),
        KEYS["root"]: _time(_root, graph, j, repeat=repeat),
        f"op_roots(job, {tag})": _time(_op_roots, graph, j, tag, repeat=repeat),
        KEYS["op_roots"]: op_samples,
        KEYS["descendants"]: _time(_descendants, graph, j, repeat=repeat),
    }
    out = {
        "jobid": j,
        "processes": n,
        "edges": len(rows.edges),
        "max_depth": result.max_depth,
        "roots": result.roots,
        "op_values": len(ops),
        "parse_seconds": parse,
        "write_seconds": write,
        "processes_per_second": n / (parse + write),
        "latency": {k: stats_ms(v) for k, v in latency.items()},
        "load_average": load_average(),
    }
    return out, rows


def scale(
    graph: Graph,
    workdir: Path,
    n_procs: int,
    chain: int,
    chain_procs: int,
    tag: str,
    repeat: int,
    repeat_trees: int,
) -> tuple[dict[str, Any], dict[str, JobRows]]:
    """Generate (seeded) and load a big job and a deep-chain job; time load and questions.

    Returns
    -------
    (dict, dict)
        Results by case name (``wide``, ``chain``), and the parsed rows by case name (for
        the in-memory floor).
    """
    cases = {
        "wide": {"n_procs": n_procs, "seed": 1, "chain": 0},
        "chain": {"n_procs": chain_procs, "seed": 2, "chain": chain},
    }
    results: dict[str, Any] = {}
    parsed: dict[str, JobRows] = {}
    for name, spec in cases.items():
        path = workdir / f"synthetic-{name}.tgz"
        t0 = time.perf_counter()
        write_archive(path, spec["n_procs"], seed=spec["seed"], chain=spec["chain"])
        generated = time.perf_counter() - t0
        results[name], parsed[name] = _scale_job(graph, path, tag, repeat, repeat_trees)
        results[name].update({"spec": spec, "generate_seconds": generated})
    return results, parsed
