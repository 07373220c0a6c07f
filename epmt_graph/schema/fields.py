"""The fields stored on the graph's nodes, named once for the loader and the API.

Three labels hold a job: ``(:JobHead {jobid, version})`` names the published version,
``(:Job)`` is one version's job-level values and ``(:Process)`` one process of it;
``(:Process)-[:PARENT_OF]->(:Process)`` and ``(:Process)-[:BELONGS_TO]->(:Job)`` link a
version's nodes. A reference model is a ``(:RefModel)`` node (:data:`REFMODEL_PROPERTIES`)
with ``(:RefModel)-[:BUILT_FROM]->(:JobHead)`` to each job it was built from. Times are
integer microseconds since the epoch (UTC), durations integer microseconds,
``cpu_time = usertime + systemtime``.

Examples
--------
>>> PROCESS_METRICS[METRIC_SLOTS["rchar"]]
'rchar'
>>> PACKED_SLOTS["rchar"], "args" in PACKED_SLOTS
(('metrics', 12), False)
>>> PROCESS_PROPERTIES["inclusive_cpu_time"], JOB_PROPERTIES["tz"]
(<class 'int'>, <class 'str'>)
>>> PAPIEX_PROCESS_COLUMNS["hostname"], PAPIEX_PROCESS_COLUMNS["pid"]
('host', 'pid')
"""

from __future__ import annotations

__all__ = [
    "EDGES",
    "JOB_PROPERTIES",
    "LABELS",
    "METRIC_SLOTS",
    "PACKED_SLOTS",
    "PAPIEX_FIELDS",
    "PAPIEX_PROCESS_COLUMNS",
    "PROCESS_METRICS",
    "PROCESS_PACKED",
    "PROCESS_PROPERTIES",
    "REFMODEL_EDGE",
    "REFMODEL_LABEL",
    "REFMODEL_PROPERTIES",
]

#: The node labels of a stored job.
LABELS: tuple[str, ...] = ("JobHead", "Job", "Process")
#: The relationship types between them.
EDGES: tuple[str, ...] = ("PARENT_OF", "BELONGS_TO")

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

#: Where a Process node keeps each of :data:`PROCESS_METRICS`: its ``metrics`` list, in
#: this order. One list property instead of 24 makes a job's write about a third cheaper
#: (fewer property records to create, commit and read past; benchmarks/RESULTS.md). A
#: metric of a papiex file beyond these (e.g. v2's ``cutime``) stays a property of its own.
METRIC_SLOTS: dict[str, int] = {name: slot for slot, name in enumerate(PROCESS_METRICS)}

#: EPMT's per-process papiex columns (``settings.per_process_fields`` less the MPI ones),
#: each with the Process property that keeps it.
PAPIEX_PROCESS_COLUMNS: dict[str, str] = {
    "tags": "tags",
    "hostname": "host",
    "exename": "exename",
    "path": "path",
    "args": "args",
    "exitcode": "exitcode",
    "pid": "pid",
    "generation": "gen",
    "ppid": "ppid",
    "pgid": "pgid",
    "sid": "sid",
    "numtids": "numtids",
}

#: The fields a process row takes from its papiex rows, before its summed metrics, in the
#: order the reader keeps them.
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

#: A process's fields besides the summed metrics, with their type (None allowed for
#: ``exitcode`` and ``parent``; ``tag_pairs`` holds strings), and the lists of
#: :data:`PROCESS_PACKED` that keep some of them on the node. ``uid`` is ``"<jobid>:<idx>"``,
#: unique in the database; ``idx`` numbers a job's processes by ``(start, pid, host)``;
#: ``tags`` is the canonical ``"k:v;k2:v2"`` string and ``tag_pairs`` its ``"k:v"`` list;
#: ``threads_json`` the raw per-thread rows; ``parent`` the parent's ``uid``; ``depth``
#: (0 for a root) and ``inclusive_cpu_time`` (itself and its descendants) are computed
#: by the loader and again by the server's tree walk; ``version`` names the job version.
#: ``created_at`` (when loaded; absent: ``version``, the load's time) and ``updated_at``
#: (when last changed by ``orm_commit``; absent: never) are microseconds since the epoch.
PROCESS_PROPERTIES: dict[str, type] = {
    "uid": str,
    "idx": int,
    "jobid": str,
    **{name: int for name in PAPIEX_FIELDS},
    **{name: str for name in ("exename", "path", "args", "host", "tags")},
    "tag_pairs": list,
    "threads_json": str,
    "depth": int,
    "inclusive_cpu_time": int,
    "parent": str,
    "version": int,
    "metrics": list,
    "created_at": int,
    "updated_at": int,
}

