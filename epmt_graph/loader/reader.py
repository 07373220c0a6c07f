"""Turn one EPMT job archive or directory into validated :class:`JobRows`.

This follows EPMT 5.0.1's ETL (``epmt_job.ETL_job_dict``, ``post_process_job``,
``_create_process_tree``):

* A process is a run of ``numtids`` consecutive thread rows; its first thread supplies
  the per-process fields and the process ``start``/``end``; every metric is summed over
  its threads. The process host is the row's ``hostname``, else the one in the file
  name, else the metadata's ``job_pl_hostname``.
* Naive metadata timestamps are in the zone named by the job environment's ``TZ`` (or
  ``TIMEZONE``), else the ``EPMT_TZ`` environment variable, else ``US/Eastern``,
  localised as pytz does by default (``is_dst=False``). Aware timestamps keep their zone.
* A process starting before the job's start or ending after its stop means a corrupted
  file (EPMT: ``p.start < start_ts or p.end > stop_ts``).
* The job's exit code is the exit code of its earliest process; a process whose
  ``rdtsc_duration`` sum is not positive gets ``-1`` there, and so does the job, with
  EPMT's ``papiex-error`` annotations.
* A process's parent is, among the processes of the same host whose ``pid`` is its
  ``ppid``, the earliest-starting one that ends after it starts; none means a root.

The reader streams: a papiex file is read a chunk of lines at a time, each process is
built as soon as its thread rows are read and goes to a temporary file
(:class:`~epmt_graph.loader.spill.RowSpill`), and only a few numbers per process stay in
memory (:class:`~epmt_graph.loader.keys.ProcessKeys`) to order, check and link the job.
A papiex file that comes in the archive before ``job_metadata`` (or a v2 file before its
header) is copied to a temporary file and read once they are there.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import operator
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from epmt_graph.errors import ArchiveError
from epmt_graph.loader.archive import METADATA_NAME, Readable, iter_members, text_lines
from epmt_graph.loader.keys import (
    Parents,
    ProcessKeys,
    first_cycle,
    first_duplicate,
    link_parents,
    sort_order,
    tree_values,
)
from epmt_graph.loader.metadata import JobMeta, dumps, parse_tags, tag_pairs, tag_string
from epmt_graph.loader.model import PAPIEX_FIELDS, JobRows, Row
from epmt_graph.loader.papiex import PapiexFile, ThreadRow, parse_csv, parse_tsv
from epmt_graph.loader.safe_pickle import load_metadata
from epmt_graph.loader.spill import ProcessRows, RowSpill

__all__ = ["read_job"]

_HEADER = "-papiex-header.tsv"
#: Bytes of an early papiex file kept in memory before its copy goes to disk.
_SPOOL_MEMORY = 8 * 1024**2


def _file_host(name: str) -> str:
    """Host from a papiex file name, as EPMT's ``get_filedict`` derives it (may be "")."""
    return name.split("papiex")[0].replace("-collated-", "").removesuffix("-")


def _header_name(name: str) -> str:
    return f"{_file_host(name)}{_HEADER}"


def _group(papiex: PapiexFile) -> Iterator[list[ThreadRow]]:
    """Split a file's thread rows into processes: runs of ``numtids`` rows.

    The first row of a run must carry the per-process fields; the other rows may leave
    them empty (collated files) or repeat them for the same ``pid``.
    """
    block: list[ThreadRow] = []
    numtids = 0
    for row in papiex.rows:
        if not block:
            if row.process is None:
                raise ArchiveError(
                    f"{papiex.source}, line {row.line}: thread row without a process"
                )
            numtids = row.process["numtids"]
        elif row.process is not None and row.process["pid"] != block[0].process["pid"]:  # type: ignore[index]
            first = block[0]
            raise ArchiveError(
                f"{papiex.source}, line {row.line}: pid {row.process['pid']} inside the "
                f"{numtids} thread rows of pid {first.process['pid']} (line {first.line})"  # type: ignore[index]
            )
        block.append(row)
        if len(block) == numtids:
            yield block
            block = []
    if block:
        first = block[0]
        raise ArchiveError(
            f"{papiex.source}, line {first.line}: process {first.process['pid']} declares "  # type: ignore[index]
            f"numtids={numtids} but the file ends after {len(block)} thread rows"
        )


