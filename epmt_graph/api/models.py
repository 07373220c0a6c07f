"""``Process`` and ``Job``: query fields on the class, records on the instance.

``eq.Process.duration`` is a :class:`~epmt_graph.api.expr.Field` for filters and ordering;
``p.duration`` on a process from ``fmt='orm'`` is its value. Relations (``parent``,
``children``, ``ancestors``, ``descendants``, ``job``, ``processes``) are fetched lazily,
each with one named query: never one query per node.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Self, TypeVar, overload

from epmt_graph.api.changes import assign
from epmt_graph.api.expr import Field
from epmt_graph.api.query import ProcessQuery
from epmt_graph.api.rows import job_row, process_rows
from epmt_graph.db import default_graph
from epmt_graph.schema import PROCESS_METRICS

if TYPE_CHECKING:
    from epmt_graph.db import Graph

__all__ = ["JOB_FIELDS", "PROCESS_FIELDS", "Job", "Process", "ProcessList", "RecordList"]

T = TypeVar("T")


class _FieldAttr:
    """Class access gives a query Field; instance access gives the record's value."""

    def __init__(self, prop: str | None = None) -> None:
        self._prop = prop

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.field = Field(owner.__name__, name, self._prop or name)

    @overload
    def __get__(self, obj: None, owner: type) -> Field: ...
    @overload
    def __get__(self, obj: object, owner: type) -> Any: ...
    def __get__(self, obj: object | None, owner: type) -> Any:
        if obj is None:
            return self.field
        row = obj._row  # type: ignore[attr-defined]
        return row.get(self.name, row.get("proc_sums", {}).get(self.name))


