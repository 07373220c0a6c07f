"""The folder ``epmt-graph watch`` reads: which archives are complete, where they go after.

``DIR`` holds the archives dropped in (``*.tgz``, ``*.tar.gz``; names starting with ``.``
are never read, so a writer may write ``.NAME.part`` and rename it). ``DIR/done/`` and
``DIR/failed/`` receive them once handled, a failed one with ``NAME.reason`` beside it.
Two hidden files belong to the watcher: ``.epmt-graph-watch.lock``, locked (``flock``) by
the watcher running on the folder, so that a second one refuses to start, and
``.epmt-graph-watch.json``, the *intent*: the archive being written to the graph, with its
jobid and content digest (see :mod:`epmt_graph.loader.watch` for how a restart uses it).

An archive is *complete* when nothing has written to it for ``settle`` seconds: its
modification time is that old (an archive renamed or moved in whole is complete at once),
or its size, modification time and inode have not changed for that long by this process's
clock (an archive written in place, in pieces). The state kept is one entry per archive
now in ``DIR``: nothing accumulates over the archives handled.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NamedTuple

from epmt_graph.errors import ConfigError
from epmt_graph.loader.archive import ARCHIVE_SUFFIXES

__all__ = ["DONE", "FAILED", "Inbox", "Intent", "Signature"]

#: Where loaded archives go, under the watched folder.
DONE = "done"
#: Where refused archives go, each with ``NAME.reason``.
FAILED = "failed"
_LOCK = ".epmt-graph-watch.lock"
_INTENT = ".epmt-graph-watch.json"


class Signature(NamedTuple):
    """What changes when a file is written to: size, modification time (ns), inode."""

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> Signature | None:
        """The signature of ``path`` now, or None if it is gone (or not a regular file)."""
        try:
            info = path.stat()
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        return cls(info.st_size, info.st_mtime_ns, info.st_ino)


@dataclass(frozen=True)
class Intent:
    """The archive being written to the graph: its name in the folder, jobid and digest."""

    archive: str
    jobid: str
    digest: str


class Inbox:
    """A watched folder: its lock, its complete archives, the intent record, the moves.

    Parameters
    ----------
    folder : path-like
        The folder archives are dropped into (kept as an absolute path, which the jobs
        loaded from it record as their source); ``done/`` and ``failed/`` are made in it.
    settle : float
        Seconds without a write after which an archive is complete.

    Raises
    ------
    ConfigError
        If ``folder`` is not a directory, or ``done/``/``failed/`` cannot be made.

    Examples
    --------
    >>> import tempfile
    >>> inbox = Inbox(tempfile.mkdtemp(), settle=0)
    >>> _ = (inbox.folder / "a.tgz").write_bytes(b"...")
    >>> _ = (inbox.folder / ".b.tgz.part").write_bytes(b"...")
    >>> [name for name, _ in inbox.complete()]
    ['a.tgz']
    >>> print(inbox.move("a.tgz", FAILED, reason="a.tgz: corrupt or truncated archive"))
    failed/a.tgz
    >>> (inbox.folder / FAILED / "a.tgz.reason").read_text()
    'a.tgz: corrupt or truncated archive\\n'
    """

    def __init__(self, folder: str | os.PathLike[str], *, settle: float) -> None:
        if not Path(folder).is_dir():
            raise ConfigError(f"{folder}: not a directory")
        self.folder = Path(folder).resolve()
        self.settle = settle
        try:
            for sub in (DONE, FAILED):
                (self.folder / sub).mkdir(exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{self.folder}: cannot make {sub}/: {exc.strerror}") from exc
        self._seen: dict[str, tuple[Signature, float]] = {}
        self._lock: IO[bytes] | None = None

    def lock(self) -> None:
        """Take the folder's lock, held until :meth:`unlock` or this process ends.

        Raises
        ------
        ConfigError
            If another process holds it (another watcher runs on the folder).
        """
        handle = (self.folder / _LOCK).open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.close()
            raise ConfigError(f"{self.folder}: another epmt-graph watch runs on it") from exc
        self._lock = handle

    def unlock(self) -> None:
        """Release the folder's lock (if held)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def complete(self) -> list[tuple[str, Signature]]:
        """The archives in the folder that are complete, oldest first, with their signature."""
        now, wall = time.monotonic(), time.time_ns()
        seen: dict[str, tuple[Signature, float]] = {}
        ready: list[tuple[str, Signature]] = []
        for name in self._archive_names():
            sig = Signature.of(self.folder / name)
            if sig is None:
                continue
            old = self._seen.get(name)
            since = old[1] if old is not None and old[0] == sig else now
            seen[name] = (sig, since)
            quiet = max(now - since, (wall - sig.mtime_ns) / 1e9)
            if quiet >= self.settle:
                ready.append((name, sig))
        self._seen = seen
        return sorted(ready, key=lambda item: (item[1].mtime_ns, item[0]))

    def forget(self, name: str) -> None:
        """Start ``name``'s settle time over (it was found still being written)."""
        self._seen.pop(name, None)

    def move(self, name: str, where: str, *, reason: str | None = None) -> str:
        """Move archive ``name`` into ``where`` (:data:`DONE` or :data:`FAILED`), renamed
        ``NAME.1.tgz``, ... if the name is taken there; with ``reason``, first write it to
        ``NAME.reason`` beside it. Returns the new path relative to the folder."""
        target = self._free(self.folder / where, name)
        if reason is not None:
            _write_atomically(target.with_name(target.name + ".reason"), reason + "\n")
        os.replace(self.folder / name, target)
        return f"{where}/{target.name}"

    def intent(self) -> Intent | None:
        """The intent record a previous run left, or None (none, or unreadable)."""
        try:
            return Intent(**json.loads((self.folder / _INTENT).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def record_intent(self, intent: Intent) -> None:
        """Write ``intent`` durably (a temporary file, synced, renamed over the old one)."""
        _write_atomically(self.folder / _INTENT, json.dumps(intent.__dict__))

    def clear_intent(self) -> None:
        """Remove the intent record (if any)."""
        with contextlib.suppress(FileNotFoundError):
            (self.folder / _INTENT).unlink()

    def _archive_names(self) -> list[str]:
        with os.scandir(self.folder) as entries:
            return [
                entry.name
                for entry in entries
                if not entry.name.startswith(".") and entry.name.endswith(ARCHIVE_SUFFIXES)
            ]

    @staticmethod
    def _free(where: Path, name: str) -> Path:
        suffix = next(s for s in ARCHIVE_SUFFIXES if name.endswith(s))
        stem, n = name.removesuffix(suffix), 0
        target = where / name
        while target.exists():
            n += 1
            target = where / f"{stem}.{n}{suffix}"
        return target


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a synced temporary file renamed over it."""
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
