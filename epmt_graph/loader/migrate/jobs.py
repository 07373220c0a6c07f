"""One job of an EPMT database made into the loader's :class:`~epmt_graph.loader.JobRows`.

The migrator is another reader of the loader's rows: it hands EPMT's stored papiex rows to
the same :class:`~epmt_graph.loader.reader.JobBuilder` an archive's files go through, a
file per host, so that a migrated job is what loading its archive makes (the same order,
parents, ``depth`` and ``inclusive_cpu_time``, sums, EPMT's ``rdtsc_duration`` rule and
``papiex-error`` annotations, and content digest), whatever EPMT computed or left undone
(its tree tables, sums and post-processing are never read).

What EPMT keeps of a process: its ``threads_df``, the papiex rows of its threads as read
(CSV v1: every column of each thread row, the process's own fields in the first; CSV v2:
each thread's metrics, the process's fields and its ``start``/``end`` added to the first),
and its fields as columns (taken from the columns, which EPMT's API may have changed; the
generation, which EPMT's bulk insert leaves empty, from the first thread). A job that EPMT
copied from CSV v2 files into PostgreSQL's ``processes_staging`` and has not post-processed
is read from there; one it has moved out since lost its raw ``start``/``end``: they are its
naive times read in ``server_tz``. JSONB (PostgreSQL) keeps no key order: a CSV v1 job's
thread columns then come in papiex's order (:data:`PAPIEX_V1_ORDER`), a v2 job's in its
``metric_names``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from epmt_graph.errors import ArchiveError, SourceError
from epmt_graph.loader.migrate.batches import batches
from epmt_graph.loader.migrate.source import Source, StoredRow
from epmt_graph.loader.migrate.zones import JobClock, micros, naive_span
from epmt_graph.loader.model import JobRows
from epmt_graph.loader.papiex import PER_PROCESS_FIELDS, papiex_file
from epmt_graph.loader.reader import JobBuilder
from epmt_graph.schema import parse_tags, tag_string

__all__ = ["PAPIEX_V1_ORDER", "StoredJob", "read_stored_job"]

#: papiex's CSV v1 thread columns in its header's order (JSONB forgets the order of keys).
PAPIEX_V1_ORDER: tuple[str, ...] = (
    *("tid", "start", "end", "usertime", "systemtime", "rssmax", "minflt", "majflt"),
    *("inblock", "outblock", "vol_ctxsw", "invol_ctxsw", "num_threads", "starttime"),
    *("processor", "delayacct_blkio_time", "guest_time", "rchar", "wchar", "syscr", "syscw"),
    *("read_bytes", "write_bytes", "cancelled_write_bytes", "time_oncpu", "time_waiting"),
    *("timeslices", "rdtsc_duration", "PERF_COUNT_SW_CPU_CLOCK"),
)
_V1_RANK = {name: rank for rank, name in enumerate(PAPIEX_V1_ORDER)}
_NOT_THREAD_COLUMNS = frozenset(PER_PROCESS_FIELDS | {"start", "end", "finish"})


@dataclass
class StoredJob:
    """A stored job's facts (a :class:`~epmt_graph.loader.metadata.JobFacts`)."""

    jobid: str
    user: str
    jobname: str
    start: int
    end: int
    submit: int
    zone: str
    tz_name: str
    hostname: str = ""
    env: dict[str, Any] = field(default_factory=dict)
    env_changes: dict[str, Any] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)
    analyses: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


