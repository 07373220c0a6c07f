"""About the API itself: ``version``."""

from __future__ import annotations

__all__ = ["EPMT_VERSION", "version"]

#: The EPMT release whose ``epmt_query`` this API is a drop-in for.
EPMT_VERSION: tuple[int, int, int] = (5, 0, 1)


def version() -> tuple[int, ...]:
    """The version of EPMT's query API that ``eq`` provides, as EPMT's ``version()`` gives it.

    Code written for EPMT compares ``eq.version()`` with EPMT releases to know which calls
    exist; this API answers as EPMT 5.0.1 does. epmt_graph's own version is
    ``epmt_graph.__version__``.

    Examples
    --------
    >>> eq.version()
    (5, 0, 1)
    >>> eq.version() > (1, 0, 0)
    True
    """
    return EPMT_VERSION
