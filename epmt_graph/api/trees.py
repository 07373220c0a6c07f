"""Process-tree questions: roots, the root, operation roots, and computing tree values.

Each is one named Cypher query (``job-roots``, ``job-root``, ``job-op-roots-pages``, and the
``tree-depths``/``tree-inclusive-cpu`` walks) with EPMT's signature and formats.
"""

from __future__ import annotations

from typing import Any

from epmt_graph.api.formats import check_fmt, ids_only, render
from epmt_graph.api.params import jobids, single_jobid, tags_param
from epmt_graph.api.rows import process_rows, read_process_pages
from epmt_graph.api.zones import job_zones
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import QueryError, UnknownJobError
from epmt_graph.store import compute_trees

__all__ = ["compute_process_trees", "get_roots", "op_roots", "root"]


def get_roots(jobs: Any, fmt: str = "dict", *, graph: Graph | None = None) -> Any:
    """The root processes of jobs: those without a parent, by start time.

    Parameters
    ----------
    jobs : job ids, a comma-separated string, a list, a DataFrame, dicts or Job records;
        None or ``[]`` means every loaded job, as in EPMT
    fmt : {'dict', 'terse', 'pandas', 'orm'}
    graph : Graph, optional
        Default: :func:`epmt_graph.db.default_graph`.

    Returns
    -------
    The roots in the format ``fmt`` (``terse``: process ids).

    Raises
    ------
    UnknownJobError
        If a job id given names no loaded job (also a ``KeyError``, as EPMT raises).

    Examples
    --------
    >>> len(get_roots("685000", fmt="terse"))
    32
    """
    check_fmt(fmt)
    graph = graph or default_graph()
    ids = jobids(graph, jobs, required=False)
    rows = process_rows([r["p"] for r in graph.read("job-roots", jobids=ids)])
    if len({row["jobid"] for row in rows}) < len(ids):  # a job without roots: is it loaded?
        jobids(graph, ids, known=True)
    return render(rows, "process", fmt, graph)


def root(job: Any, fmt: str = "dict", *, graph: Graph | None = None) -> Any:
    """The root process of a job: its earliest process by start time (EPMT's definition).

    Returns one process (a one-row DataFrame for ``fmt='pandas'``).

    Raises
    ------
    UnknownJobError
        If the job is not loaded (also a ``KeyError``, as EPMT raises).
    QueryError
        If more than one job is given, or the job has no processes.
    """
    check_fmt(fmt)
    graph = graph or default_graph()
    jobid = single_jobid(graph, job, needs="root() takes one job")
    records = graph.read("job-root", jobid=jobid)
    if not records:
        if jobid not in job_zones(graph, [jobid]):
            raise UnknownJobError(f"job {jobid!r} is not loaded")
        raise QueryError(f"job {jobid} has no processes")
    rendered = render(process_rows([records[0]["p"]]), "process", fmt, graph)
    return rendered if fmt == "pandas" else rendered[0]


def op_roots(jobs: Any, tag: Any, fmt: str = "dict", *, graph: Graph | None = None) -> Any:
    """The processes that start an operation: they carry ``tag``, their parent does not.

    Ordered by job, then start time. Unlike EPMT 5.0.1, a tagged process that has no
    parent at all (a job root) is an operation root too; EPMT drops it.

    Parameters
    ----------
    jobs : one or more jobs, in any form ``get_jobs`` accepts
    tag : str or dict
        One tag, e.g. ``'op:hsmget'`` or ``{'op': 'hsmget', 'op_instance': 2}``.
    fmt : {'dict', 'terse', 'pandas', 'orm'}

    Raises
    ------
    QueryError
        If ``tag`` is empty or a list.
    """
    check_fmt(fmt)
    if not tag or isinstance(tag, list | tuple):
        raise QueryError("op_roots needs one non-empty tag, e.g. 'op:hsmget' or {'op': 'hsmget'}")
    graph = graph or default_graph()
    (alternative,) = tags_param(tag) or [{}]
    rows = read_process_pages(
        graph,
        "job-op-roots-pages",
        ids_only=ids_only(fmt),
        jobids=jobids(graph, jobs),
        pairs=alternative["pairs"],
    )
    return render(rows, "process", fmt, graph)


def compute_process_trees(jobs: Any, *, graph: Graph | None = None) -> list[str]:
    """Make sure every process of ``jobs`` has ``depth`` and ``inclusive_cpu_time``.

    The loader already writes both, in the load transaction, so this is cheap: one query
    finds the jobs missing either, and only those are walked again (O(processes) each).

    Parameters
    ----------
    jobs : jobs in any form ``get_jobs`` accepts; None or ``[]`` means every loaded job,
        as in EPMT (ids of no loaded job are passed over, as EPMT does)

    Returns
    -------
    list of str
        The jobs whose trees were (re)computed; usually empty (EPMT returns None).
    """
    graph = graph or default_graph()
    ids = jobids(graph, jobs, required=False)
    stale = [r["jobid"] for r in graph.read("jobs-needing-trees", jobids=ids)]
    for jobid in stale:
        compute_trees(graph, jobid)
    return stale
