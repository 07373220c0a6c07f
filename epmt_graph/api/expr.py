"""Filter and order expressions: ``eq.Process.duration > 1000``, ``eq.desc(eq.Job.start)``.

An expression is plain data. It never becomes Cypher text: :meth:`Condition.dnf` turns it
into a list of conjunctions of ``{"f": property, "l": list, "i": slot, "op": operator,
"v": value}`` atoms that the named queries evaluate with dynamic property access
(``coalesce(p[a.f], p[a.l][a.i]) > a.v``); ``l`` and ``i`` are where a Process node keeps
the field in one of its lists (``metrics``, ...), if it is packed there
(:data:`~epmt_graph.schema.PACKED_SLOTS`; null otherwise, and job queries ignore them).
Only known fields can be named, so no caller value ever reaches a query as anything but a
parameter.

Examples
--------
>>> from epmt_graph.api.expr import Condition, desc
>>> from epmt_graph.api.models import Process
>>> cond = (Process.duration > 10) & ~Process.exename.in_(["sh", "bash"])
>>> [[(a["f"], a["op"], a["v"]) for a in conjunction] for conjunction in cond.dnf()]
[[('duration', '>', 10), ('exename', 'not in', ['sh', 'bash'])]]
>>> desc(Process.rchar).spec()
{'f': 'rchar', 'l': 'metrics', 'i': 12, 'desc': True}
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from epmt_graph.errors import QueryError
from epmt_graph.schema import PACKED_SLOTS

__all__ = [
    "Atom",
    "Condition",
    "Field",
    "Order",
    "asc",
    "desc",
    "field_value",
    "like_regex",
    "orders",
    "stored_value",
]

_NEGATED = {
    "=": "<>",
    "<>": "=",
    "<": ">=",
    ">=": "<",
    ">": "<=",
    "<=": ">",
    "in": "not in",
    "not in": "in",
    "is null": "is not null",
    "is not null": "is null",
    "like": "not like",
    "not like": "like",
}


def field_value(value: Any) -> Any:
    """A Python value as the graph stores it: datetimes become microseconds since the epoch.

    Naive datetimes are taken as UTC here; a field keeps them as wall-clock times instead
    (:func:`stored_value`), and :mod:`epmt_graph.api.zones` reads them in each job's zone.

    Examples
    --------
    >>> field_value(dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=dt.UTC))
    1000000
    >>> field_value(dt.timedelta(seconds=2))
    2000000
    >>> field_value({"op": "cp", "op_instance": 1})
    'op:cp;op_instance:1'
    """
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return round(aware.timestamp() * 1_000_000)
    if isinstance(value, dt.timedelta):
        return round(value.total_seconds() * 1_000_000)
    if isinstance(value, dict):
        return ";".join(f"{k}:{v}" for k, v in sorted(value.items()))
    return value


def stored_value(value: Any) -> Any:
    """A value compared with a field: as the graph stores it (:func:`field_value`), except a
    naive datetime, kept as a wall-clock time to be read in each job's zone, as EPMT reads it.

    Examples
    --------
    >>> stored_value(dt.datetime(2019, 6, 15, 8))
    datetime.datetime(2019, 6, 15, 8, 0)
    >>> stored_value(dt.datetime(2019, 6, 15, 8, tzinfo=dt.UTC))
    1560585600000000
    """
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value
    return field_value(value)


class Condition:
    """A boolean combination of field comparisons; combine with ``&``, ``|`` and ``~``."""

    def dnf(self) -> list[list[dict[str, Any]]]:
        """The condition as a disjunction of conjunctions of atoms (the ``$filter`` parameter)."""
        raise NotImplementedError

    def negated(self) -> Condition:
        """The logical negation, pushed down to the atoms (De Morgan)."""
        raise NotImplementedError

    def __and__(self, other: Condition) -> Condition:
        return _BoolOp("and", (self, _condition(other)))

    def __or__(self, other: Condition) -> Condition:
        return _BoolOp("or", (self, _condition(other)))

    def __invert__(self) -> Condition:
        return self.negated()

    def __bool__(self) -> bool:
        raise QueryError("use & | ~ to combine conditions, not and/or/not (e.g. (A > 1) & (B < 2))")


@dataclass(frozen=True, eq=False)
class Atom(Condition):
    """One comparison of a stored property with a value (``slot``: see :attr:`Field.slot`)."""

    prop: str
    op: str
    value: Any = None
    slot: tuple[str, int] | None = None

    def dnf(self) -> list[list[dict[str, Any]]]:
        """One conjunction of this one atom."""
        return [[{"f": self.prop, **_at(self.slot), "op": self.op, "v": self.value}]]

    def negated(self) -> Condition:
        """The opposite comparison (``>=`` for ``<``, ``<>`` for ``=``, ...)."""
        return Atom(self.prop, _NEGATED[self.op], self.value, self.slot)


def _at(slot: tuple[str, int] | None) -> dict[str, Any]:
    """The ``l`` and ``i`` keys of a query atom or order for a field's list slot."""
    packed, index = slot or (None, None)
    return {"l": packed, "i": index}


@dataclass(frozen=True, eq=False)
class _BoolOp(Condition):
    kind: str
    parts: tuple[Condition, ...]

    def dnf(self) -> list[list[dict[str, Any]]]:
        if self.kind == "or":
            return [conj for part in self.parts for conj in part.dnf()]
        result: list[list[dict[str, Any]]] = [[]]
        for part in self.parts:
            result = [left + right for left in result for right in part.dnf()]
        return result

    def negated(self) -> Condition:
        flipped = "and" if self.kind == "or" else "or"
        return _BoolOp(flipped, tuple(part.negated() for part in self.parts))


