"""What the command line writes to a terminal: control characters in the data it shows are
escaped, so a job id, exename or tag from an archive cannot drive the terminal (escape
sequences that retitle the window, write the clipboard, hide or reorder text).

Only terminals are guarded: piped or redirected output carries the data unchanged, so
``epmt-graph export ... > tree.json`` and scripts read exact values.

Examples
--------
>>> escape_controls("job \\x1b]0;owned\\x07 \\u202eevil")
'job \\\\x1b]0;owned\\\\x07 \\\\u202eevil'
>>> escape_controls("two\\tcolumns\\nand lines\\r\\n")
'two\\tcolumns\\nand lines\\r\\n'
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from typing import TextIO

__all__ = ["EscapingWriter", "escape_controls", "guarded", "raw"]

#: C0 controls but tab, line feed and carriage return; DEL and C1 controls (CSI, OSC, ...);
#: the bidirectional marks, embeddings, overrides and isolates.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """``text`` with every terminal-controlling character written as a ``\\x``/``\\u`` escape."""
    return _UNSAFE.sub(_escape, text)


class EscapingWriter:
    """A text stream that writes through to ``stream`` with :func:`escape_controls` applied.

    Parameters
    ----------
    stream : TextIO
        The terminal stream (``sys.stdout`` or ``sys.stderr``).
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        """Write ``text``, escaped; returns the length of ``text`` (as ``TextIO.write``)."""
        self.stream.write(escape_controls(text))
        return len(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


def raw(stream: TextIO | EscapingWriter) -> TextIO:
    """The stream under an :class:`EscapingWriter` (for output that is ours: progress bars)."""
    return stream.stream if isinstance(stream, EscapingWriter) else stream


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """Within the block, ``sys.stdout`` and ``sys.stderr`` escape control characters when
    they are terminals."""
    saved = sys.stdout, sys.stderr
    if sys.stdout.isatty():
        sys.stdout = EscapingWriter(sys.stdout)
    if sys.stderr.isatty():
        sys.stderr = EscapingWriter(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