@dataclass
class _File:
    """One papiex file of the job, and what its processes add to the job's row."""

    name: str
    papiex: PapiexFile
    host: str
    sums: list[int] = field(default_factory=list)  # per metric of papiex.summed
    errors: list[tuple[int, int]] = field(default_factory=list)  # (pid, rdtsc sum <= 0)
    earliest: tuple[int, int] | None = None  # (start, exitcode) of its first earliest

    def __post_init__(self) -> None:
        columns, summed = self.papiex.columns, self.papiex.summed
        self.sums = [0] * len(summed)
        self.keys = (*PAPIEX_FIELDS, *summed, "threads_json")
        self.pick = operator.itemgetter(*(columns.index(m) for m in summed))
        self.rdtsc = columns.index("rdtsc_duration")
        self.rdtsc_sum = summed.index("rdtsc_duration")
        self.cpu = (summed.index("usertime"), summed.index("systemtime"))
        self.template = "{" + ", ".join(f"{json.dumps(c)}: %d" for c in columns) + "}"
        own = [c for c in columns if c not in summed]
        self.own = operator.itemgetter(*(columns.index(c) for c in own))
        self.own_template = "{" + ", ".join(f"{json.dumps(c)}: %d" for c in own) + "}"

    def threads_json(self, values: list[tuple[int, ...]], rdtsc: int) -> str:
        """The per-thread rows as JSON: a list, or for one thread whose metrics are the
        process's own sums, only its unsummed columns as an object (see
        :func:`~epmt_graph.loader.model.thread_rows`)."""
        if len(values) == 1 and values[0][self.rdtsc] == rdtsc:
            own = self.own(values[0])
            return self.own_template % (own if isinstance(own, tuple) else (own,))
        return "[" + ", ".join(self.template % v for v in values) + "]"


class _Builder:
    """Build process rows as their files are read, checking each against the job."""

    def __init__(self, meta: JobMeta) -> None:
        self.meta = meta
        self.files: list[_File] = []
        self.spill = RowSpill()
        self.keys = ProcessKeys()
        self.hosts: dict[str, int] = {}
        self.num_threads = 0
        self._tags: dict[str, tuple[str, list[str]]] = {}

    def at(self, i: int) -> str:
        """Where process ``i`` (in reading order) was read: file and line."""
        file = self.files[int(self.keys.column("file")[i])]
        return f"{file.papiex.source}, line {self.keys.column('line')[i]}"

    def all_proc_tags(self) -> list[dict[str, str]]:
        """EPMT's ``all_proc_tags``: distinct process tag dicts, sorted by their JSON."""
        distinct = {dumps(parse_tags(t)) for t in self._tags if t}
        return [json.loads(t) for t in sorted(distinct)]

    def add_file(self, name: str, papiex: PapiexFile) -> None:
        """Add every process of a papiex file, as its rows are parsed."""
        file = _File(name, papiex, _file_host(name))
        self.files.append(file)
        for block in _group(papiex):
            self._add(block, file, len(self.files) - 1)

    def _add(self, block: list[ThreadRow], file: _File, number: int) -> None:
        fields = block[0].process
        assert fields is not None
        start, end, pid = fields["start"], fields["end"], fields["pid"]
        where = f"{file.papiex.source}, line {block[0].line}"
        if start < self.meta.start or end > self.meta.end:
            raise ArchiveError(
                f"{where}: corrupted file: process {fields['exename']} (pid {pid}) runs "
                f"{start}..{end} us, outside the job's {self.meta.start}..{self.meta.end} us"
            )
        host = fields["hostname"] or file.host or self.meta.hostname
        if file.earliest is None or start < file.earliest[0]:
            file.earliest = (start, fields["exitcode"])
        if fields["tags"] not in self._tags:
            tags = parse_tags(fields["tags"])
            self._tags[fields["tags"]] = (tag_string(tags), tag_pairs(tags))
        tags_text, pairs = self._tags[fields["tags"]]
        values = [row.values for row in block]
        if len(values) == 1:
            totals = list(file.pick(values[0]))
        else:
            totals = list(map(sum, zip(*map(file.pick, values), strict=True)))
        file.sums = list(map(operator.add, file.sums, totals))
        rdtsc = totals[file.rdtsc_sum]
        if rdtsc <= 0:  # EPMT's post_process_job marks it -1
            file.errors.append((pid, rdtsc))
            totals[file.rdtsc_sum] = rdtsc = -1
            values = [_clamp_rdtsc(v, file.rdtsc) for v in values]
        self.num_threads += len(block)
        user, system = file.cpu
        cpu = totals[user] + totals[system]
        try:
            self.keys.add(
                host=self.hosts.setdefault(host, len(self.hosts)),
                pid=pid,
                ppid=fields["ppid"],
                start=start,
                end=end,
                cpu=cpu,
                file=number,
                line=block[0].line,
            )
        except OverflowError:
            raise ArchiveError(f"{where}: an id, time or CPU time does not fit 64 bits") from None
        row = (
            *(pid, fields["ppid"], fields["pgid"], fields["sid"], fields["generation"]),
            *(fields["exename"], fields["path"], fields["args"], host, fields["exitcode"]),
            *(len(block), start, end, end - start, cpu),
            *(tags_text, pairs, *totals, file.threads_json(values, rdtsc)),
        )
        self.spill.append((number, row))


