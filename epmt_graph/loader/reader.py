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
import json
import operator
import os
import tempfile
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from epmt_graph.errors import ArchiveError
from epmt_graph.loader.archive import (
    METADATA_NAME,
    Readable,
    iter_members,
    text_chunks,
    text_lines,
)
from epmt_graph.loader.digest import LaterDigest, job_digest
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
from epmt_graph.loader.papiex import PapiexFile, Processes, parse_csv, parse_tsv
from epmt_graph.loader.safe_pickle import load_metadata
from epmt_graph.loader.spill import ProcessRows, RowSpill
from epmt_graph.loader.totals import FileTotals, job_row
from epmt_graph.schema import parse_tags, tag_pairs, tag_string, tree_values
from epmt_graph.schema.trees import Ints

__all__ = ["JobBuilder", "gc_paused", "read_job"]

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
        """Add every process of a papiex file, a batch at a time as its rows are parsed.

        Raises
        ------
        ArchiveError
            A row is malformed, or a process runs outside the job's start and end.
        """
        file = FileTotals(name, papiex, _file_host(name))
        self.files.append(file)
        for batch in papiex.batches:
            self._add(batch, file, len(self.files) - 1)

    def _add(self, batch: Processes, file: FileTotals, number: int) -> None:
        ints, texts = batch.ints, batch.texts
        start, end, pid = ints["start"], ints["end"], ints["pid"]
        count = ints["numtids"]
        user, system = file.cpu
        totals, big = _sums(batch.threads[:, file.summed_at], batch.first, count, file.cpu)
        cpu = totals[:, user] + totals[:, system]
        self._check(batch, file, big | batch.big)
        rdtsc = totals[:, file.rdtsc_sum]
        failed = rdtsc <= 0  # EPMT's post_process_job marks them -1
        threads = batch.threads
        if failed.any():
            file.errors.extend(zip(pid[failed].tolist(), rdtsc[failed].tolist(), strict=True))
            rdtsc[failed] = -1
            clamp = np.repeat(failed, count) & (threads[:, file.rdtsc] < 0)
            threads = threads.copy()
            threads[clamp, file.rdtsc] = -1
        file.add(totals)
        first = int(np.argmin(start))
        if file.earliest is None or start[first] < file.earliest[0]:
            file.earliest = (int(start[first]), int(ints["exitcode"][first]))
        hosts = np.where(
            texts["hostname"] != "", texts["hostname"], file.host or self.meta.hostname
        )
        names, inverse = np.unique(hosts, return_inverse=True)
        codes = [self.hosts.setdefault(host, len(self.hosts)) for host in names.tolist()]
        tags = texts["tags"].tolist()
        for text in set(tags).difference(self._tags):
            parsed = parse_tags(text)
            self._tags[text] = (tag_string(parsed), tag_pairs(parsed))
        self.num_threads += int(count.sum())
        self.keys.extend(
            host=np.array(codes, dtype=np.int64)[inverse.reshape(-1)],
            pid=pid,
            ppid=ints["ppid"],
            start=start,
            end=end,
            cpu=cpu,
            file=np.full(len(batch), number, dtype=np.int64),
            line=batch.lines,
        )
        columns = [
            *(pid, ints["ppid"], ints["pgid"], ints["sid"], ints["generation"]),
            *(texts["exename"], texts["path"], texts["args"], hosts, ints["exitcode"]),
            *(count, start, end, end - start, cpu),
        ]
        rows = zip(
            *(column.tolist() for column in columns),
            [self._tags[text][0] for text in tags],
            [self._tags[text][1] for text in tags],
            *totals.T.tolist(),
            file.threads_json(threads, batch.first, count, rdtsc),
            strict=True,
        )
        for row in rows:
            self.spill.append((number, row))

    def _check(self, batch: Processes, file: FileTotals, big: npt.NDArray[np.bool_]) -> None:
        """Refuse the first process that runs outside the job's window or holds a value
        outside 64 bits (checked in that order for one process)."""
        start, end = batch.ints["start"], batch.ints["end"]
        outside = (start < self.meta.start) | (end > self.meta.end)
        bad = np.flatnonzero(outside | big)
        if not len(bad):
            return
        i = int(bad[0])
        where = f"{file.papiex.source}, line {batch.lines[i]}"
        if not outside[i]:
            raise ArchiveError(f"{where}: an id, time or CPU time does not fit 64 bits")
        raise ArchiveError(
            f"{where}: corrupted file: process {batch.texts['exename'][i]} (pid "
            f"{batch.ints['pid'][i]}) runs {start[i]}..{end[i]} us, outside the job's "
            f"{self.meta.start}..{self.meta.end} us"
        )

    def finish(self, source: str, *, ahead: bool = False) -> JobRows:
        """The job: its processes ordered, checked and linked, and its row (``source``
        names where it was read); ``ahead``: its digest made later
        (:attr:`JobRows.pending_digest`), not yet in the row.

        Raises
        ------
        ArchiveError
            No process, a process twice, or parent links that form a cycle.
        """
        return _finish(self, source, ahead)


