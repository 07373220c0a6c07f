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
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import hashlib
import json
import operator
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from epmt_graph.errors import ArchiveError
from epmt_graph.loader.archive import METADATA_NAME, read_job_files
from epmt_graph.loader.metadata import JobMeta, dumps, parse_tags, tag_pairs, tag_string
from epmt_graph.loader.model import JobRows, Row
from epmt_graph.loader.papiex import PapiexFile, ThreadRow, parse_csv, parse_tsv
from epmt_graph.loader.safe_pickle import load_metadata

__all__ = ["read_job"]

_ORDER = operator.itemgetter("start", "pid", "host")


def _file_host(name: str) -> str:
    """Host from a papiex file name, as EPMT's ``get_filedict`` derives it (may be "")."""
    return name.split("papiex")[0].replace("-collated-", "").removesuffix("-")


def _parse_files(files: Mapping[str, str], source: str) -> list[tuple[PapiexFile, str]]:
    parsed = []
    for name, text in files.items():
        label = os.path.join(source, name)
        if name.endswith("-papiex-header.tsv"):
            continue
        host = _file_host(name)
        if name.endswith(".tsv"):
            header = f"{host}-papiex-header.tsv"
            if header not in files:
                raise ArchiveError(f"{label}: TSV (format v2) file without its {header}")
            header_label = os.path.join(source, header)
            papiex = parse_tsv(text, files[header], source=label, header_source=header_label)
        else:
            papiex = parse_csv(text, source=label)
        parsed.append((papiex, host))
    return parsed


def _group(papiex: PapiexFile) -> list[list[ThreadRow]]:
    """Split a file's thread rows into processes: runs of ``numtids`` rows.

    The first row of a run must carry the per-process fields; the other rows may leave
    them empty (collated files) or repeat them for the same ``pid``.
    """
    procs: list[list[ThreadRow]] = []
    rows, i = papiex.rows, 0
    while i < len(rows):
        first = rows[i].process
        if first is None:
            raise ArchiveError(
                f"{papiex.source}, line {rows[i].line}: thread row without a process"
            )
        block = rows[i : i + first["numtids"]]
        for row in block[1:]:
            if row.process is not None and row.process["pid"] != first["pid"]:
                raise ArchiveError(
                    f"{papiex.source}, line {row.line}: pid {row.process['pid']} inside the "
                    f"{first['numtids']} thread rows of pid {first['pid']} (line {rows[i].line})"
                )
        if len(block) != first["numtids"]:
            raise ArchiveError(
                f"{papiex.source}, line {rows[i].line}: process {first['pid']} declares "
                f"numtids={first['numtids']} but the file ends after {len(block)} thread rows"
            )
        procs.append(block)
        i += len(block)
    return procs


class _Layout:
    """Per-file helpers: which values are summed, and the JSON template of a thread."""

    def __init__(self, papiex: PapiexFile) -> None:
        self.summed = papiex.summed
        self.pick = operator.itemgetter(*(papiex.columns.index(m) for m in papiex.summed))
        self.rdtsc = papiex.columns.index("rdtsc_duration")
        self.template = "{" + ", ".join(f"{json.dumps(c)}: %d" for c in papiex.columns) + "}"
        own = [c for c in papiex.columns if c not in papiex.summed]
        self.own = operator.itemgetter(*(papiex.columns.index(c) for c in own))
        self.own_template = "{" + ", ".join(f"{json.dumps(c)}: %d" for c in own) + "}"
        self.totals: list[tuple[int, ...]] = []  # each process's sums, before the rdtsc rule


