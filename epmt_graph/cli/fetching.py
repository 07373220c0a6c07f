"""What the command line shows while Maven fetches Neo4j (about 165 MB, half a minute or more
on a first run): a line saying what is fetched, then, on a terminal, one line counting the
files and megabytes with the elapsed time, and a last line with the total. Nothing when the
jars are already there. It goes to stderr, so stdout carries only the command's answer.

Examples
--------
>>> import io
>>> out = io.StringIO()
>>> with showing_fetch(out) as show:
...     show(Fetch(files=777, size=164_136_000, elapsed=35.6))
>>> print(out.getvalue(), end="")  # doctest: +ELLIPSIS
fetching Neo4j 5.26.30 and the Neo4j Browser from Maven Central with mvn (...)
fetched 777 files, 164.1 MB in 36 s
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Never, TextIO

from tqdm import tqdm

from epmt_graph.cli import terminal
from epmt_graph.config import NEO4J_VERSION
from epmt_graph.server.maven import Fetch

__all__ = ["FetchDisplay", "showing_fetch"]

#: ``mvn: 58.4MB, 312 files [00:12, 4.87MB/s]`` (tqdm puts ", " before the postfix)
_BAR = "mvn: {n_fmt}B{postfix} [{elapsed}, {rate_fmt}]"


class FetchDisplay:
    """A progress callback for :func:`epmt_graph.server.provision`.

    Parameters
    ----------
    stream : TextIO
        Where it writes; the counting line only when it is a terminal.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._bar: tqdm[Never] | None = None
        self._last = Fetch()
        self._shown = 0

    def __call__(self, fetch: Fetch) -> None:
        """Show ``fetch``; the first call says what is being fetched."""
        bar = self._open() if self._bar is None else self._bar
        bar.set_postfix_str(f"{fetch.files} files", refresh=False)
        bar.update(fetch.size - self._shown)
        self._shown = fetch.size
        self._last = fetch

    def _open(self) -> tqdm[Never]:
        print(
            f"fetching Neo4j {NEO4J_VERSION} and the Neo4j Browser from Maven Central with"
            " mvn (about 780 files, 165 MB, on a first run; later runs find them in ~/.m2)",
            file=self.stream,
            flush=True,
        )
        self._bar = tqdm(
            unit="B",
            unit_scale=True,
            unit_divisor=1000,
            bar_format=_BAR,
            # redrawn at most 5 times a second, also when no byte came (the elapsed time)
            mininterval=0.2,
            miniters=0,
            smoothing=0,
            leave=False,
            disable=None,
            file=self.stream,
        )
        return self._bar

    def close(self) -> None:
        """Clear the counting line and print the total, if anything was fetched."""
        if self._bar is None:
            return
        self._bar.close()
        self._bar = None
        fetch = self._last
        done = f"fetched {fetch}" if fetch.files else "every jar was in Maven's local repository"
        print(f"{done} in {fetch.elapsed:.0f} s", file=self.stream)


@contextlib.contextmanager
def showing_fetch(stream: TextIO | None = None) -> Iterator[FetchDisplay]:
    """A :class:`FetchDisplay` on ``stream`` (default: stderr), closed at the end of the
    block."""
    display = FetchDisplay(stream or terminal.raw(sys.stderr))
    try:
        yield display
    finally:
        display.close()