def _sums(
    values: Ints, first: Ints, count: Ints, cpu: tuple[int, int]
) -> tuple[Ints, npt.NDArray[np.bool_]]:
    """Each process's sums of ``values`` over its threads (rows ``first`` on, ``count`` of
    them), and whether one of them, or its CPU time (the sum of the columns ``cpu``), is
    outside 64 bits (then its sums are 0)."""
    if not len(first):
        return np.zeros((0, values.shape[1]), dtype=np.int64), np.zeros(0, dtype=bool)
    most = np.abs(values.astype(np.float64)).max(initial=0) * int(count.max())
    if most < 2**61:
        return np.add.reduceat(values, first, axis=0), np.zeros(len(first), dtype=bool)
    exact = np.add.reduceat(values.astype(object), first, axis=0)
    big = np.array(
        [
            any(not -(2**63) <= v < 2**63 for v in (*row, row[cpu[0]] + row[cpu[1]]))
            for row in exact.tolist()
        ]
    )
    exact[big] = 0
    return exact.astype(np.int64), big


def _finish(builder: JobBuilder, source: str, ahead: bool) -> JobRows:
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
    keys_named = sorted({"jobid", "idx", "uid"}.union(*layouts))
    if ahead:
        pending = LaterDigest(job, processes, parents, keys_named)
        return JobRows(job, processes, parents, source, pending_digest=pending)
    job["digest"] = job_digest(job, processes, parents, keys_named)
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
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: building ~10^6 acyclic objects triggers it
    over and over for nothing (about a third of the load time).

    Examples
    --------
    >>> with gc_paused():
    ...     gc.isenabled()
    False
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_job(path: str | os.PathLike[str], *, digest_ahead: bool = False) -> JobRows:
    """Read and validate one EPMT job archive or job directory.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.tgz``/``.tar.gz``/``.tar`` archive or an unpacked job directory holding
        ``job_metadata`` and papiex CSV (v1) or TSV (v2) files.
    digest_ahead : bool
        Return before the content digest is made: it is made later, on a thread of its
        own while a load writes the job, or when asked for (:meth:`JobRows.digest`).
        Default: the digest is in the job's row (``job["digest"]``).

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
    with gc_paused():
        return _read(os.fspath(path), digest_ahead)


def _read(source: str, ahead: bool) -> JobRows:
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
    return builder.finish(source, ahead=ahead)


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
    lines = text_chunks(stream, label)
    if not name.endswith(".tsv"):
        return parse_csv(lines, source=label)
    header = _header_name(name)
    if header not in headers:
        raise ArchiveError(f"{label}: TSV (format v2) file without its {header}")
    return parse_tsv(
        lines, headers[header], source=label, header_source=os.path.join(source, header)
    )