#: The process fields a Process node keeps packed in a list property instead of properties
#: of their own, by list, in slot order: the summed metrics (``p.metrics[12]`` is
#: ``rchar``). Packing more (ppid/pgid/sid/gen in an int list, path/args in a string list)
#: was measured and did not pay: small ints and short strings are stored inline, a list in
#: a record of its own (docs/performance.md, "Process node width"). A list added here is
#: written, read, filtered, ordered and changed by every part that follows this
#: description; it holds one type and no null, so a node whose field of a list is None
#: keeps that list's fields as properties. The API's filters reach a packed field by its
#: list and slot (:data:`PACKED_SLOTS`).
PROCESS_PACKED: dict[str, tuple[str, ...]] = {"metrics": PROCESS_METRICS}

#: Where a Process node keeps each field of :data:`PROCESS_PACKED`: ``(list, slot)``.
PACKED_SLOTS: dict[str, tuple[str, int]] = {
    name: (packed, slot)
    for packed, names in PROCESS_PACKED.items()
    for slot, name in enumerate(names)
}

#: Job node properties, with their type, besides the job's sums of
#: :data:`PROCESS_METRICS` (and of any further summed metric of its papiex files). Maps
#: (environment, info, annotations, analyses, the distinct process tag dicts) are JSON
#: strings; ``tz`` is the IANA zone the job's naive times are shown in; ``digest`` the
#: sha256 of the parsed content; ``metric_names`` the order of a process's ``metrics``;
#: ``created_at`` and ``updated_at`` as a Process's.
JOB_PROPERTIES: dict[str, type] = {
    "jobid": str,
    "version": int,
    "jobname": str,
    "user": str,
    "start": int,
    "end": int,
    "submit": int,
    "duration": int,
    "exitcode": int,
    "tz": str,
    "tags": str,
    "tag_pairs": list,
    "env_json": str,
    "env_changes_json": str,
    "info_json": str,
    "annotations_json": str,
    "analyses_json": str,
    "all_proc_tags_json": str,
    "cpu_time": int,
    "num_procs": int,
    "num_threads": int,
    "digest": str,
    "source": str,
    "metric_names": list,
    "created_at": int,
    "updated_at": int,
}

#: The label of a reference model (EPMT's ``ReferenceModel``).
REFMODEL_LABEL = "RefModel"
#: Its link to each job it was built from: to the job's JobHead, so it outlives a replace
#: of the job (the model keeps the scores computed when it was built), and a JobHead
#: with models cannot be deleted until they are (EPMT's ``remove_models`` rule).
REFMODEL_EDGE = "BUILT_FROM"
#: RefModel node properties, with their type (None allowed for ``name`` and ``updated``).
#: ``id`` is unique, from 1, never reused while larger ids exist; ``name`` unique when set;
#: ``tags`` the canonical ``"k:v;k2:v2"`` string and ``tag_pairs`` its list (as a Job's);
#: ``op_tags_json`` the operations' tags (a JSON list of dicts, ``[]`` for a job model);
#: ``computed_json`` the scores: ``{classifier: {feature: [max/0, centre, spread]}}``, per
#: operation (its tag as sorted-key JSON) for an operations model; ``info_json`` EPMT's
#: ``info_dict`` (``active_metrics``); ``created``/``updated`` microseconds since the epoch.
REFMODEL_PROPERTIES: dict[str, type] = {
    "id": int,
    "name": str,
    "tags": str,
    "tag_pairs": list,
    "op_tags_json": str,
    "computed_json": str,
    "info_json": str,
    "enabled": bool,
    "created": int,
    "updated": int,
}
