"""The in-memory floor: the same tree questions over parsed rows with networkx and pandas.

No database, no network, no serialisation: a lower bound for what any store can do with
the same rows. Built once per job from :func:`epmt_graph.loader.read_job` (building is not
timed: it plays the part of the load); each question is then timed like ours and EPMT's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import networkx as nx
import pandas as pd
from bench_ours import KEYS
from bench_util import Stats, stats_ms, timed

from epmt_graph.loader import JobRows
from epmt_graph.schema import PROCESS_METRICS

__all__ = ["FloorJob", "build", "floor_jobs", "queries", "scale"]


@dataclass
class FloorJob:
    """One job in memory: its tree, tag pairs, and a DataFrame of its processes."""

    rows: JobRows
    tree: nx.DiGraph
    pairs: list[frozenset[str]]
    frame: pd.DataFrame


def build(rows: JobRows) -> FloorJob:
    """The DiGraph (parent -> child, nodes are ``idx``) and DataFrame of a parsed job."""
    tree = nx.DiGraph()
    tree.add_nodes_from(range(len(rows.processes)))
    tree.add_edges_from(rows.edges)
    pairs = [frozenset(p.get("tag_pairs") or ()) for p in rows.processes]
    frame = pd.DataFrame(
        [{k: v for k, v in p.items() if k != "threads_json"} for p in rows.processes]
    )
    return FloorJob(rows, tree, pairs, frame)


def _key(job: FloorJob) -> Callable[[int], tuple[int, int]]:
    procs = job.rows.processes
    return lambda i: (procs[i]["start"], procs[i]["pid"])


def get_roots(job: FloorJob) -> list[int]:
    """Processes without a parent, by start time."""
    tree = job.tree
    return sorted((i for i in tree if tree.in_degree(i) == 0), key=_key(job))


def root(job: FloorJob) -> int:
    """The earliest process (EPMT's root)."""
    first: int = min(job.tree, key=_key(job))
    return first


def op_roots(job: FloorJob, pair: str) -> list[int]:
    """Processes carrying ``pair`` whose parent does not (a tagged root counts, as ours)."""
    pred, pairs = job.tree.pred, job.pairs
    found = []
    for i in job.tree:
        if pair in pairs[i]:
            parent = next(iter(pred[i]), None)
            if parent is None or pair not in pairs[parent]:
                found.append(i)
    return sorted(found, key=_key(job))


def descendants(job: FloorJob) -> int:
    """How many processes are below the root."""
    return len(nx.descendants(job.tree, root(job)))


def trees(job: FloorJob) -> tuple[list[int], list[int]]:
    """``depth`` and ``inclusive_cpu_time`` of every process (topological order, O(n))."""
    tree, procs = job.tree, job.rows.processes
    order = list(nx.topological_sort(tree))
    depth = [0] * len(procs)
    for i in order:
        for c in tree.succ[i]:
            depth[c] = depth[i] + 1
    inclusive = [int(p["cpu_time"]) for p in procs]
    for i in reversed(order):
        for c in tree.succ[i]:
            inclusive[i] += inclusive[c]
    return depth, inclusive


def get_procs(job: FloorJob, pair: str) -> list[dict[str, Any]]:
    """Processes carrying ``pair``, longest first, as dicts."""
    frame = job.frame
    chosen = frame[frame["tag_pairs"].map(lambda pairs: pair in (pairs or ()))]
    return chosen.sort_values("duration", ascending=False).to_dict("records")  # type: ignore[return-value]


def op_metrics(job: FloorJob) -> pd.DataFrame:
    """Metrics summed over each distinct process tag (a floor for ``get_op_metrics``)."""
    frame = job.frame
    numeric = [c for c in (*PROCESS_METRICS, "cpu_time", "duration", "numtids") if c in frame]
    tagged = frame[frame["tags"] != ""]
    return tagged.groupby("tags")[numeric].sum()


TREES = "compute_trees (depth+inclusive, all processes)"


def _time(fn: Callable[..., object], *args: Any, repeat: int) -> list[float]:
    return timed(partial(fn, *args), repeat)


def _all_op_roots(jobs: dict[str, FloorJob], pair: str) -> list[list[int]]:
    return [op_roots(job, pair) for job in jobs.values()]


def _all_trees(jobs: dict[str, FloorJob]) -> list[tuple[list[int], list[int]]]:
    return [trees(job) for job in jobs.values()]


def queries(
    jobs: dict[str, FloorJob], ops: dict[str, list[str]], tag: str, repeat: int, repeat_slow: int
) -> dict[str, Any]:
    """Warm latencies of the floor, with the same keys and repeats as ours."""
    samples: dict[str, list[float]] = {key: [] for key in KEYS}
    for j, job in jobs.items():
        samples["get_roots"] += _time(get_roots, job, repeat=repeat)
        samples["root"] += _time(root, job, repeat=repeat)
        for v in ops[j]:
            samples["op_roots"] += _time(op_roots, job, f"op:{v}", repeat=repeat)
        samples["descendants"] += _time(descendants, job, repeat=repeat)
        samples["trees"] += _time(trees, job, repeat=repeat)
        samples["get_procs"] += _time(get_procs, job, tag, repeat=repeat)
        if ops[j]:
            samples["get_op_metrics"] += _time(op_metrics, job, repeat=repeat_slow)
    samples["op_roots_all"] = _time(_all_op_roots, jobs, tag, repeat=repeat)
    counts = {
        j: {
            "roots": len(get_roots(job)),
            "descendants_of_root": descendants(job),
            "op_roots_tag": len(op_roots(job, tag)),
            "get_procs_tag": len(get_procs(job, tag)),
            "max_depth": max(trees(job)[0]),
        }
        for j, job in jobs.items()
    }
    latency: dict[str, Stats] = {KEYS[k]: stats_ms(v) for k, v in samples.items()}
    return {
        "latency": latency,
        "trees_all_jobs": stats_ms(_time(_all_trees, jobs, repeat=repeat)),
        "counts": counts,
    }


def scale(job: FloorJob, ops: list[str], tag: str, repeat: int) -> dict[str, Stats]:
    """The floor of the scale questions for one synthetic job."""
    each: list[float] = []
    for v in ops:
        each += _time(op_roots, job, f"op:{v}", repeat=repeat)
    return {
        TREES: stats_ms(_time(trees, job, repeat=repeat)),
        KEYS["get_roots"]: stats_ms(_time(get_roots, job, repeat=repeat)),
        KEYS["root"]: stats_ms(_time(root, job, repeat=repeat)),
        f"op_roots(job, {tag})": stats_ms(_time(op_roots, job, tag, repeat=repeat)),
        KEYS["op_roots"]: stats_ms(each),
        KEYS["descendants"]: stats_ms(_time(descendants, job, repeat=repeat)),
    }


def floor_jobs(parsed: Sequence[JobRows]) -> dict[str, FloorJob]:
    """:func:`build` for each parsed job, by jobid."""
    return {rows.jobid: build(rows) for rows in parsed}
