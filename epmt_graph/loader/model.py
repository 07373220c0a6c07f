"""The rows the loader hands to the graph writer: one :class:`JobRows` per job.

A parsed job is plain data: a dict of Job node properties, a list of Process node
properties in ``idx`` order, and the parent of each process as an ``idx`` (or ``None``
for a root; a process row also names it by uid, ``parent``, so that queries need not
traverse PARENT_OF to show it). Every property value is a Neo4j primitive (int, float,
str, bool, None) or a homogeneous list of them; maps (tags, environment, info) are
stored as JSON strings plus, for tags, an index-friendly list of ``"key:value"`` pairs.

Units follow EPMT: times are integer microseconds since the epoch (UTC), durations
integer microseconds, ``cpu_time = usertime + systemtime`` summed over threads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "METRIC_SLOTS",
    "PAPIEX_FIELDS",
    "PROCESS_FIELDS",
    "PROCESS_METRICS",
    "JobRows",
    "Row",
    "node_properties",
    "row_properties",
    "thread_rows",
]

Row = dict[str, Any]

#: Per-thread papiex metrics that a process sums over its threads (EPMT's ``threads_sums``)
#: and a job sums over its processes (EPMT's ``proc_sums``). The papiex ``num_threads``
#: and ``starttime`` columns are not summed (EPMT's ``skip_for_thread_sums``); they stay
#: in ``threads_json``, and the job's ``num_threads`` is the sum of ``numtids``.
PROCESS_METRICS: tuple[str, ...] = (
    "usertime",
    "systemtime",
    "rssmax",
    "minflt",
    "majflt",
    "inblock",
    "outblock",
    "vol_ctxsw",
    "invol_ctxsw",
    "processor",
    "delayacct_blkio_time",
    "guest_time",
    "rchar",
    "wchar",
    "syscr",
    "syscw",
    "read_bytes",
    "write_bytes",
    "cancelled_write_bytes",
    "time_oncpu",
    "time_waiting",
    "timeslices",
    "rdtsc_duration",
    "PERF_COUNT_SW_CPU_CLOCK",
)


#: The fields a process row takes from its papiex rows, before its summed metrics, in the
#: order the reader keeps them (:mod:`epmt_graph.loader.reader`).
PAPIEX_FIELDS: tuple[str, ...] = (
    "pid",
    "ppid",
    "pgid",
    "sid",
    "gen",
    "exename",
    "path",
    "args",
    "host",
    "exitcode",
    "numtids",
    "start",
    "end",
    "duration",
    "cpu_time",
    "tags",
    "tag_pairs",
)

#: Process properties that are not summed thread metrics (``version``: the writer's, see
#: :mod:`epmt_graph.loader.writer`).
PROCESS_FIELDS: frozenset[str] = frozenset(
    (
        "uid",
        "idx",
        "jobid",
        *PAPIEX_FIELDS,
        "threads_json",
        "depth",
        "inclusive_cpu_time",
        "parent",
        "version",
    )
)


#: Where a Process node keeps each of :data:`PROCESS_METRICS`: its ``metrics`` list, in
#: this order. One list property instead of 24 makes a job's write about a third cheaper
#: (fewer property records to create, commit and read past; benchmarks/RESULTS.md). A
#: metric of a papiex file beyond these (e.g. v2's ``cutime``) stays a property of its own.
METRIC_SLOTS: dict[str, int] = {name: slot for slot, name in enumerate(PROCESS_METRICS)}


def node_properties(process: Row) -> Row:
    """The properties a Process node stores for a process row: the metrics in one list.

    Examples
    --------
    >>> row = {"pid": 7, **{name: 0 for name in PROCESS_METRICS}, "usertime": 5, "cutime": 1}
    >>> node = node_properties(row)
    >>> node["pid"], node["metrics"][METRIC_SLOTS["usertime"]], node["cutime"], "usertime" in node
    (7, 5, 1, False)
    >>> row_properties(node) == row
    True
    """
    node = dict(process)
    node["metrics"] = [node.pop(name) for name in PROCESS_METRICS]
    return node


def row_properties(node: Mapping[str, Any]) -> Row:
    """A process row from a Process node's properties (:func:`node_properties` undone).

    Nodes without a ``metrics`` list (written before it existed) come back as they are.
    """
    row = dict(node)
    metrics = row.pop("metrics", None)
    if metrics is not None:
        row.update(zip(PROCESS_METRICS, metrics, strict=True))
    return row


def thread_rows(process: Row) -> list[Row]:
    """The per-thread papiex rows of a process, from its ``threads_json``.

    ``threads_json`` is a JSON list of thread rows; for a single-threaded process (97% of
    them) it holds only the thread's unsummed columns (``tid``, ``start``, ``end``,
    ``num_threads``, ``starttime``), and its metrics are the process's own.

    Examples
    --------
    >>> thread_rows({"pid": 7, "usertime": 5, "threads_json": '{"tid": 7, "starttime": 1}'})
    [{'tid': 7, 'starttime': 1, 'usertime': 5}]
    >>> thread_rows({"pid": 7, "usertime": 9, "threads_json": '[{"tid": 7}, {"tid": 8}]'})
    [{'tid': 7}, {'tid': 8}]
    """
    threads = json.loads(process["threads_json"])
    if isinstance(threads, list):
        return threads
    metrics = {k: v for k, v in process.items() if k not in PROCESS_FIELDS}
    return [{**threads, **metrics}]


@dataclass(frozen=True)
class JobRows:
    """One job, parsed and validated, ready to be written.

    Attributes
    ----------
    job : dict
        Job node properties. Keys: ``jobid`` (str), ``jobname``, ``user``, ``start``,
        ``end``, ``submit`` (int microseconds since the epoch), ``duration`` (int
        microseconds), ``exitcode`` (int or None), ``tz`` (IANA zone name the job's
        naive times are shown in; when the metadata's timestamps carry a fixed offset,
        a zone with that offset: ``"UTC"``, ``"Etc/GMT-5"``, ``"Asia/Calcutta"`` for IST),
        ``tags`` (canonical ``"k:v;k2:v2"`` sorted by key,
        ``""`` when untagged), ``tag_pairs`` (list of ``"k:v"``), ``env_json``,
        ``env_changes_json``, ``info_json``, ``annotations_json``, ``analyses_json``
        (JSON objects as strings; annotations as EPMT makes them: ``EPMT_JOB_TAGS`` and
        the ``papiex-error`` entries), the job's ``proc_sums``: every name in
        :data:`PROCESS_METRICS` (and any further summed metric of the papiex files, e.g.
        ``cutime`` in v2) summed over processes, with EPMT's rule that ``rdtsc_duration``
        is -1 when any process's is, ``cpu_time``, ``num_procs``,
        ``num_threads`` (sum of ``numtids``), ``all_proc_tags_json`` (JSON list of the
        distinct process tag dicts), and ``digest`` (sha256 of the parsed content, so
        that reloading the same archive can be recognised).
    processes : sequence of dict
        Process node properties, ``processes[i]["idx"] == i``, ordered by ``(start, pid)``;
        each access builds a new dict (the reader keeps them in a temporary file).
        Keys: ``uid`` (``f"{jobid}:{idx}"``, unique in the database), ``idx``, ``jobid``,
        ``pid``, ``ppid``, ``pgid``, ``sid``, ``gen``, ``exename``, ``path``, ``args``,
        ``host``, ``exitcode``, ``numtids``, ``start``, ``end``, ``duration``,
        ``cpu_time``, ``tags``, ``tag_pairs`` (as for jobs), every name in
        :data:`PROCESS_METRICS` (and any further summed metric of its papiex file)
        summed over the process's threads (``rdtsc_duration`` is -1 when the sum is not
        positive, as EPMT), and ``threads_json`` (the raw per-thread rows: every
        non-per-process column, ``tid``/``start``/``end`` included in CSV v1; compact for
        single-threaded processes, read it with :func:`thread_rows`); ``parent`` (the
        parent's ``uid``, for a child), ``depth`` (0 for a root) and
        ``inclusive_cpu_time`` (its ``cpu_time`` plus its descendants').
    parents : sequence of int or None
        ``parents[i]`` is the ``idx`` of process ``i``'s parent, or ``None`` for a root.
    source : str
        The archive or directory the job was read from.
    """

    job: Row
    processes: Sequence[Row]
    parents: Sequence[int | None]
    source: str

    @property
    def jobid(self) -> str:
        """The job's id."""
        return str(self.job["jobid"])

    @property
    def edges(self) -> list[tuple[int, int]]:
        """``(parent_idx, child_idx)`` pairs, one per PARENT_OF edge."""
        return [(parent, child) for child, parent in enumerate(self.parents) if parent is not None]