class _Builder:
    """Build process rows in file order, checking each against the job."""

    def __init__(self, meta: JobMeta) -> None:
        self.meta = meta
        self.procs: list[Row] = []
        self.where: list[tuple[str, int]] = []
        self.papiex_errors: list[tuple[int, int]] = []  # (pid, rdtsc_duration sum)
        self.totals: list[tuple[tuple[str, ...], list[tuple[int, ...]]]] = []  # per file
        self._tags: dict[str, tuple[str, list[str]]] = {}
        self._seen: dict[tuple[str, int, int], int] = {}

    def at(self, i: int) -> str:
        """Where process ``i`` (in file order) was read: file and line."""
        return "{}, line {}".format(*self.where[i])

    def all_proc_tags(self) -> list[dict[str, str]]:
        """EPMT's ``all_proc_tags``: distinct process tag dicts, sorted by their JSON."""
        distinct = {dumps(parse_tags(t)) for t in self._tags if t}
        return [json.loads(t) for t in sorted(distinct)]

    def add_file(self, papiex: PapiexFile, file_host: str) -> None:
        """Add every process of a parsed papiex file."""
        layout = _Layout(papiex)
        self.totals.append((papiex.summed, layout.totals))
        for block in _group(papiex):
            self.add(block, papiex.source, file_host, layout)

    def add(self, block: list[ThreadRow], source: str, file_host: str, layout: _Layout) -> None:
        """Turn the thread rows of one process into a process row."""
        fields = block[0].process
        assert fields is not None
        self.where.append((source, block[0].line))
        start, end, pid = fields["start"], fields["end"], fields["pid"]
        if start < self.meta.start or end > self.meta.end:
            raise ArchiveError(
                f"{self.at(-1)}: corrupted file: process {fields['exename']} (pid {pid}) runs "
                f"{start}..{end} us, outside the job's {self.meta.start}..{self.meta.end} us"
            )
        host = fields["hostname"] or file_host or self.meta.hostname
        twin = self._seen.setdefault((host, pid, start), len(self.procs))
        if twin != len(self.procs):
            raise ArchiveError(f"{self.at(-1)}: duplicated process (as at {self.at(twin)})")
        if fields["tags"] not in self._tags:
            tags = parse_tags(fields["tags"])
            self._tags[fields["tags"]] = (tag_string(tags), tag_pairs(tags))
        tags_text, pairs = self._tags[fields["tags"]]
        values = [row.values for row in block]
        if len(values) == 1:
            totals = layout.pick(values[0])
        else:
            totals = tuple(map(sum, zip(*map(layout.pick, values), strict=True)))
        layout.totals.append(totals)
        sums = dict(zip(layout.summed, totals, strict=True))
        if sums["rdtsc_duration"] <= 0:  # EPMT's post_process_job marks it -1
            self.papiex_errors.append((pid, sums["rdtsc_duration"]))
            sums["rdtsc_duration"] = -1
            values = [_clamp_rdtsc(v, layout.rdtsc) for v in values]
        self.procs.append(
            {
                "jobid": self.meta.jobid,
                "pid": pid,
                "ppid": fields["ppid"],
                "pgid": fields["pgid"],
                "sid": fields["sid"],
                "gen": fields["generation"],
                "exename": fields["exename"],
                "path": fields["path"],
                "args": fields["args"],
                "host": host,
                "exitcode": fields["exitcode"],
                "numtids": len(block),
                "start": start,
                "end": end,
                "duration": end - start,
                "cpu_time": sums["usertime"] + sums["systemtime"],
                "tags": tags_text,
                "tag_pairs": pairs,
                **sums,
                "threads_json": _threads_json(layout, values, sums["rdtsc_duration"]),
            }
        )


def _threads_json(layout: _Layout, values: list[tuple[int, ...]], rdtsc: int) -> str:
    """The per-thread rows as JSON: a list, or for one thread whose metrics are the process's
    own sums, only its unsummed columns as an object (see :func:`~model.thread_rows`)."""
    if len(values) == 1 and values[0][layout.rdtsc] == rdtsc:
        own = layout.own(values[0])
        return layout.own_template % (own if isinstance(own, tuple) else (own,))
    return "[" + ", ".join(layout.template % v for v in values) + "]"


def _clamp_rdtsc(values: tuple[int, ...], at: int) -> tuple[int, ...]:
    """A thread's values with a negative ``rdtsc_duration`` set to -1, as EPMT does."""
    return values if values[at] >= 0 else (*values[:at], -1, *values[at + 1 :])


def _link_parents(procs: list[Row]) -> list[int | None]:
    """EPMT's parent rule in O(n log n); ``procs`` are sorted by start."""
    groups: dict[tuple[str, int], list[int]] = {}
    for i, p in enumerate(procs):
        groups.setdefault((p["host"], p["pid"]), []).append(i)
    latest_end: dict[tuple[str, int], list[int]] = {}
    for key, members in groups.items():
        running, ends = -(2**63), []
        for i in members:
            running = max(running, procs[i]["end"])
            ends.append(running)
        latest_end[key] = ends
    parents: list[int | None] = []
    for p in procs:
        key = (p["host"], p["ppid"])
        ends = latest_end.get(key, [])
        at = bisect.bisect_right(ends, p["start"])
        parents.append(groups[key][at] if at < len(ends) else None)
    return parents


