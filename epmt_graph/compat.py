"""EPMT's ORM and command names that code written for EPMT imports, on the graph.

Code written against EPMT 5.0.1 (its own ``test_query.py`` among it) imports a few names
from beside ``epmt_query``: the models, ``db_session``, ``setup_db``, ``orm_get``, ...
Here they are, each doing what EPMT's does, on the graph; ``tests/conformance`` maps
EPMT's modules onto this one and :mod:`epmt_graph.api` (the README's section "EPMT's own
tests" lists every alias).

Examples
--------
>>> from epmt_graph.compat import Job, orm_get, orm_is_query, db_session
>>> orm_get(Job, "685000").jobid, orm_get(Job, "no-such-job")
('685000', None)
>>> orm_is_query(eq.get_jobs("685000", fmt="orm")), orm_is_query(["685000"])
(True, False)
>>> @db_session
... def count(jobid):
...     return eq.get_procs(jobid, fmt="orm").count()
>>> count("685000")
3480
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from epmt_graph.api import Job, Operation, Process, compute_process_trees, orm_commit
from epmt_graph.api.models import RecordList
from epmt_graph.api.paging import Paged
from epmt_graph.db import default_graph
from epmt_graph.loader import LoadResult, find_jobs, load, load_job

__all__ = [
    "Job",
    "Operation",
    "Process",
    "db_session",
    "epmt_submit",
    "mk_process_tree",
    "orm_commit",
    "orm_get",
    "orm_is_query",
    "setup_db",
]

F = TypeVar("F", bound=Callable[..., Any])


def db_session(func: F) -> F:
    """EPMT's ``@db_session``: here every API call is its own transaction, so there is no
    session to open around ``func``; it is returned unchanged."""
    return func


def setup_db(settings: object = None) -> bool:
    """EPMT's ``setup_db(settings)``: connect the API's default graph and make sure its
    schema (constraints, indexes) is there; True once it answers.

    The graph is the one ``NEO4J_URI`` (``NEO4J_USER``, ``NEO4J_PASSWORD``,
    ``NEO4J_DATABASE``) names, else the local server; EPMT's ``settings.db_params`` (an SQL
    URL) has no meaning here and is not read.

    Raises
    ------
    ServerUnavailableError
        If the server cannot be reached.
    """
    graph = default_graph()
    graph.ensure_reachable()
    graph.ensure_schema()
    return True


def orm_get(model: type[Job] | type[Process], pk: Any) -> Job | Process | None:
    """EPMT's ``orm_get(Job, '685000')``: the record with that primary key, or None.

    A process's key is its id (``"685000:12"``).
    """
    return model.lookup(pk)


def orm_is_query(obj: object) -> bool:
    """EPMT's ``orm_is_query``: whether ``obj`` is what ``fmt='orm'`` returns (a lazy
    job or process query, or a list of records)."""
    return isinstance(obj, Paged | RecordList)


def epmt_submit(dirs: Iterable[str | os.PathLike[str]], dry_run: bool = True) -> list[LoadResult]:
    """EPMT's ``epmt_submit(dirs, dry_run=...)``: load job archives or job directories.

    As in EPMT, ``dry_run`` defaults to True: the jobs are read and checked, and nothing is
    written. Jobs load with :func:`epmt_graph.loader.load` (an archive already loaded is
    ``unchanged``; another archive with a loaded jobid raises ``DuplicateJobError``).

    Returns
    -------
    list of LoadResult
        One per job, in order (EPMT returns a dict of per-worker results, or False).

    Raises
    ------
    ArchiveError
        If a path is not a job, or a job is malformed (EPMT logs it and returns False).
    """
    if dry_run:
        return [load_job(path, dry_run=True) for path in find_jobs(dirs)]
    return load(dirs)


def mk_process_tree(job: Any) -> None:
    """EPMT's ``mk_process_tree(jobid)``: make sure the job's tree (``depth``,
    ``inclusive_cpu_time``) is computed (:func:`epmt_graph.api.compute_process_trees`;
    the loader writes it already, so this usually finds nothing to do)."""
    compute_process_trees([job])