class _Layout:
    """The thread columns of a process, whether its file was CSV v2, and ``pick``, which
    takes a thread's values of the columns from its dict, as a tuple."""

    def __init__(self, columns: tuple[str, ...], *, tsv: bool) -> None:
        self.columns = columns
        self.tsv = tsv
        self.pick: Callable[[StoredRow], tuple[Any, ...]] = operator.itemgetter(*columns)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Layout) and (self.columns, self.tsv) == (other.columns, other.tsv)

    def __hash__(self) -> int:
        return hash((self.columns, self.tsv))


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def read_stored_job(source: Source, jobid: str, server_tz: dt.tzinfo | None = None) -> JobRows:
    """Read job ``jobid`` of ``source`` into the rows loading its archive gives.

    Parameters
    ----------
    source : Source
    jobid : str
    server_tz : tzinfo, optional
        The zone of the machine EPMT ran on (default: this machine's), for ``created_at``
        and the times of processes EPMT moved from its staging table.

    Returns
    -------
    JobRows
        Its job row carries EPMT's ``created_at`` (not part of its digest).

    Raises
    ------
    SourceError
        No such job, or rows that do not make a job (the message names the job and the
        process's id in the database).
    """
    row = source.job(jobid)
    info = _dict(row["info_dict"])
    staged = None
    try:
        if not info.get("procs_in_process_table", 1) and info.get("procs_staging_ids"):
            first, last = info["procs_staging_ids"]
            staged = (int(first), int(last))
        clock = JobClock(
            jobid,
            info.get("tz"),
            row["start"],
            lambda: _raw_offset(source, jobid),
            lambda: _span(source, jobid, staged, server_tz),
        )
        meta = StoredJob(
            jobid=jobid,
            user=str(row["user_id"] or ""),
            jobname=str(row["jobname"] or "unknown"),
            start=clock.micros(row["start"]),
            end=clock.micros(row["end"]),
            submit=clock.micros(row["submit"] or row["start"]),
            zone=clock.name,
            tz_name=clock.tz_name,
            env=_dict(row["env_dict"]),
            env_changes=_dict(row["env_changes_dict"]),
            annotations=_dict(row["annotations"]),
            analyses=_dict(row["analyses"]),
            status=_dict(info.get("status")),
            tags=parse_tags(_dict(row["tags"])),
        )
    except (AttributeError, TypeError, ValueError) as exc:  # a null or odd start, end, info
        raise SourceError(f"{source.label}: job {jobid}: malformed jobs row ({exc!r})") from exc
    builder = JobBuilder(meta)
    label = f"{source.label}, job {jobid}"
    metric_names = str(info.get("metric_names") or "").split(",")
    try:
        if staged is not None:
            processes = _staged_threads(source.staged(*staged), metric_names)
        else:
            ordered = source.engine.dialect.name == "sqlite"  # JSONB forgets key order
            stream = source.processes(jobid)
            processes = _threads(stream, metric_names, ordered, server_tz)
        groups = itertools.groupby(processes, key=operator.itemgetter(0, 1))
        for number, ((host, layout), group) in enumerate(groups):
            where = f"{label}, host {host!r} (line: the process's id)"
            stored = ((line, fields, values) for _, _, line, fields, values in group)
            made = batches(stored, len(layout.columns))
            builder.add_file(
                f"{host}-papiex-{number:06d}",
                papiex_file(where, layout.columns, made, tsv=layout.tsv),
            )
        rows_of_job = builder.finish(label)
    except ArchiveError as exc:
        raise SourceError(str(exc)) from exc
    if row["created_at"] is not None:
        rows_of_job.job["created_at"] = micros(row["created_at"], server_tz)
    return rows_of_job


def _raw_offset(source: Source, jobid: str) -> dt.timedelta | None:
    """The job's UTC offset from its first process: naive start less raw UTC start."""
    first = source.first_process(jobid)
    if first is None or not first["threads_df"]:
        return None
    raw = first["threads_df"][0].get("start")
    if not isinstance(raw, int):
        return None
    naive = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=raw)
    return first["start"] - naive  # type: ignore[no-any-return]


def _span(
    source: Source, jobid: str, staged: tuple[int, int] | None, server_tz: dt.tzinfo | None
) -> tuple[int, int] | None:
    found = source.span(jobid, staged)
    return None if found is None else naive_span(*found, server_tz)


def _layout(first: StoredRow, metric_names: list[str], ordered: bool) -> _Layout:
    """The thread columns of a process whose first thread is ``first``."""
    if "tid" in first:  # CSV v1: tid, start, end and the metrics, in the header's order
        columns = [k for k in first if k not in PER_PROCESS_FIELDS]
        if not ordered:
            columns.sort(key=lambda name: (_V1_RANK.get(name, len(_V1_RANK)), name))
        return _Layout(tuple(columns), tsv=False)
    columns = [k for k in first if k not in _NOT_THREAD_COLUMNS]
    if set(columns) == set(metric_names):
        columns = metric_names  # CSV v2: the metrics, in the header's order
    return _Layout(tuple(columns), tsv=True)


