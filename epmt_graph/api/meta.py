"""About the API itself: ``version``."""

from __future__ import annotations

from epmt_graph import __version__

__all__ = ["version"]


def version() -> tuple[int, ...]:
    """epmt_graph's version as a tuple of integers (EPMT's ``version()`` gives EPMT's).

    This is the version of the software that answers, not of the EPMT API it follows
    (EPMT 5.0.1's ``epmt_query``), so a bug report names the right thing. Code that
    checks ``eq.version()`` against an EPMT release (EPMT's own test asks for more than
    ``(1, 0, 0)``) sees epmt_graph's number instead.

    Examples
    --------
    >>> import epmt_graph
    >>> eq.version() == tuple(int(part) for part in epmt_graph.__version__.split("."))
    True
    """
    return tuple(int(part) for part in __version__.split("."))