def _clamp_rdtsc(values: tuple[int, ...], at: int) -> tuple[int, ...]:
    """A thread's values with a negative ``rdtsc_duration`` set to -1, as EPMT does."""
    return values if values[at] >= 0 else (*values[:at], -1, *values[at + 1 :])


def _papiex_annotations(errors: list[tuple[int, int]]) -> dict[str, Any]:
    """EPMT's annotations for processes whose ``rdtsc_duration`` sum is not positive."""
    if not errors:
        return {}
    last = (
        "papiex / PAPI library could not be preloaded (rdtsc_duration = 0)."
        if errors[-1][1] == 0
        else "PAPI failed or misbehaved process closed a descriptor it did not own"
        " (rdtsc_duration < 0)."
    )
    return {
        "papiex-error": f"{last} {len(errors)} processes have potentially erroneous PAPI "
        "metric counts",
        "papiex-error-process-ids": sorted({pid for pid, _ in errors}),
    }


def _job_row(meta: JobMeta, builder: _Builder, files: list[_File]) -> Row:
    """The job's row; ``files`` by name, which decides the job's exit code (the first
    earliest process's) and the order of its papiex errors."""
    summed = sorted({m for file in files for m in file.papiex.summed})
    sums = dict.fromkeys(summed, 0)
    for file in files:
        for name, total in zip(file.papiex.summed, file.sums, strict=True):
            sums[name] += total
    errors = [error for file in files for error in file.errors]
    annotations = meta.annotations | _papiex_annotations(errors)
    if errors:
        sums["rdtsc_duration"] = -1
    earliest = min((f.earliest for f in files if f.earliest), key=operator.itemgetter(0))
    info = {
        "tz": meta.tz_name,
        "status": meta.status,
        "metric_names": files[0].papiex.metric_names,
        "post_processed": 1,
        "procs_in_process_table": 1,
        "process_tree": 1,
    }
    return {
        "jobid": meta.jobid,
        "jobname": meta.jobname,
        "user": meta.user,
        "start": meta.start,
        "end": meta.end,
        "submit": meta.submit,
        "duration": meta.end - meta.start,
        "exitcode": earliest[1],
        "tz": meta.zone,
        "tags": tag_string(meta.tags),
        "tag_pairs": tag_pairs(meta.tags),
        "env_json": dumps(meta.env),
        "env_changes_json": dumps(meta.env_changes),
        "info_json": dumps(info),
        "annotations_json": dumps(annotations),
        "analyses_json": "{}",
        **sums,
        "cpu_time": sums["usertime"] + sums["systemtime"],
        "num_procs": len(builder.keys),
        "num_threads": builder.num_threads,
        "all_proc_tags_json": dumps(builder.all_proc_tags()),
    }


def _digest(job: Row, procs: ProcessRows, parents: Parents, keys: list[str]) -> str:
    """sha256 of a canonical serialisation of the parsed job: JSON, row by row.

    It begins with ``dumps([job, keys, list(parents)])``, made a slice of parents at a time.
    """
    digest = hashlib.sha256(dumps([job, keys])[:-1].encode() + b", [")
    for start in range(0, len(parents), 1 << 16):
        text = json.dumps(parents[start : start + (1 << 16)])[1:-1]
        digest.update(b", " + text.encode() if start else text.encode())
    digest.update(b"]]")
    scalars = [k for k in keys if k != "threads_json"]
    for *values, threads in procs.values([*scalars, "threads_json"]):
        digest.update(json.dumps(values).encode())
        digest.update(threads.encode())  # already canonical JSON
    return digest.hexdigest()


