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

from epmt_graph.errors import ArchiveError
from epmt_graph.loader.archive import METADATA_NAME, Readable, iter_members, text_lines
from epmt_graph.loader.keys import (
    Parents,
    ProcessKeys,
    first_cycle,
    first_duplicate,
    link_parents,
    sort_order,
)
from epmt_graph.loader.metadata import JobFacts, JobMeta, dumps
from epmt_graph.loader.model import JobRows
from epmt_graph.loader.papiex import PapiexFile, ThreadRow, parse_csv, parse_tsv, process_blocks
from epmt_graph.loader.safe_pickle import load_metadata
from epmt_graph.loader.spill import ProcessRows, RowSpill
from epmt_graph.loader.totals import FileTotals, job_row
from epmt_graph.schema import Row, parse_tags, tag_pairs, tag_string, tree_values

__all__ = ["JobBuilder", "read_job"]

_HEADER = "-papiex-header.tsv"
#: Bytes of an early papiex file kept in memory before its copy goes to disk.
_SPOOL_MEMORY = 8 * 1024**2


def _file_host(name: str) -> str:
    """Host from a papiex file name, as EPMT's ``get_filedict`` derives it (may be "")."""
    return name.split("papiex")[0].replace("-collated-", "").removesuffix("-")


def _header_name(name: str) -> str:
    return f"{_file_host(name)}{_HEADER}"


class JobBuilder:
    """Build a job's process rows as its papiex files are read, checking each against the
    job; :meth:`finish` orders, checks and links them into :class:`JobRows`.

    :func:`read_job` feeds it an archive's files; the migrator
    (:mod:`epmt_graph.loader.migrate`) feeds it the rows of an EPMT database, a file per host.

    Parameters
    ----------
    meta : JobFacts
        The job's facts (times, zone, tags, environment, annotations, ...).
    """

    def __init__(self, meta: JobFacts) -> None:
        self.meta = meta
        self.files: list[FileTotals] = []
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
        """Add every process of a papiex file, as its rows are parsed.

        Raises
        ------
        ArchiveError
            A row is malformed, or a process runs outside the job's start and end.
        """
        file = FileTotals(name, papiex, _file_host(name))
        self.files.append(file)
        for block in process_blocks(papiex):
            self._add(block, file, len(self.files) - 1)

    def _add(self, block: list[ThreadRow], file: FileTotals, number: int) -> None:
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

    def finish(self, source: str) -> JobRows:
        """The job: its processes ordered, checked and linked, and its row (``source``
        names where it was read).

        Raises
        ------
        ArchiveError
            No process, a process twice, or parent links that form a cycle.
        """
        return _finish(self, source)


def _clamp_rdtsc(values: tuple[int, ...], at: int) -> tuple[int, ...]:
    """A thread's values with a negative ``rdtsc_duration`` set to -1, as EPMT does."""
    return values if values[at] >= 0 else (*values[:at], -1, *values[at + 1 :])


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


def _finish(builder: JobBuilder, source: str) -> JobRows:
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
    job = job_row(
        builder.meta,
        sorted(builder.files, key=operator.attrgetter("name")),
        processes=len(keys),
        threads=builder.num_threads,
        proc_tags=builder.all_proc_tags(),
    )
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
    builder: JobBuilder | None = None
    headers: dict[str, str] = {}
    waiting: list[tuple[str, Readable]] = []
    with contextlib.ExitStack() as stack:
        for name, stream in iter_members(source):
            if name == METADATA_NAME:
                where = os.path.join(source, name)
                builder = JobBuilder(JobMeta(load_metadata(stream.read(), source=where), where))
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
    return builder.finish(source)


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