def _json(value: Any) -> Any:
    """A JSON column's value: parsed from its text (SQLite), or as the driver parsed it."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _naive(value: Any) -> dt.datetime:
    """A time column's naive datetime: from its text (SQLite), or as the driver made it."""
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


class _Tags(dict[Any, str]):
    """Canonical tag strings by the stored value (text or dict): most processes share a few."""

    def of(self, value: Any) -> str:
        """The canonical ``"k:v;..."`` string of a stored ``tags`` value."""
        key = value if isinstance(value, str | None) else tuple(value.items())
        if key not in self:
            self[key] = tag_string(parse_tags(_dict(_json(value))))
        return self[key]


def _fields(row: StoredRow, first: StoredRow, host: str, numtids: int, tags: str) -> dict[str, Any]:
    """The per-process fields the loader reads from a process's first papiex row."""
    generation = row["gen"] if row["gen"] is not None else first.get("generation")
    fields = {
        "tags": tags,
        "hostname": host,
        "exename": row["exename"] or "",
        "path": row["path"] or "",
        "args": row["args"] or "",
        "numtids": numtids,
    }
    for name, value in (
        ("exitcode", row["exitcode"]),
        ("pid", row["pid"]),
        ("generation", generation),
        ("ppid", row["ppid"]),
        ("pgid", row["pgid"]),
        ("sid", row["sid"]),
    ):
        fields[name] = int(value)  # type: ignore[arg-type]  # None: a TypeError, reported
    return fields


#: A stored process: its host, its layout, its id, its fields and its threads' values.
Process = tuple[str, _Layout, int, dict[str, Any], list[tuple[int, ...]]]


def _threads(
    rows: Iterator[StoredRow],
    metric_names: list[str],
    ordered: bool,
    server_tz: dt.tzinfo | None,
) -> Iterator[Process]:
    """Each stored process as its host, its layout, its id, its fields and its threads."""
    layouts: dict[tuple[str, ...], _Layout] = {}
    tags = _Tags()
    for row in rows:
        try:
            threads = _json(row["threads_df"])
            first = threads[0]
            keys = tuple(first)
            layout = layouts.get(keys) or layouts.setdefault(
                keys, _layout(first, metric_names, ordered)
            )
            host = str(row["host_id"] or "")
            fields = _fields(row, first, host, len(threads), tags.of(row["tags"]))
            if isinstance(first.get("start"), int):
                fields["start"], fields["end"] = first["start"], first["end"]
            else:  # moved from PostgreSQL's staging table: naive, in EPMT's machine's zone
                fields["start"], fields["end"] = (
                    micros(_naive(row[k]), server_tz) for k in ("start", "end")
                )
            values = [layout.pick(t) for t in threads]
            if {type(v) for thread in values for v in thread} != {int}:
                raise ValueError("a thread value is not an integer")
        except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
            raise ArchiveError(
                f"process {row['id']}: unreadable threads_df or fields ({exc!r})"
            ) from exc
        yield host, layout, int(row["id"]), fields, values


def _staged_threads(rows: Iterator[StoredRow], metric_names: list[str]) -> Iterator[Process]:
    """Each process of PostgreSQL's staging table (CSV v2 rows, metrics flattened)."""
    layout = _Layout(tuple(metric_names), tsv=True)
    width = len(metric_names)
    for row in rows:
        try:
            flat = [round(v) for v in row["threads_df"]]
            numtids = int(row["numtids"])
            if len(flat) != numtids * width:
                raise ValueError(f"{len(flat)} metric values for {numtids} threads of {width}")
            fields = _fields(
                {**row, "gen": row["generation"]},
                {},
                str(row["hostname"] or ""),
                numtids,
                tag_string(parse_tags(row["tags"])),
            )
            fields["start"], fields["end"] = round(row["start"]), round(row["finish"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ArchiveError(f"process {row['id']}: unreadable staged row ({exc!r})") from exc
        values = [tuple(flat[t * width : (t + 1) * width]) for t in range(numtids)]
        yield fields["hostname"], layout, int(row["id"]), fields, values