class _Record:
    """A record: attribute access to its converted row; a declared field can be assigned,
    which makes the change pending until ``orm_commit()`` (:mod:`epmt_graph.api.changes`)."""

    _row: dict[str, Any]
    _graph: Graph
    _key: str
    #: API field -> stored property, of the fields a record of this class has.
    _changeable: dict[str, str]

    def __init__(self, row: dict[str, Any], graph: Graph) -> None:
        object.__setattr__(self, "_row", row)
        object.__setattr__(self, "_graph", graph)

    def __getattr__(self, name: str) -> Any:
        row = object.__getattribute__(self, "_row")
        if name in row:
            return row[name]
        raise AttributeError(f"{type(self).__name__} has no field {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        assign(self, self._changeable, name, value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Record) or type(other) is not type(self):
            return NotImplemented
        return bool(other._row[self._key] == self._row[self._key])

    def __hash__(self) -> int:
        return hash(self._row[self._key])

    def to_dict(self) -> dict[str, Any]:
        """The record as a plain dict (a copy)."""
        return dict(self._row)

    @classmethod
    def lookup(cls, key: Any, *, graph: Graph | None = None) -> Self | None:
        """The record whose id is ``key``, or None if there is none."""
        raise NotImplementedError

    def __class_getitem__(cls, key: Any) -> Self:
        """EPMT's ``Job['685000']``: the record with that id (KeyError if there is none)."""
        found = cls.lookup(key)
        if found is None:
            raise KeyError(f"{cls.__name__}[{key}] could not be found")
        return found


class Process(_Record):
    """A process: ``eq.Process.<field>`` in queries, a record when returned with ``fmt='orm'``."""

    _key = "id"

    id = _FieldAttr("uid")
    jobid = _FieldAttr()
    pid = _FieldAttr()
    ppid = _FieldAttr()
    pgid = _FieldAttr()
    sid = _FieldAttr()
    gen = _FieldAttr()
    exename = _FieldAttr()
    path = _FieldAttr()
    args = _FieldAttr()
    host = _FieldAttr()
    exitcode = _FieldAttr()
    numtids = _FieldAttr()
    start = _FieldAttr()
    end = _FieldAttr()
    duration = _FieldAttr()
    cpu_time = _FieldAttr()
    inclusive_cpu_time = _FieldAttr()
    depth = _FieldAttr()
    tags = _FieldAttr()

    def __repr__(self) -> str:
        row = self._row
        return f"<Process {row['id']} pid={row['pid']} {row['exename']!r} job={row['jobid']}>"

    @classmethod
    def lookup(cls, key: Any, *, graph: Graph | None = None) -> Process | None:
        """The process whose id is ``key`` (``"jobid:idx"``), or None if there is none.

        Examples
        --------
        >>> eq.Process["685000:0"].pid, eq.Process.lookup("685000:no-such")
        (6098, None)
        """
        uid = str(key)
        query = ProcessQuery.of_jobs(graph or default_graph(), [uid.rpartition(":")[0]], cls)
        return query.filter(cls.id == uid).first()

    @property
    def parent(self) -> Process | None:
        """The parent process, or None for a root."""
        found = ProcessList(self._graph, "process-parent", uid=self.id)
        return found[0] if len(found) else None

    @property
    def children(self) -> ProcessList:
        """The child processes, by start time."""
        return ProcessList(self._graph, "process-children", uid=self.id)

    @property
    def ancestors(self) -> ProcessList:
        """The ancestors, from the root down to the parent."""
        return ProcessList(self._graph, "process-ancestors", uid=self.id)

    @property
    def descendants(self) -> ProcessList:
        """All processes below this one, by start time."""
        return ProcessList(
            self._graph,
            "process-descendants",
            count_query="process-descendant-count",
            uid=self.id,
        )

    @property
    def threads_sums(self) -> dict[str, Any]:
        """The metrics summed over the process's threads (EPMT's ``threads_sums``)."""
        return {name: self._row[name] for name in PROCESS_METRICS if name in self._row}

    @property
    def job(self) -> Job:
        """The process's job."""
        (record,) = self._graph.read("jobs-by-id", jobids=[self.jobid])
        return Job(job_row(record["j"]), self._graph)


class Job(_Record):
    """A job: ``eq.Job.<field>`` in queries, a record when returned with ``fmt='orm'``."""

    _key = "jobid"

    jobid = _FieldAttr()
    jobname = _FieldAttr()
    user = _FieldAttr()
    start = _FieldAttr()
    end = _FieldAttr()
    submit = _FieldAttr()
    duration = _FieldAttr()
    exitcode = _FieldAttr()
    tags = _FieldAttr()
    cpu_time = _FieldAttr()
    num_procs = _FieldAttr()
    num_threads = _FieldAttr()

    def __repr__(self) -> str:
        return f"<Job {self._row['jobid']}>"

    @classmethod
    def lookup(cls, key: Any, *, graph: Graph | None = None) -> Job | None:
        """The job whose id is ``key``, or None if there is none.

        Examples
        --------
        >>> eq.Job["685000"].jobname, eq.Job.lookup("no-such-job")
        ('ESM4_historical_D151_ocean_annual_rho2_1x1deg_18840101', None)
        >>> eq.Job["no-such-job"]
        Traceback (most recent call last):
        ...
        KeyError: 'Job[no-such-job] could not be found'
        """
        graph = graph or default_graph()
        found = graph.read("jobs-by-id", jobids=[str(key)])
        return cls(job_row(found[0]["j"]), graph) if found else None

    @property
    def processes(self) -> ProcessQuery[Process]:
        """The job's processes, as a lazy query."""
        return ProcessQuery.of_jobs(self._graph, [self.jobid], Process)

    @property
    def proc_sums(self) -> dict[str, Any]:
        """Sums over the job's processes (EPMT's ``proc_sums``)."""
        return dict(self._row["proc_sums"])


class ProcessList:
    """Processes related to one process, fetched by one named query on first use.

    Supports ``len()``, iteration, indexing and EPMT's ``.count()``. With a
    ``count_query``, counting before fetching runs that query instead of fetching rows.
    """

    def __init__(
        self, graph: Graph, query: str, *, count_query: str | None = None, **params: Any
    ) -> None:
        self._graph = graph
        self._query = query
        self._count_query = count_query
        self._params = params
        self._items: list[Process] | None = None

    def _fetch(self) -> list[Process]:
        if self._items is None:
            records = self._graph.read(self._query, **self._params)
            rows = process_rows([r["p"] for r in records])
            self._items = [Process(row, self._graph) for row in rows]
        return self._items

    def count(self) -> int:
        """How many processes (a count query if they are not fetched yet and one exists)."""
        if self._items is None and self._count_query is not None:
            (record,) = self._graph.read(self._count_query, **self._params)
            return int(record["n"])
        return len(self._fetch())

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[Process]:
        return iter(self._fetch())

    @overload
    def __getitem__(self, index: int) -> Process: ...
    @overload
    def __getitem__(self, index: slice) -> list[Process]: ...
    def __getitem__(self, index: int | slice) -> Process | list[Process]:
        return self._fetch()[index]

    def __repr__(self) -> str:
        return f"<ProcessList {self._query} {json.dumps(self._params)}>"


class RecordList(list[T]):
    """Records returned with ``fmt='orm'``: a list that also answers EPMT's ``.count()``
    and ``.first()``.

    EPMT returns a SQLAlchemy query there, whose ``count()`` takes no argument; with one,
    ``count(x)`` is the list's own.

    Examples
    --------
    >>> roots = RecordList(["a", "b", "a"])
    >>> roots.count(), roots.count("a"), roots[1:], roots.first(), RecordList().first()
    (3, 2, ['b', 'a'], 'a', None)
    """

    def count(self, *value: T) -> int:
        """How many records (EPMT's ``Query.count()``), or how many equal ``value``."""
        return super().count(*value) if value else len(self)

    def first(self) -> T | None:
        """The first record, or None when there is none (EPMT's ``Query.first()``)."""
        return self[0] if self else None


def _add_metrics(model: type) -> None:
    """Give ``model`` a field for each of :data:`~epmt_graph.schema.PROCESS_METRICS`."""
    for name in PROCESS_METRICS:
        attr = _FieldAttr()
        attr.__set_name__(model, name)
        setattr(model, name, attr)


_add_metrics(Process)
_add_metrics(Job)


def _fields(model: type) -> dict[str, str]:
    return {
        name: attr.field.prop for name, attr in vars(model).items() if isinstance(attr, _FieldAttr)
    }


#: API field name -> stored property, for processes (EPMT's Process model plus metrics).
PROCESS_FIELDS: dict[str, str] = {**_fields(Process), "job": "jobid"}
#: API field name -> stored property, for jobs (EPMT's Job model plus proc_sums).
JOB_FIELDS: dict[str, str] = _fields(Job)
Process._changeable = PROCESS_FIELDS
Job._changeable = JOB_FIELDS
