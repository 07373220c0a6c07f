"""EPMT archives in, graph out.

:func:`read_job` parses one archive or job directory into :class:`JobRows` (no database);
:func:`store_job` writes parsed rows, atomically; :func:`load_job` does both for one path and
:func:`load` for many, a few side by side (:func:`run_ahead`): while the server writes one
job, the next is parsed; a job's content digest is made while its rows are written
(``read_job(..., digest_ahead=True)``). :mod:`.watch` loads the archives dropped into a
folder, each once (``epmt-graph watch``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import ArchiveError
from epmt_graph.loader.archive import ARCHIVE_SUFFIXES, METADATA_NAME
from epmt_graph.loader.model import JobRows
from epmt_graph.loader.pipeline import run_ahead
from epmt_graph.loader.reader import read_job
from epmt_graph.loader.writer import LoadResult, write_job
from epmt_graph.store import compute_trees, delete_job

__all__ = [
    "JobRows",
    "LoadResult",
    "compute_trees",
    "delete_job",
    "find_jobs",
    "load",
    "load_job",
    "read_job",
    "run_ahead",
    "store_job",
]


def find_jobs(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """The job archives and job directories named by ``paths``, in order.

    A ``.tgz``/``.tar.gz`` file or a directory holding ``job_metadata`` is a job; any other
    directory is searched (recursively, sorted) for jobs.

    Raises
    ------
    ArchiveError
        If a path does not exist, or names neither a job nor a folder of jobs.
    """
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise ArchiveError(f"{path}: no such file or directory")
        if _is_job(path):
            yield path
        elif path.is_dir():
            found = sorted(_jobs_below(path))
            if not found:
                raise ArchiveError(f"{path}: holds no EPMT job archive or job directory")
            yield from found
        else:
            raise ArchiveError(f"{path}: not an EPMT job (.tgz archive or job directory)")


def load_job(
    path: str | os.PathLike[str],
    *,
    graph: Graph | None = None,
    replace: bool = False,
    dry_run: bool = False,
    progress: Callable[[int], object] | None = None,
) -> LoadResult:
    """Parse one job and write it to the graph, whole or not at all.

    Parameters
    ----------
    path : path-like
        A ``.tgz`` archive or an unpacked job directory.
    graph : Graph, optional
        Default: :func:`epmt_graph.db.default_graph`.
    replace : bool
        Swap out a loaded job with the same jobid and other content.
    dry_run : bool
        Parse and validate only; nothing is written (``status='validated'``).
    progress : callable, optional
        Called with the number of processes written after each batch.

    Returns
    -------
    LoadResult

    Raises
    ------
    ArchiveError
        The archive is malformed or unsafe (nothing written).
    DuplicateJobError
        Another archive with the same jobid is loaded and ``replace`` is False.
    """
    rows = read_job(path, digest_ahead=True)
    return store_job(rows, graph=graph, replace=replace, dry_run=dry_run, progress=progress)


def store_job(
    rows: JobRows,
    *,
    graph: Graph | None = None,
    replace: bool = False,
    dry_run: bool = False,
    progress: Callable[[int], object] | None = None,
) -> LoadResult:
    """Write a parsed job to the graph, whole or not at all (arguments as :func:`load_job`)."""
    if dry_run:
        return LoadResult(
            jobid=rows.jobid,
            status="validated",
            processes=len(rows.processes),
            roots=rows.parents.count(None),
            max_depth=None,
            source=rows.source,
        )
    return write_job(graph or default_graph(), rows, replace=replace, progress=progress)


def load(
    paths: Iterable[str | os.PathLike[str]],
    *,
    graph: Graph | None = None,
    replace: bool = False,
) -> list[LoadResult]:
    """Load every job named by ``paths`` (see :func:`find_jobs`), one transaction per job.

    Jobs are parsed and written a few at a time (:func:`run_ahead`). Stops at the first
    bad job with its error; the jobs loaded before it, and those being written alongside
    it, stay loaded.
    """
    work = functools.partial(store_job, graph=graph, replace=replace)
    read = functools.partial(read_job, digest_ahead=True)
    return [done.result() for _, done in run_ahead(list(find_jobs(paths)), work, read=read)]


def _is_job(path: Path) -> bool:
    if path.is_file():
        return path.name.endswith(ARCHIVE_SUFFIXES)
    return path.is_dir() and (path / METADATA_NAME).exists()


def _jobs_below(folder: Path) -> Iterator[Path]:
    return (path for path in folder.rglob("*") if _is_job(path))
