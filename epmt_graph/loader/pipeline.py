"""Many jobs at once: each parsed and written on its own thread, a few side by side.

Loading a job keeps two processes busy in turn: this one while it parses the archive and
packs the rows, the server while it runs and commits the write transaction. Working on
several jobs at once lets both (and both cores of a small machine) work all the time.
Each job is still written whole or not at all, in its own transactions.

Jobs that turn out to have the same jobid are worked one after another, in the order of
their paths, so that loading an archive twice in one call says ``unchanged`` the second
time, exactly as two calls would.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from epmt_graph.loader.model import JobRows
from epmt_graph.loader.reader import read_job

__all__ = ["WORKERS", "run_ahead"]

R = TypeVar("R")
P = TypeVar("P")

#: Jobs worked on at once by default: two keep a 2-core machine and its server busy
#: (see benchmarks/RESULTS.md); each holds one parsed job in memory.
WORKERS = 2


class _Ticket:
    """One job's place in the order: its jobid once parsed, and whether it is done."""

    def __init__(self) -> None:
        self.parsed = threading.Event()
        self.done = threading.Event()
        self.jobid: str | None = None

    def wait_turn(self, jobid: str, earlier: list[_Ticket]) -> None:
        """Wait until no earlier job with ``jobid`` is still being worked on."""
        for other in earlier:
            other.parsed.wait()
            if other.jobid == jobid:
                other.done.wait()


def run_ahead(
    paths: Iterable[P],
    work: Callable[[JobRows], R],
    *,
    workers: int = WORKERS,
    read: Callable[[P], JobRows] = read_job,  # type: ignore[assignment]
) -> Iterator[tuple[P, Future[R]]]:
    """Each path with the future of ``work(read(path))``, up to ``workers`` at once.

    Futures come in the order of ``paths``; a parse error or an error of ``work`` is
    raised by the future's ``result()``, so the caller decides whether to go on. Closing
    the iterator early cancels the jobs not yet started and waits for those under way.

    Parameters
    ----------
    paths : iterable
        Job archives or directories (see :func:`epmt_graph.loader.find_jobs`), or whatever
        else ``read`` takes (the migrator's job ids).
    work : callable
        Called with each parsed job, on a worker thread.
    workers : int
        Jobs parsed or worked on at once (at least 1).
    read : callable
        Parses one of ``paths`` (default :func:`~epmt_graph.loader.reader.read_job`); one
        at a time.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from epmt_graph.synthetic import write_archive
    >>> folder = Path(tempfile.mkdtemp())
    >>> paths = [write_archive(folder / f"{n}.tgz", 50, seed=n, jobid=f"job{n}") for n in (1, 2)]
    >>> [(path.name, done.result()) for path, done in run_ahead(paths, lambda rows: rows.jobid)]
    [('1.tgz', 'job1'), ('2.tgz', 'job2')]
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="epmt-graph-load")
    parsing = threading.Lock()
    pending: deque[tuple[P, Future[R]]] = deque()
    live: list[_Ticket] = []
    try:
        for path in paths:
            live = [ticket for ticket in live if not ticket.done.is_set()]
            ticket = _Ticket()
            job = pool.submit(_one, path, read, work, parsing, ticket, list(live))
            pending.append((path, job))
            live.append(ticket)
            if len(pending) >= workers:
                yield pending.popleft()
        while pending:
            yield pending.popleft()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _one(
    path: P,
    read: Callable[[P], JobRows],
    work: Callable[[JobRows], R],
    parsing: threading.Lock,
    ticket: _Ticket,
    earlier: list[_Ticket],
) -> R:
    try:
        try:
            with parsing:  # parsing is pure Python: two at once only share the GIL
                rows = read(path)
            ticket.jobid = rows.jobid
        finally:
            ticket.parsed.set()
        ticket.wait_turn(rows.jobid, earlier)
        return work(rows)
    finally:
        ticket.done.set()
