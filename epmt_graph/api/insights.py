"""Tree questions EPMT cannot answer: the critical path, a process's ancestry, tree diffs.

Each is one named Cypher query (``critical-path``, ``ancestry``, ``tree-diff-subtrees``);
``tree_diff`` matches the two jobs' rows in pandas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from epmt_graph.api.formats import check_fmt, render
from epmt_graph.api.models import Process
from epmt_graph.api.params import paging, single_jobid
from epmt_graph.api.rows import process_rows
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import QueryError

__all__ = ["DIFF_COLUMNS", "ancestry", "critical_path", "tree_diff"]

#: The columns of :func:`tree_diff`, in order.
DIFF_COLUMNS = [
    "key",
    "tag",
    "path",
    "count_a",
    "count_b",
    "cpu_a",
    "cpu_b",
    "delta_count",
    "delta",
]


def critical_path(job: Any, fmt: str = "dict", *, graph: Graph | None = None) -> Any:
    """The chain down which a job's CPU time is concentrated.

    From the job's root (the root with the largest inclusive CPU time, if it has several),
    each step goes to the child with the largest ``inclusive_cpu_time`` (ties: earliest
    start, then lowest pid), down to a leaf. One query, O(path length x fan-out); it reads
    the ``depth`` and ``inclusive_cpu_time`` the loader stores (see
    :func:`~epmt_graph.api.trees.compute_process_trees` for jobs written otherwise).

    Parameters
    ----------
    job : one job, in any form ``get_jobs`` accepts
    fmt : {'dict', 'terse', 'pandas', 'orm'}
    graph : Graph, optional
        Default: :func:`epmt_graph.db.default_graph`.

    Returns
    -------
    The processes of the path, root first, in the format ``fmt`` (``terse``: process ids).
    Each also has ``step`` (0 for the root), ``share`` (its inclusive CPU time over the
    previous step's; 1.0 for the root) and ``share_of_root`` (over the root's); a share
    over 0 is None.

    Raises
    ------
    QueryError
        If more than one job is given, or the job is not loaded, has no processes or lacks
        tree values.

    Examples
    --------
    >>> path = critical_path("685000", fmt="pandas")
    >>> path[["pid", "exename", "inclusive_cpu_time", "share"]].head(3)
         pid exename  inclusive_cpu_time     share
    0   6098    tcsh           112022532  1.000000
    1  10184    perl             5578071  0.049794
    2  10956    make             4099329  0.734901
    """
    check_fmt(fmt)
    graph = graph or default_graph()
    jobid = single_jobid(graph, job, needs="critical_path() takes one job per argument")
    records = graph.read("critical-path", jobid=jobid)
    if not records:
        raise QueryError(
            f"job {jobid} is not loaded, has no processes or lacks tree values "
            "(see compute_process_trees)"
        )
    rows = [
        {**row, "step": r["step"], "share": r["share"], "share_of_root": r["share_of_root"]}
        for r, row in zip(records, process_rows([r["p"] for r in records]), strict=True)
    ]
    return render(rows, "process", fmt, graph)


def ancestry(proc: Any, fmt: str = "pandas", *, graph: Graph | None = None) -> Any:
    """Who started this? The path from a process's root down to the process itself.

    Parameters
    ----------
    proc : Process, dict or str
        A process record (``fmt='orm'``), a process dict (``fmt='dict'``) or a process id.
    fmt : {'pandas', 'dict', 'terse', 'orm'}
        Default ``'pandas'``: one row per process, root first.
    graph : Graph, optional
        Default: :func:`epmt_graph.db.default_graph`.

    Returns
    -------
    The process's root, the ancestors in between and the process, in the format ``fmt``;
    each with its ``pid``, ``exename``, ``args``, ``depth`` (0 for the root), ``tags`` and
    ``id``.

    Raises
    ------
    QueryError
        If ``proc`` is not a process or a process id, or no such process is loaded.

    Examples
    --------
    >>> by_depth = eq.desc(eq.Process.depth)
    >>> deepest = eq.get_procs("685000", order=by_depth, limit=1, fmt="orm")[0]
    >>> ancestry(deepest)[["depth", "pid", "exename"]].head(3)
       depth   pid exename
    0      0  6098    tcsh
    1      1  6226    perl
    2      2  9969    make
    """
    check_fmt(fmt)
    graph = graph or default_graph()
    uid = _process_id(proc)
    records = graph.read("ancestry", uid=uid)
    if not records:
        raise QueryError(f"no process {uid!r} is loaded")
    return render(process_rows([r["p"] for r in records]), "process", fmt, graph)


def tree_diff(
    job_a: Any, job_b: Any, *, limit: int | None = 20, graph: Graph | None = None
) -> pd.DataFrame:
    """The subtrees of two runs of a workflow whose process counts or CPU time differ most.

    A subtree starts at each process whose tags differ from its parent's (or that has no
    parent) and holds the processes below it that carry the same tags: one operation's
    processes (an untagged stretch has the empty tag). The subtrees partition each job, so
    a nested operation is its own subtree, not part of the one around it. Subtrees are
    matched across the jobs by their ``tag`` (the full canonical tag, e.g.
    ``'op:hsmget;op_instance:1;op_sequence:1'``) and ``path`` (the exenames from the job's
    root down to the subtree's root, e.g. ``'tcsh/perl'``); subtrees of one job sharing
    both are summed.

    Parameters
    ----------
    job_a, job_b : one job each, in any form ``get_jobs`` accepts
    limit : int or None
        How many rows (default 20); None or 0 for every subtree that differs.
    graph : Graph, optional
        Default: :func:`epmt_graph.db.default_graph`.

    Returns
    -------
    pandas.DataFrame
        One row per matched subtree that differs, columns ``key`` (``'path [tag]'``),
        ``tag``, ``path``, ``count_a``/``count_b`` (processes), ``cpu_a``/``cpu_b``
        (summed ``cpu_time``, microseconds; 0 where a job lacks the subtree),
        ``delta_count`` and ``delta`` (b minus a), by ``|delta|`` then ``|delta_count|``
        descending.

    Raises
    ------
    QueryError
        If either argument is not exactly one loaded job with processes, or ``limit`` is
        not a non-negative integer or None.

    Examples
    --------
    >>> diff = tree_diff("685000", "685016", limit=3)
    >>> diff[["path", "count_a", "cpu_a", "cpu_b"]]
               path  count_a    cpu_a     cpu_b
    0  tcsh/fregrid        1  5209207  49354496
    1     tcsh/ncra        2  5443171  39922929
    2     tcsh/perl       86  4796190  21299686
    >>> diff["tag"][0]
    'op:fregrid;op_instance:7;op_sequence:80'
    """
    _, limit = paging(limit)
    graph = graph or default_graph()
    needs = "tree_diff() takes one job per argument"
    a, b = single_jobid(graph, job_a, needs), single_jobid(graph, job_b, needs)
    frame = pd.DataFrame(
        [dict(r) for r in graph.read("tree-diff-subtrees", jobids=[a, b])],
        columns=["jobid", "tag", "path", "subtrees", "processes", "cpu_time"],
    )
    for jobid in (a, b):
        if not (frame["jobid"] == jobid).any():
            raise QueryError(f"job {jobid} is not loaded or has no processes")
    frame["path"] = frame["path"].map("/".join)
    sides = [
        frame[frame["jobid"] == jobid].set_index(["tag", "path"])[["processes", "cpu_time"]]
        for jobid in (a, b)
    ]
    both = sides[0].merge(
        sides[1], "outer", left_index=True, right_index=True, suffixes=("_a", "_b")
    )
    both = both.fillna(0).astype("int64").reset_index()
    out = pd.DataFrame(
        {
            "key": both["path"] + " [" + both["tag"] + "]",
            "tag": both["tag"],
            "path": both["path"],
            "count_a": both["processes_a"],
            "count_b": both["processes_b"],
            "cpu_a": both["cpu_time_a"],
            "cpu_b": both["cpu_time_b"],
            "delta_count": both["processes_b"] - both["processes_a"],
            "delta": both["cpu_time_b"] - both["cpu_time_a"],
        },
        columns=DIFF_COLUMNS,
    )
    out = out[(out["delta"] != 0) | (out["delta_count"] != 0)]
    out = out.assign(_cpu=out["delta"].abs(), _count=out["delta_count"].abs())
    out = out.sort_values(["_cpu", "_count", "key"], ascending=[False, False, True])
    return out.drop(columns=["_cpu", "_count"]).iloc[:limit].reset_index(drop=True)


def _process_id(proc: Any) -> str:
    if isinstance(proc, Process):
        return str(proc.id)
    if isinstance(proc, Mapping) and "id" in proc:
        return str(proc["id"])
    if isinstance(proc, str) and proc:
        return proc
    raise QueryError(f"name a process by a Process record, a process dict or an id, not {proc!r}")