def _check_acyclic(parents: list[int | None], where: Callable[[int], str]) -> None:
    state = [0] * len(parents)  # 0 unseen, 1 on the current path, 2 done
    for start in range(len(parents)):
        path: list[int] = []
        node: int | None = start
        while node is not None and state[node] == 0:
            state[node] = 1
            path.append(node)
            node = parents[node]
        if node is not None and state[node] == 1:
            raise ArchiveError(f"{where(node)}: the ppid links form a cycle")
        for n in path:
            state[n] = 2


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


def _job_row(meta: JobMeta, builder: _Builder, summed: list[str], info: dict[str, Any]) -> Row:
    procs = builder.procs
    sums = dict.fromkeys(summed, 0)
    for names, totals in builder.totals:
        for name, total in zip(names, map(sum, zip(*totals, strict=True)), strict=True):
            sums[name] += total
    annotations = meta.annotations | _papiex_annotations(builder.papiex_errors)
    if builder.papiex_errors:
        sums["rdtsc_duration"] = -1
    root = min(range(len(procs)), key=lambda i: procs[i]["start"])  # first earliest, as EPMT
    return {
        "jobid": meta.jobid,
        "jobname": meta.jobname,
        "user": meta.user,
        "start": meta.start,
        "end": meta.end,
        "submit": meta.submit,
        "duration": meta.end - meta.start,
        "exitcode": procs[root]["exitcode"],
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
        "num_procs": len(procs),
        "num_threads": sum(map(operator.itemgetter("numtids"), procs)),
        "all_proc_tags_json": dumps(builder.all_proc_tags()),
    }


def _digest(job: Row, procs: list[Row], parents: list[int | None], keys: list[str]) -> str:
    """sha256 of a canonical serialisation of the parsed job: JSON, row by row."""
    digest = hashlib.sha256(dumps([job, keys, parents]).encode())
    scalars = [k for k in keys if k != "threads_json"]
    row = operator.itemgetter(*scalars)
    for proc in procs:
        try:
            values = row(proc)
        except KeyError:  # a metric only some papiex files have
            values = tuple(proc.get(k) for k in scalars)
        digest.update(json.dumps(values).encode())
        digest.update(proc["threads_json"].encode())  # already canonical JSON
    return digest.hexdigest()


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: building ~10^6 acyclic dicts triggers it
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
        The job, its processes in ``(start, pid)`` order and their parents.

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
        return _read(path)


def _read(path: str | os.PathLike[str]) -> JobRows:
    files = read_job_files(path)
    source = files.source
    where = os.path.join(source, METADATA_NAME)
    meta = JobMeta(load_metadata(files.metadata, source=where), where)
    builder = _Builder(meta)
    parsed = _parse_files(files.papiex, source)
    for papiex, host in parsed:
        builder.add_file(papiex, host)
    if not builder.procs:
        raise ArchiveError(f"{source}: the job has no processes")
    info = {
        "tz": meta.tz_name,
        "status": meta.status,
        "metric_names": parsed[0][0].metric_names,
        "post_processed": 1,
        "procs_in_process_table": 1,
        "process_tree": 1,
    }
    summed = sorted({m for papiex, _ in parsed for m in papiex.summed})
    job = _job_row(meta, builder, summed, info)
    order = sorted(range(len(builder.procs)), key=lambda i: _ORDER(builder.procs[i]))
    procs = [builder.procs[i] for i in order]
    for idx, proc in enumerate(procs):
        proc["idx"], proc["uid"] = idx, f"{meta.jobid}:{idx}"
    parents = _link_parents(procs)
    _check_acyclic(parents, lambda idx: builder.at(order[idx]))
    job["digest"] = _digest(job, procs, parents, sorted({*procs[0], *summed}))
    for proc, parent in zip(procs, parents, strict=True):
        if parent is not None:
            proc["parent"] = procs[parent]["uid"]
    return JobRows(job=job, processes=procs, parents=parents, source=source)
