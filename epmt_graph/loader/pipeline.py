"""Work made ahead on threads: many jobs side by side, and one job's batches ahead.

Loading a job keeps two processes busy in turn: this one while it parses the archive and
packs the rows, the server while it runs and commits the write transaction. Working on
several jobs at once (:func:`run_ahead`) lets both (and both cores of a small machine) work
all the time; inside one job, :func:`made_ahead` makes the next batches of rows while the
server writes the one before. Each job is still written whole or not at all, in its own
transactions.

Jobs that turn out to have the same jobid are worked one after another, in the order of
their paths, so that loading an archive twice in one call says ``unchanged`` the second
time, exactly as two calls would.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from epmt_graph.loader.model import JobRows
from epmt_graph.loader.reader import read_job

__all__ = ["AHEAD", "WORKERS", "made_ahead", "run_ahead"]

R = TypeVar("R")
P = TypeVar("P")
T = TypeVar("T")

#: Items :func:`made_ahead` holds at once: the one the server is writing, the next one made.
AHEAD = 2
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


class _Done:
    """The end of :func:`made_ahead`'s items, or the error that ended them."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


_END = object()


@contextlib.contextmanager
def made_ahead(items: Iterable[T], alive: int = AHEAD) -> Iterator[Iterator[T]]:
    """``items``, made on a thread of their own while the one before is used.

    At most ``alive`` items exist at once: the one in use (until the next is asked for) and
    those made ahead of it, so memory holds ``alive`` batches, not the job. The items come
    in order; an error raised while making one is raised where it would have been used.
    Leaving the ``with`` block early stops the thread (after the item it is making) and
    waits for it.

    Examples
    --------
    >>> with made_ahead(n * n for n in range(5)) as squares:
    ...     list(squares)
    [0, 1, 4, 9, 16]
    >>> with made_ahead(1 // n for n in (1, 0)) as items:
    ...     next(items), next(items)
    Traceback (most recent call last):
    ZeroDivisionError: integer division or modulo by zero
    """
    ready: queue.SimpleQueue[T | _Done] = queue.SimpleQueue()
    slots = threading.Semaphore(alive)
    stop = threading.Event()

    def make() -> None:
        made = iter(items)
        try:
            while True:
                while not slots.acquire(timeout=0.05):  # a slot first, then the item
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                item = next(made, _END)
                if item is _END:
                    break
                ready.put(item)  # type: ignore[arg-type]
        except BaseException as exc:  # handed to the consumer, raised there
            ready.put(_Done(exc))
            return
        ready.put(_Done())

    def take() -> Iterator[T]:
        while True:
            item = ready.get()
            if isinstance(item, _Done):
                if item.error is not None:
                    raise item.error
                return
            yield item
            slots.release()  # the item used is done with: make one more

    maker = threading.Thread(target=make, name="epmt-graph-batches", daemon=True)
    maker.start()
    try:
        yield take()
    finally:
        stop.set()
        maker.join()
