"""Deleting jobs: ``delete_jobs`` and ``retire_jobs``, as EPMT 5.0.1 selects and counts them.

A job is deleted with its processes and their edges (:func:`epmt_graph.store.delete_job`),
in bounded batches, one job after another; other jobs' nodes and edges are never touched.
A job a reference model was built from is spared, unless ``remove_models`` deletes those
models first (EPMT's rule). Unlike EPMT's, a dry run changes nothing (EPMT's deletes the
models even then), and a malformed ``before``/``after``/``limit``/``offset`` is an error
(EPMT ignores an unreadable date, a negative offset or a limit of -1, and deletes on).
"""

from __future__ import annotations

import logging
from numbers import Real
from typing import Any

from epmt_graph.api.jobs import get_jobs
from epmt_graph.api.refmodel_state import models_of_jobs, remove_models_of_jobs
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import QueryTypeError
from epmt_graph.store import delete_job

__all__ = ["RETIRE_JOBS_NDAYS", "delete_jobs", "retire_jobs"]

#: ``retire_jobs``'s default age in days (EPMT's ``retire_jobs_ndays`` setting).
RETIRE_JOBS_NDAYS = 14

_log = logging.getLogger(__name__)


def delete_jobs(
    jobs: Any,
    force: bool = False,
    before: Any = None,
    after: Any = None,
    warn: bool = True,
    remove_models: bool = False,
    limit: Any = None,
    offset: Any = 0,
    skip_unprocessed: bool = False,
    dry_run: bool = False,
    fltr: Any = None,
    *,
    graph: Graph | None = None,
) -> int:
    """Delete jobs with their processes and edges; returns how many jobs were deleted.

    Parameters
    ----------
    jobs : any form ``get_jobs`` takes; ``[]`` or None selects every job (narrow it with
        ``before``, ``after``, ``fltr``, ``limit``)
    force : bool
        Needed to delete more than one job: without it, several jobs selected are a
        warning and nothing is deleted (0).
    before, after : as in :func:`get_jobs`
        Only jobs that ended by ``before`` / started from ``after``: a datetime or
        ``'mm/dd/YYYY HH:MM'`` (wall clock in each job's zone), a Unix timestamp, or a
        negative number of days before now.
    warn : bool
        Ignored (as in EPMT, where it is deprecated).
    remove_models : bool
        Delete the reference models built from any selected job first; without it, such
        jobs are spared (with a warning naming them and their models).
    limit, offset : int, optional
        Of the selected jobs by start time, skip ``offset`` and take at most ``limit``.
    skip_unprocessed : bool
        Ignored: every loaded job is post-processed.
    dry_run : bool
        Only count the jobs that would be deleted; nothing changes (models neither).
    fltr : condition, optional
        As in :func:`get_jobs` (``eq.Job.duration > 1e9``); strings are refused.

    Returns
    -------
    int
        The jobs deleted (with ``dry_run``: that would be); 0 if none is selected.

    Raises
    ------
    QueryError
        For a malformed argument (also a ``ValueError``); nothing is deleted.
    QueryTypeError
        If ``offset`` is not a number (also a ``TypeError``, as EPMT raises).

    Notes
    -----
    Each job is deleted in transactions of its own (EPMT deletes all of them in one). A
    job whose model appears between the check and its delete is refused by the server
    (its JobHead is still linked), so a model never loses its jobs.

    Examples
    --------
    >>> delete_jobs(["685000", "685003"])  # several jobs need force=True: none deleted
    0
    >>> delete_jobs(["685000", "685003"], force=True, dry_run=True)
    2
    >>> query_jobs = ["685000", "685003", "685016"]
    >>> delete_jobs(query_jobs, force=True, before="06/15/2019 09:45", dry_run=True)
    2
    >>> delete_jobs("no-such-job")
    0
    """
    if offset is not None and not isinstance(offset, Real):
        raise QueryTypeError(f"offset must be a non-negative integer or None, not {offset!r}")
    graph = graph or default_graph()
    selected = get_jobs(
        jobs,
        fltr=fltr,
        limit=limit,
        offset=offset,
        before=before,
        after=after,
        fmt="terse",
        graph=graph,
    )
    if not selected:
        _log.warning("No jobs matched; none deleted")
        return 0
    if len(selected) > 1 and not force:
        _log.warning(
            "%d jobs selected: set force=True to delete more than one job; none deleted",
            len(selected),
        )
        return 0
    using = models_of_jobs(selected, graph=graph)
    ids = list(selected)
    if using and not remove_models:
        _log.warning(
            "These jobs are spared, reference models were built from them (remove_models="
            "True deletes the models first): %s",
            using,
        )
        ids = [jobid for jobid in ids if jobid not in using]
    if dry_run or not ids:
        return len(ids)
    if using and remove_models:
        remove_models_of_jobs(list(using), graph=graph)
    for jobid in ids:
        delete_job(graph, jobid)
    return len(ids)


def retire_jobs(
    ndays: Any = RETIRE_JOBS_NDAYS,
    skip_unprocessed: bool = False,
    dry_run: bool = False,
    *,
    graph: Graph | None = None,
) -> int:
    """Delete the jobs that ended more than ``ndays`` days ago, except those a reference
    model was built from; returns how many (would be, with ``dry_run``).

    Parameters
    ----------
    ndays : number
        Default 14 (EPMT's ``retire_jobs_ndays``); none is retired for ``ndays <= 0``.
    skip_unprocessed : bool
        Ignored: every loaded job is post-processed.
    dry_run : bool
        Only count; nothing changes.

    Raises
    ------
    QueryTypeError
        If ``ndays`` is not a number (also a ``TypeError``, as EPMT raises).

    Examples
    --------
    >>> retire_jobs(ndays=0), retire_jobs(ndays=100_000, dry_run=True)
    (0, 0)
    """
    if isinstance(ndays, bool) or not isinstance(ndays, Real):
        raise QueryTypeError(f"ndays must be a number of days, not {ndays!r}")
    if ndays <= 0:
        return 0
    graph = graph or default_graph()
    old = get_jobs(before=-ndays, fmt="terse", graph=graph)
    using = models_of_jobs(old, graph=graph) if old else {}
    ids = [jobid for jobid in old if jobid not in using]
    if not ids:
        _log.warning("No jobs matched; none deleted")
        return 0
    return delete_jobs(ids, force=True, dry_run=dry_run, graph=graph)
