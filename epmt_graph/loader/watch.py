"""Load each EPMT archive dropped into a folder exactly once, then file it: ``epmt-graph watch``.

EPMT's ``epmt daemon --ingest DIR`` submits whatever ``*.tgz`` it finds each minute, half-written
ones too, and deletes or moves them after. Here an archive is read only once it is complete
(:mod:`epmt_graph.loader.inbox`: renamed in whole, or left unwritten for ``settle`` seconds),
loaded as ``epmt-graph load`` does, and moved to ``DIR/done/`` or, with a ``NAME.reason`` file
(the loader's error: file and line for a bad archive), to ``DIR/failed/``. A job id already
loaded is refused, as EPMT refuses one, unless ``replace``.

The protocol, one archive at a time:

1. Parse the archive (:func:`~epmt_graph.loader.reader.read_job`); a bad one goes to
   ``failed/``, unless it changed meanwhile (still being written: it waits again).
2. If its jobid is published already: when with this archive's digest and the intent record
   (``DIR/.epmt-graph-watch.json``) names this archive with that digest, an earlier run
   published it and was stopped before moving it: to ``done/``, *already loaded*. Otherwise
   to ``failed/``, *job X already loaded*, unless ``replace``.
3. Record the intent (archive, jobid, digest: a synced temporary file renamed in place),
   then write the job (:func:`~epmt_graph.loader.writer.write_job`): a new version readers
   do not see, published by one transaction at the end.
4. Move the archive (the reason file first, for ``failed/``), then remove the intent.

Killed at any moment (SIGKILL, a crash, power loss) and started again, the watcher neither
loads a job twice nor loses one: before step 3 nothing was written and the archive is still
in ``DIR``, so it is loaded; in step 3 before the publish, readers saw nothing and the
archive is in ``DIR``: it is loaded, and the version the dead writer held on its lease
(:mod:`epmt_graph.store.versions`) is deleted ``LEASE_MS`` after the restart (the *sweep*);
after the publish, the intent names the archive and the published digest is its own: it is
moved to ``done/`` as *already loaded*; after the move, the intent names an archive no
longer there: it is dropped. The archive the intent names is handled first on a restart.
One watcher per folder: a second one refuses to start (the folder's lock).

A server that cannot be reached fails no archive: the watcher logs it, waits (doubling the
wait up to :data:`BACKOFF` seconds) and tries again. Any other error of a job (a bad
archive, a duplicate, a job too big for the server's transaction memory) fails that archive
only; it can be loaded by hand later, or dropped into ``DIR`` again.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import DuplicateJobError, EpmtGraphError, ServerUnavailableError
from epmt_graph.loader.inbox import DONE, FAILED, Inbox, Intent, Signature
from epmt_graph.loader.model import JobRows
from epmt_graph.loader.reader import read_job
from epmt_graph.loader.writer import write_job
from epmt_graph.store import jobs as store
from epmt_graph.store import versions

__all__ = ["BACKOFF", "INTERVAL", "SETTLE", "Log", "Outcome", "Watcher"]

#: Seconds an archive must be left unwritten before it is read, by default.
SETTLE = 5.0
#: Seconds between looks at the folder, by default.
INTERVAL = 1.0
#: The longest wait, in seconds, between tries while the server cannot be reached.
BACKOFF = 60.0

#: Where the watcher's lines go: ``log(line, error)``.
Log = Callable[[str, bool], object]


@dataclass(frozen=True)
class Outcome:
    """What became of one archive.

    Attributes
    ----------
    archive : str
        Its name in the watched folder.
    moved_to : str
        Where it is now, relative to the folder (``done/NAME``, ``failed/NAME``).
    status : str
        ``loaded``, ``replaced``, ``unchanged`` (the same content was loaded, ``replace``
        only), ``already loaded`` (by an earlier run stopped before moving it) or ``failed``.
    jobid : str or None
        None when the archive could not be parsed.
    processes : int or None
        The job's processes in the graph (None when failed).
    seconds : float
        From the start of the parse to the end of the write.
    reason : str or None
        Why it failed (also in ``failed/NAME.reason``).
    """

    archive: str
    moved_to: str
    status: str
    jobid: str | None
    processes: int | None
    seconds: float
    reason: str | None = None

    @property
    def failed(self) -> bool:
        """Whether the archive went to ``failed/``."""
        return self.reason is not None

    def __str__(self) -> str:
        what = f"job {self.jobid}" if self.jobid is not None else self.archive
        where = f"({self.archive} -> {self.moved_to})"
        if self.reason is not None:
            return f"{what}: failed: {self.reason} {where}"
        return f"{what}: {self.status}, {self.processes} processes, {self.seconds:.1f} s {where}"


class Watcher:
    """Loads the archives dropped into ``folder``, each once, and files them (a context
    manager: entering takes the folder's lock and reads what an earlier run left).

    Parameters
    ----------
    folder : path-like
        The watched folder; ``done/`` and ``failed/`` are made in it.
    graph : Graph, optional
        Default: :func:`epmt_graph.db.default_graph`.
    replace : bool
        Swap out a loaded job with the same jobid, instead of failing the archive.
    settle : float
        Seconds an archive must be left unwritten before it is read.
    interval : float
        Seconds between looks at the folder (:meth:`run`).
    log : callable, optional
        ``log(line, error)`` for every line of the watcher's log; default: printed.

    Raises
    ------
    ConfigError
        ``folder`` is not a directory, or (on entering) another watcher runs on it.

    Examples
    --------
    >>> import tempfile
    >>> from epmt_graph.db import default_graph
    >>> from epmt_graph.loader import delete_job
    >>> from epmt_graph.synthetic import write_archive
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = write_archive(folder / "a.tgz", 40, seed=1, jobid="watched")
    >>> _ = write_archive(folder / "b.tgz", 30, seed=2, jobid="watched")
    >>> _ = (folder / "c.tgz").write_bytes(b"half an archive")
    >>> with Watcher(folder, settle=0, log=lambda line, error: None) as watcher:
    ...     outcomes = watcher.run_once()
    >>> for outcome in outcomes:
    ...     print(outcome.archive, outcome.status, outcome.processes, outcome.moved_to)
    a.tgz loaded 40 done/a.tgz
    b.tgz failed None failed/b.tgz
    c.tgz failed None failed/c.tgz
    >>> outcomes[1].reason.replace(str(folder), "DIR")
    'job watched already loaded (from DIR/a.tgz); --replace swaps it'
    >>> (folder / "failed" / "c.tgz.reason").read_text().replace(str(folder), "DIR")
    'DIR/c.tgz: corrupt or truncated archive: truncated header\\n'
    >>> delete_job(default_graph(), "watched")
    40
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        graph: Graph | None = None,
        replace: bool = False,
        settle: float = SETTLE,
        interval: float = INTERVAL,
        log: Log | None = None,
    ) -> None:
        self.inbox = Inbox(folder, settle=settle)
        self.graph = graph if graph is not None else default_graph()
        self.replace = replace
        self.interval = interval
        self.log: Log = log if log is not None else _print
        self._first: str | None = None
        self._sweeps: dict[str, float] = {}

    def __enter__(self) -> Watcher:
        self.inbox.lock()
        self.log(
            f"watching {self.inbox.folder} every {self.interval:g} s (settle "
            f"{self.inbox.settle:g} s{', replace' if self.replace else ''})",
            False,
        )
        intent = self.inbox.intent()
        if intent is not None:
            self._sweep_later(intent.jobid)
            if Signature.of(self.inbox.folder / intent.archive) is None:
                self.inbox.clear_intent()
            else:
                self._first = intent.archive
                self.log(
                    f"job {intent.jobid}: {intent.archive} was being loaded when the watcher "
                    "stopped; loading it first",
                    False,
                )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.inbox.unlock()

    def run(self, stop: threading.Event) -> None:
        """Look at the folder every ``interval`` seconds and handle what is complete, until
        ``stop`` is set; the archive being handled then is finished first."""
        pause = self.interval
        while not stop.is_set():
            try:
                self.run_once(stop)
                pause = self.interval
            except ServerUnavailableError as exc:
                self.log(f"{exc} (trying again in {pause:.0f} s)", True)
                stop.wait(pause)
                pause = min(2 * pause, max(BACKOFF, self.interval))
                continue
            stop.wait(pause)

    def run_once(self, stop: threading.Event | None = None) -> list[Outcome]:
        """Handle every complete archive now in the folder (stopping early once ``stop`` is
        set) and the sweeps that are due; each outcome is logged and returned.

        Raises
        ------
        ServerUnavailableError
            The server cannot be reached (the archive being handled stays in the folder).
        """
        outcomes = []
        found = self.inbox.complete()
        if self._first is not None:  # complete or not: the intent names it
            sig = Signature.of(self.inbox.folder / self._first)
            others = [item for item in found if item[0] != self._first]
            found = others if sig is None else [(self._first, sig), *others]
        for name, sig in found:
            if stop is not None and stop.is_set():
                break
            outcome = self._handle(name, sig)
            self._first = None
            if outcome is not None:
                self.log(str(outcome), outcome.failed)
                outcomes.append(outcome)
        self._sweep_due()
        return outcomes

    def _handle(self, name: str, sig: Signature) -> Outcome | None:
        """Load archive ``name`` and file it; None if it turned out to be still written."""
        path = self.inbox.folder / name
        started = time.monotonic()
        rows: JobRows | None = None
        try:
            rows = read_job(path)
            status, processes = self._store(name, rows)
        except ServerUnavailableError:
            raise
        except EpmtGraphError as exc:
            if Signature.of(path) != sig:
                self.inbox.forget(name)
                return None
            reason = str(exc)
            moved = self.inbox.move(name, FAILED, reason=reason)
            self.inbox.clear_intent()
            jobid = rows.jobid if rows is not None else None
            return Outcome(name, moved, "failed", jobid, None, _since(started), reason)
        seconds = _since(started)
        moved = self.inbox.move(name, DONE)
        self.inbox.clear_intent()
        return Outcome(name, moved, status, rows.jobid, processes, seconds)

    def _store(self, name: str, rows: JobRows) -> tuple[str, int]:
        """Steps 2 and 3 of the protocol; the status and the job's processes."""
        intent = Intent(name, rows.jobid, str(rows.job["digest"]))
        existing = store.published(self.graph, rows.jobid)
        if existing is not None:
            if existing["digest"] == intent.digest and self.inbox.intent() == intent:
                return "already loaded", int(existing["processes"])  # published, not moved
            if not self.replace:
                raise DuplicateJobError(
                    f"job {rows.jobid} already loaded (from {existing['source']}); "
                    "--replace swaps it"
                )
        self.inbox.record_intent(intent)
        try:
            result = write_job(self.graph, rows, replace=self.replace)
        except ServerUnavailableError:
            self._sweep_later(rows.jobid)
            raise
        return result.status, result.processes

    def _sweep_later(self, jobid: str) -> None:
        """Delete what an interrupted write of ``jobid`` left, once its writer's lease is over."""
        self._sweeps[jobid] = time.monotonic() + versions.LEASE_MS / 1000 + 1

    def _sweep_due(self) -> None:
        now = time.monotonic()
        for jobid, due in list(self._sweeps.items()):
            if now >= due:
                if removed := store.delete_stale(self.graph, jobid, versions.new_writer()):
                    self.log(
                        f"job {jobid}: removed {removed} unpublished version(s) an "
                        "interrupted load left",
                        False,
                    )
                del self._sweeps[jobid]


def _since(started: float) -> float:
    return time.monotonic() - started


def _print(line: str, error: bool) -> None:
    """The default log: one line on stdout, or stderr for an error."""
    print(line, file=sys.stderr if error else sys.stdout, flush=True)
