"""Indexing, slicing, iteration and ``first()`` for the lazy, immutable query objects.

A query class (a frozen dataclass with ``skip`` and ``limit`` fields, plus ``all()`` and
``count()``) inherits :class:`Paged`; ``q[i]``, ``q[a:b]`` and ``q.first()`` then run the
query with only the window asked for, and never change ``q``.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Numbers(Paged[int]):
...     skip: int = 0
...     limit: int | None = None
...     def all(self) -> list[int]:
...         stop = None if self.limit is None else self.skip + self.limit
...         return list(range(10))[self.skip : stop]
...     def count(self) -> int:
...         return len(self.all())
>>> q = Numbers()
>>> q[2:5], q[4], q[2:][1:3], q.first(), len(q)
([2, 3, 4], 4, [3, 4], 0, 10)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, ClassVar, Generic, Self, TypeVar, overload

from epmt_graph.errors import QueryError

__all__ = ["NO_LIMIT", "Paged"]

#: Stands for "no limit": LIMIT takes only a number, and a parameter at that.
NO_LIMIT = 2**62

R = TypeVar("R")


class Paged(Generic[R]):
    """Mixin: paging on top of ``skip``/``limit`` fields, ``all()`` and ``count()``."""

    #: What the query selects, for error messages ("process", "job").
    noun: ClassVar[str] = "item"
    skip: int
    limit: int | None

    def all(self) -> list[R]:
        """Every selected item (one query)."""
        raise NotImplementedError

    def count(self) -> int:
        """How many items the query selects (one count query)."""
        raise NotImplementedError

    def first(self) -> R | None:
        """The first selected item, or None (fetches one row)."""
        found = self._page(slice(0, 1)).all()
        return found[0] if found else None

    def __iter__(self) -> Iterator[R]:
        return iter(self.all())

    def __len__(self) -> int:
        return self.count()

    @overload
    def __getitem__(self, index: int) -> R: ...
    @overload
    def __getitem__(self, index: slice) -> list[R]: ...
    def __getitem__(self, index: int | slice) -> R | list[R]:
        if isinstance(index, slice):
            return self._page(index).all()
        if index < 0:
            raise QueryError("negative indexes need a count; use q[q.count() - 1]")
        found = self._page(slice(index, index + 1)).all()
        if not found:
            raise IndexError(f"{self.noun} query index {index} out of range")
        return found[0]

    def _page(self, window: slice) -> Self:
        start, stop, step = window.start or 0, window.stop, window.step
        if step not in (None, 1) or start < 0 or (stop is not None and stop < 0):
            raise QueryError(f"{self.noun} queries slice with non-negative start/stop and no step")
        limit = None if stop is None else max(0, stop - start)
        if self.limit is not None:
            remaining = max(0, self.limit - start)
            limit = remaining if limit is None else min(limit, remaining)
        changes: dict[str, Any] = {"skip": self.skip + start, "limit": limit}
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]
