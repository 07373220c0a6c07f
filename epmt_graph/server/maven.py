"""Run Maven and follow what it fetches.

``mvn -B`` logs one ``Downloaded from REPO: URL (SIZE at RATE)`` line per file it takes
from a repository; :class:`Fetch` counts them and adds their sizes up, and :func:`run_mvn`
reports the count to a callback as the lines come, and at least twice a second meanwhile,
so a first fetch of Neo4j (about 780 files, 165 MB) is never silent.

Examples
--------
>>> fetch = Fetch()
>>> fetch.feed("[INFO] Downloading from central: https://repo.maven.apache.org/maven2/a.jar")
False
>>> fetch.feed(
...     "\\x1b[0m[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/a.jar"
...     " (6.7 MB at 5.4 MB/s)"
... )
True
>>> fetch.feed("[ERROR] Failed to execute goal on project x: Could not resolve dependencies")
False
>>> str(fetch), fetch.problems
('1 file, 6.7 MB', ['[ERROR] Failed to execute goal on project x: Could not resolve dependencies'])
"""

from __future__ import annotations

import queue
import re
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["Fetch", "run_mvn"]

#: A file taken from a repository; Maven's sizes are decimal (``kB`` is 1000 bytes).
_DOWNLOADED = re.compile(
    r"^\[INFO\] Downloaded from [^:]+: \S+ \((?P<size>\d+(?:\.\d+)?) (?P<unit>B|kB|MB|GB) at "
)
_UNITS = {"B": 1, "kB": 1_000, "MB": 1_000_000, "GB": 1_000_000_000}
#: Colour codes Maven writes even in batch mode (at the start and end of its output).
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_PROBLEM = ("[ERROR]", "[WARNING]")
#: Seconds between reports while Maven writes nothing.
TICK = 0.5


@dataclass
class Fetch:
    """What one Maven run has fetched so far.

    Attributes
    ----------
    files : int
        Files downloaded (jars and poms).
    size : int
        Their bytes, as Maven reports them (rounded to two or three digits each).
    elapsed : float
        Seconds since Maven started.
    problems : list of str
        Maven's ``[ERROR]`` and ``[WARNING]`` lines but empty ones: they say why a run
        failed.
    """

    files: int = 0
    size: int = 0
    elapsed: float = 0.0
    problems: list[str] = field(default_factory=list)

    def feed(self, line: str) -> bool:
        """Take one line of Maven's output; True if it was a downloaded file."""
        line = _ANSI.sub("", line).rstrip()
        if line.startswith(_PROBLEM) and line.partition("] ")[2]:
            self.problems.append(line)
        match = _DOWNLOADED.match(line)
        if match is None:
            return False
        self.files += 1
        self.size += round(float(match["size"]) * _UNITS[match["unit"]])
        return True

    def __str__(self) -> str:
        plural = "" if self.files == 1 else "s"
        return f"{self.files} file{plural}, {self.size / 1e6:.1f} MB"


def run_mvn(
    command: Sequence[str], progress: Callable[[Fetch], None] | None = None
) -> tuple[int, Fetch, str]:
    """Run ``command`` (an ``mvn -B ...`` command line) and follow its downloads.

    Parameters
    ----------
    command : sequence of str
        The command; Maven must not be quiet (``-q`` hides the download lines).
    progress : callable, optional
        Called with the :class:`Fetch` when Maven starts, after each line it writes, every
        :data:`TICK` seconds while it writes nothing, and when it ends.

    Returns
    -------
    tuple of (int, Fetch, str)
        Maven's exit code, what it fetched, and the end of its output (for an error
        message).

    Examples
    --------
    >>> code, fetch, tail = run_mvn(["echo", "[INFO] Downloaded from c: u (1.5 MB at 1 MB/s)"])
    >>> code, str(fetch), tail
    (0, '1 file, 1.5 MB', '[INFO] Downloaded from c: u (1.5 MB at 1 MB/s)')
    """
    fetch = Fetch()
    report = progress or (lambda _: None)
    tail: deque[str] = deque(maxlen=30)
    lines: queue.Queue[str | None] = queue.Queue()
    started = time.monotonic()
    report(fetch)
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    ) as process:
        assert process.stdout is not None
        reader = threading.Thread(target=_read, args=(process.stdout, lines), daemon=True)
        reader.start()
        try:
            while (line := _next(lines)) is not None:
                if line:
                    fetch.feed(line)
                    tail.append(_ANSI.sub("", line).rstrip())
                fetch.elapsed = time.monotonic() - started
                report(fetch)
        except BaseException:  # an interrupted fetch stops Maven; a finished one is waited for
            process.kill()
            raise
    reader.join()
    return process.returncode, fetch, "\n".join(tail).strip()


def _read(stream: Iterable[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _next(lines: queue.Queue[str | None]) -> str | None:
    """The next line, ``""`` after :data:`TICK` seconds without one, None at the end."""
    try:
        return lines.get(timeout=TICK)
    except queue.Empty:
        return ""