def _finish(builder: _Builder, source: str) -> JobRows:
    """Order, check and link the processes read, and make the job's row."""
    keys = builder.keys
    if not len(keys):
        raise ArchiveError(f"{source}: the job has no processes")
    names = [file.name for file in builder.files]
    duplicate = first_duplicate(keys, _ranks(names))
    if duplicate is not None:
        twin, again = duplicate
        raise ArchiveError(f"{builder.at(again)}: duplicated process (as at {builder.at(twin)})")
    order = sort_order(keys, _ranks(list(builder.hosts)))  # hosts in the order of their codes
    linked = link_parents(keys, order)
    cycle = first_cycle(linked)
    if cycle is not None:
        raise ArchiveError(f"{builder.at(int(order[cycle]))}: the ppid links form a cycle")
    parents = Parents(linked)
    job = _job_row(builder.meta, builder, sorted(builder.files, key=operator.attrgetter("name")))
    builder.spill.seal()
    layouts = [file.keys for file in builder.files]
    depth, inclusive = tree_values(linked, keys.column("cpu")[order])
    computed = {"depth": depth, "inclusive_cpu_time": inclusive}
    processes = ProcessRows(
        builder.spill, layouts, order, parents, str(builder.meta.jobid), computed
    )
    job["digest"] = _digest(
        job, processes, parents, sorted({"jobid", "idx", "uid"}.union(*layouts))
    )
    return JobRows(job=job, processes=processes, parents=parents, source=source)


def _ranks(names: list[str]) -> list[int]:
    """The place of each of ``names`` among them sorted.

    >>> _ranks(["pp212", "pp208", "pp301"])
    [1, 0, 2]
    """
    ranks = [0] * len(names)
    for place, i in enumerate(sorted(range(len(names)), key=names.__getitem__)):
        ranks[i] = place
    return ranks


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: building ~10^6 acyclic objects triggers it
    over and over for nothing (about a third of the load time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_job(path: str | os.PathLike[str]) -> JobRows:
    """Read and validate one EPMT job archive or job directory.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.tgz``/``.tar.gz``/``.tar`` archive or an unpacked job directory holding
        ``job_metadata`` and papiex CSV (v1) or TSV (v2) files.

    Returns
    -------
    JobRows
        The job, its processes in ``(start, pid)`` order and their parents. The processes
        are read back from a temporary file as they are asked for.

    Raises
    ------
    ArchiveError
        If the archive is unsafe, unreadable or malformed, ``job_metadata`` is missing,
        a papiex file is corrupt (the message names file and line), a process runs
        outside the job's start/stop, a process appears twice, the parent links form a
        cycle, or the job has no process.
    UnsafePickleError
        If ``job_metadata`` asks for a type outside the allowed list.
    """
    with _gc_paused():
        return _read(os.fspath(path))


def _read(source: str) -> JobRows:
    builder: _Builder | None = None
    headers: dict[str, str] = {}
    waiting: list[tuple[str, Readable]] = []
    with contextlib.ExitStack() as stack:
        for name, stream in iter_members(source):
            if name == METADATA_NAME:
                where = os.path.join(source, name)
                builder = _Builder(JobMeta(load_metadata(stream.read(), source=where), where))
            elif name.endswith(_HEADER):
                headers[name] = "".join(text_lines(stream, os.path.join(source, name)))
            elif builder is not None and (name.endswith(".csv") or _header_name(name) in headers):
                builder.add_file(name, _parse(source, name, stream, headers))
            else:
                waiting.append((name, stack.enter_context(_spooled(stream))))
        if builder is None:
            raise ArchiveError(f"{source}: missing {METADATA_NAME}")
        for name, copy in sorted(waiting, key=operator.itemgetter(0)):
            builder.add_file(name, _parse(source, name, copy, headers))
    return _finish(builder, source)


@contextlib.contextmanager
def _spooled(stream: Readable) -> Iterator[Readable]:
    """A copy of ``stream`` to read later: in memory, or on disk past a few megabytes."""
    with tempfile.SpooledTemporaryFile(_SPOOL_MEMORY) as copy:
        while chunk := stream.read(_SPOOL_MEMORY):
            copy.write(chunk)
        copy.seek(0)
        yield copy


def _parse(source: str, name: str, stream: Readable, headers: dict[str, str]) -> PapiexFile:
    """Start parsing one papiex data file (its rows are parsed as they are iterated)."""
    label = os.path.join(source, name)
    lines = text_lines(stream, label)
    if not name.endswith(".tsv"):
        return parse_csv(lines, source=label)
    header = _header_name(name)
    if header not in headers:
        raise ArchiveError(f"{label}: TSV (format v2) file without its {header}")
    return parse_tsv(
        lines, headers[header], source=label, header_source=os.path.join(source, header)
    )
