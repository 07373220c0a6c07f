"""An EPMT 5.x database moved into the graph: ``epmt-graph migrate DB_URL``.

The database (SQLite or PostgreSQL, read with SQLAlchemy 2 Core and never written:
:mod:`.source`) is read a job at a time (:mod:`.jobs`): each job becomes the rows loading its
archive would make, and is written by the loader's own writer as a new version published
whole (:func:`epmt_graph.loader.store_job`), two at a time
(:func:`~epmt_graph.loader.run_ahead`), while the next jobs are read on a thread of their
own (:func:`~epmt_graph.loader.pipeline.made_ahead`: a job's reading is pure Python, not
to be left waiting until a write ends). A job already in the graph with the same content is
left as it is (``unchanged``), so a migration cut short is run again to finish it; one with
other content is refused unless ``replace``. The reference models follow their jobs
(:mod:`.models`); :func:`verify` compares every job with its source (:mod:`.verify`).
Times EPMT wrote in its own machine's zone are read in ``server_tz`` (:mod:`.zones`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import EpmtGraphError, ServerUnavailableError
from epmt_graph.loader import store_job
from epmt_graph.loader.migrate.jobs import read_stored_job
from epmt_graph.loader.migrate.models import migrate_models
from epmt_graph.loader.migrate.source import Source
from epmt_graph.loader.migrate.verify import HEADER, Check, verify_jobs
from epmt_graph.loader.model import JobRows
from epmt_graph.loader.pipeline import WORKERS, made_ahead, run_ahead
from epmt_graph.loader.writer import LoadResult

__all__ = ["HEADER", "Check", "Summary", "migrate", "verify"]


@dataclass
class Summary:
    """What a migration did.

    Attributes
    ----------
    jobs : Counter
        Jobs by outcome: ``loaded``, ``replaced``, ``unchanged``, ``validated`` (a dry run)
        and ``failed``.
    processes : int
        Processes of the jobs loaded or replaced (or validated).
    failed : list of (str, str)
        Each job that failed, with why.
    models : list of (int, str or None, str)
        Each reference model's id, name and outcome
        (:func:`~epmt_graph.loader.migrate.models.migrate_models`).
    """

    jobs: Counter[str] = field(default_factory=Counter)
    processes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    models: list[tuple[int, str | None, str]] = field(default_factory=list)


def migrate(
    url: str,
    *,
    graph: Graph | None = None,
    jobs: Iterable[str] | None = None,
    since: dt.datetime | None = None,
    dry_run: bool = False,
    replace: bool = False,
    server_tz: dt.tzinfo | None = None,
    on_total: Callable[[int], object] | None = None,
    on_job: Callable[[str, LoadResult | None, str | None], object] | None = None,
    progress: Callable[[int], object] | None = None,
    workers: int = WORKERS,
) -> Summary:
    """Migrate the jobs and reference models of an EPMT database into the graph.

    Parameters
    ----------
    url : str
        ``sqlite:///path/epmt.db`` or ``postgresql://user@host/db`` (psycopg 3).
    graph : Graph, optional
        Default: :func:`epmt_graph.db.default_graph`.
    jobs : iterable of str, optional
        Only these job ids (default: every job).
    since : datetime, optional
        Only jobs that start then or later (naive: in each job's zone, as EPMT compares).
    dry_run : bool
        Read and check every job; write nothing.
    replace : bool
        Swap out a job the graph holds with other content.
    server_tz : tzinfo, optional
        The zone of the machine EPMT ran on (default: this machine's).
    on_total : callable, optional
        Called once with the number of jobs to migrate.
    on_job : callable, optional
        Called after each job with its id, its :class:`~epmt_graph.loader.LoadResult` (None
        if it failed) and why it failed (None if it did not).
    progress : callable, optional
        Called with the number of processes written after each batch.
    workers : int
        Jobs read or written at once.

    Returns
    -------
    Summary

    Raises
    ------
    SourceError
        The URL is malformed, the database cannot be read, or it is not EPMT's (nothing is
        written).
    ServerUnavailableError
        The graph's server cannot be reached.

    Examples
    --------
    >>> migrate("mysql://db.example/epmt")
    Traceback (most recent call last):
    ...
    epmt_graph.errors.SourceError: mysql://db.example/epmt: not an SQLite or PostgreSQL URL
    """
    summary = Summary()
    chosen = None if jobs is None else list(jobs)
    wanted = None if chosen is None else set(chosen)
    with Source(url) as source:
        if on_total is not None:
            on_total(source.count(chosen, since))
        target = graph or default_graph()
        read = functools.partial(read_stored_job, source, server_tz=server_tz)
        work = functools.partial(
            store_job, graph=target, replace=replace, dry_run=dry_run, progress=progress
        )
        with made_ahead(_read_all(source.job_ids(chosen, since), read)) as stored:
            for (jobid, _), done in run_ahead(stored, work, read=_given, workers=workers):
                try:
                    result: LoadResult | None = done.result()
                    error = None
                except ServerUnavailableError:
                    raise  # every other job would fail the same way
                except EpmtGraphError as exc:
                    result, error = None, str(exc)
                if result is None:
                    summary.jobs["failed"] += 1
                    summary.failed.append((jobid, str(error)))
                else:
                    summary.jobs[result.status] += 1
                    if result.status != "unchanged":
                        summary.processes += result.processes
                if on_job is not None:
                    on_job(jobid, result, error)
                if wanted is not None:
                    wanted.discard(jobid)
        for jobid in sorted(wanted or ()):
            later = "" if since is None else f", or it starts before {since}"
            error = f"job {jobid}: not in {source.label}{later}"
            summary.jobs["failed"] += 1
            summary.failed.append((jobid, error))
            if on_job is not None:
                on_job(jobid, None, error)
        summary.models = list(migrate_models(source, target, server_tz, dry_run=dry_run))
    return summary


#: A job id and its rows, or why they could not be read.
_Read = tuple[str, JobRows | EpmtGraphError]


def _read_all(jobids: Iterable[str], read: Callable[[str], JobRows]) -> Iterator[_Read]:
    """Each job read, in turn (:func:`migrate` reads them on a thread of their own, ahead of
    the writes: reading is pure Python, which the writes' Python would wait for)."""
    for jobid in jobids:
        try:
            yield jobid, read(jobid)
        except EpmtGraphError as exc:
            yield jobid, exc


def _given(item: _Read) -> JobRows:
    """The rows read, or the error met reading them raised again."""
    rows = item[1]
    if isinstance(rows, EpmtGraphError):
        raise rows
    return rows


def verify(
    url: str,
    *,
    graph: Graph | None = None,
    jobs: Iterable[str] | None = None,
    since: dt.datetime | None = None,
    server_tz: dt.tzinfo | None = None,
) -> Iterator[Check]:
    """Compare every job of an EPMT database (or those chosen as :func:`migrate` chooses)
    with the graph, a job at a time: see :mod:`epmt_graph.loader.migrate.verify`.

    Raises
    ------
    SourceError
        As :func:`migrate`.

    Examples
    --------
    >>> next(verify("sqlite:///no/such.db"))
    Traceback (most recent call last):
    ...
    epmt_graph.errors.SourceError: sqlite:///no/such.db: no such SQLite database file 'no/such.db'
    """
    with Source(url) as source:
        yield from verify_jobs(
            source, graph or default_graph(), source.job_ids(jobs, since), server_tz
        )
