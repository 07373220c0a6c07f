"""One job of an EPMT database made into the loader's :class:`~epmt_graph.loader.JobRows`.

The migrator is another reader of the loader's rows: it hands EPMT's stored papiex rows to
the same :class:`~epmt_graph.loader.reader.JobBuilder` an archive's files go through, a
file per host, so that a migrated job is what loading its archive makes (the same order,
parents, ``depth`` and ``inclusive_cpu_time``, sums, EPMT's ``rdtsc_duration`` rule and
``papiex-error`` annotations, and content digest), whatever EPMT computed or left undone
(its tree tables, sums and post-processing are never read).

Its processes are read in id order (the order EPMT stored its archive's files in), a chunk
of rows at a time, into runs of one host and thread layout (:mod:`.stored`); a job that EPMT
copied from CSV v2 files into PostgreSQL's ``processes_staging`` and has not post-processed
is read from there. Each run of processes of one host and layout is a papiex file to the
builder, in batches (:mod:`.batches`): files of one host come sorted by name in the order
they were read, so the job is the same whether a host's processes come together or not.
"""

from __future__ import annotations

import datetime as dt
import itertools
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from epmt_graph.errors import ArchiveError, SourceError
from epmt_graph.loader.migrate.batches import batches
from epmt_graph.loader.migrate.source import Source
from epmt_graph.loader.migrate.stored import staged_runs, stored_runs
from epmt_graph.loader.migrate.zones import JobClock, micros, naive_span
from epmt_graph.loader.model import JobRows
from epmt_graph.loader.papiex import papiex_file
from epmt_graph.loader.reader import JobBuilder, gc_paused
from epmt_graph.schema import parse_tags

__all__ = ["StoredJob", "read_stored_job"]


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
    with gc_paused():  # as the archive reader: ~10^6 acyclic objects made
        return _read(source, jobid, server_tz)


def _read(source: Source, jobid: str, server_tz: dt.tzinfo | None) -> JobRows:
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
            runs = staged_runs(source.staged(*staged), metric_names)
        else:
            ordered = source.engine.dialect.name == "sqlite"  # JSONB forgets key order
            runs = stored_runs(source.processes(jobid), metric_names, ordered, server_tz)
        groups = itertools.groupby(runs, key=operator.itemgetter(0, 1))
        for number, ((host, layout), group) in enumerate(groups):
            where = f"{label}, host {host!r} (line: the process's id)"
            made = batches(run for _, _, run in group)
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