def _condition(value: object) -> Condition:
    if not isinstance(value, Condition):
        raise QueryError(f"expected a condition such as Process.duration > 10, got {value!r}")
    return value


@dataclass(frozen=True, eq=False)
class Field:
    """A queryable field of a model, e.g. ``Process.duration``.

    Comparing it with a value gives a :class:`Condition`; ``None`` compares as SQL NULL
    (``Process.depth == None`` selects processes without a depth). A naive datetime is a
    wall-clock time in each job's zone; an aware one an instant.
    """

    model: str
    name: str
    prop: str
    convert: Callable[[Any], Any] = stored_value

    @property
    def slot(self) -> tuple[str, int] | None:
        """Where a Process node keeps this field packed, ``(list, slot)``, if it does."""
        return PACKED_SLOTS.get(self.prop) if self.model == "Process" else None

    def _atom(self, op: str, value: Any) -> Atom:
        if value is None and op in ("=", "<>"):
            return Atom(self.prop, "is null" if op == "=" else "is not null", slot=self.slot)
        if isinstance(value, Field):
            raise QueryError(f"comparing {self} with another field ({value}) is not supported")
        return Atom(self.prop, op, self.convert(value), self.slot)

    def __eq__(self, value: object) -> Condition:  # type: ignore[override]
        return self._atom("=", value)

    def __ne__(self, value: object) -> Condition:  # type: ignore[override]
        return self._atom("<>", value)

    def __lt__(self, value: object) -> Condition:
        return self._atom("<", value)

    def __le__(self, value: object) -> Condition:
        return self._atom("<=", value)

    def __gt__(self, value: object) -> Condition:
        return self._atom(">", value)

    def __ge__(self, value: object) -> Condition:
        return self._atom(">=", value)

    def __hash__(self) -> int:
        return hash((self.model, self.name))

    def in_(self, values: Iterable[Any]) -> Condition:
        """Whether the field's value is one of ``values``."""
        return Atom(self.prop, "in", [self.convert(v) for v in values], self.slot)

    def like(self, pattern: str, escape: str | None = None) -> Condition:
        """SQL's ``LIKE``: whether the field's value, as text, matches ``pattern`` whole,
        where ``%`` stands for any run of characters and ``_`` for any one character
        (``escape`` makes the character after it stand for itself). Case-sensitive, as
        PostgreSQL's ``LIKE`` (SQLite's ignores the case of ASCII letters).

        Examples
        --------
        >>> from epmt_graph.api.models import Job
        >>> [a["v"] for a in Job.jobid.like("%outlier%").dnf()[0]]
        ['(?s).*outlier.*']
        >>> eq.get_jobs(["685000", "685003", "685016"], fltr=~Job.jobid.like("%16"), fmt="terse")
        ['685000', '685003']
        """
        if not isinstance(pattern, str) or (escape is not None and len(escape) != 1):
            raise QueryError(f"like() takes a text pattern and a 1-character escape: {pattern!r}")
        return Atom(self.prop, "like", like_regex(pattern, escape), self.slot)

    def desc(self) -> Order:
        """Descending order on this field."""
        return Order(self, descending=True)

    def asc(self) -> Order:
        """Ascending order on this field."""
        return Order(self, descending=False)

    def __str__(self) -> str:
        return f"{self.model}.{self.name}"


@dataclass(frozen=True)
class Order:
    """An ordering on one field."""

    field: Field
    descending: bool = False
    MAX_KEYS: ClassVar[int] = 3

    def spec(self) -> dict[str, Any]:
        """The ordering as query data (one entry of the ``$order`` parameter)."""
        return {"f": self.field.prop, **_at(self.field.slot), "desc": self.descending}


def like_regex(pattern: str, escape: str | None = None) -> str:
    """An SQL ``LIKE`` pattern as the regular expression that matches the same texts whole
    (what Cypher's ``=~`` takes): every character but ``%`` and ``_`` stands for itself.

    Examples
    --------
    >>> like_regex("kern%out_"), like_regex("100!%", escape="!")
    ('(?s)kern.*out.', '(?s)100%')
    """
    parts = []
    literal = False
    for char in pattern:
        if literal or char not in ("%", "_", escape):
            parts.append(re.escape(char))
            literal = False
        elif char == escape:
            literal = True
        else:
            parts.append(".*" if char == "%" else ".")
    return "(?s)" + "".join(parts)


def desc(field: Field) -> Order:
    """Descending order on ``field`` (EPMT's ``eq.desc``)."""
    return _field(field).desc()


def asc(field: Field) -> Order:
    """Ascending order on ``field``."""
    return _field(field).asc()


def _field(value: object) -> Field:
    if not isinstance(value, Field):
        raise QueryError(f"expected a field such as Process.duration, got {value!r}")
    return value


def orders(order: Any) -> tuple[Order, ...]:
    """EPMT's ``order`` (a field, ``desc(field)`` or a list of them) as :class:`Order` s."""
    if order is None:
        return ()
    items = order if isinstance(order, list | tuple) else [order]
    out = []
    for item in items:
        if isinstance(item, Field):
            item = item.asc()
        if not isinstance(item, Order):
            raise QueryError(f"order must be a field or eq.desc(field), not {item!r}")
        out.append(item)
    if len(out) > Order.MAX_KEYS:
        raise QueryError(f"at most {Order.MAX_KEYS} order keys are supported")
    return tuple(out)
