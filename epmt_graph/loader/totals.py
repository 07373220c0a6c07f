"""What each papiex file of a job adds up to, and the job's row made from those totals.

The reader streams a job's processes; all it keeps per file is a :class:`FileTotals`: the
file's summed metrics, its processes whose ``rdtsc_duration`` sum is not positive, and its
first earliest process. :func:`job_row` turns them into the Job node's properties with
EPMT's rules (``proc_sums``, ``papiex-error`` annotations, the exit code).
"""

from __future__ import annotations

import json
import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from epmt_graph.loader.metadata import JobFacts, dumps
from epmt_graph.loader.papiex import PapiexFile
from epmt_graph.schema import PAPIEX_FIELDS, Row, tag_pairs, tag_string
from epmt_graph.schema.trees import Ints

__all__ = ["FileTotals", "job_row"]


@dataclass
class FileTotals:
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
        self.summed_at = [columns.index(m) for m in summed]
        self.rdtsc = columns.index("rdtsc_duration")
        self.rdtsc_sum = summed.index("rdtsc_duration")
        self.cpu = (summed.index("usertime"), summed.index("systemtime"))
        self.template = "{" + ", ".join(f"{json.dumps(c)}: %d" for c in columns) + "}"
        own = [c for c in columns if c not in summed]
        self.own_at = [columns.index(c) for c in own]
        self.own_template = "{" + ", ".join(f"{json.dumps(c)}: %d" for c in own) + "}"

    def add(self, totals: Ints) -> None:
        """Add processes' sums (one row a process, a column per summed metric)."""
        if len(totals) and np.abs(totals.astype(np.float64)).max() * len(totals) < 2**62:
            column_sums = totals.sum(axis=0).tolist()
        else:
            column_sums = [sum(column) for column in totals.T.tolist()]
        self.sums = list(map(operator.add, self.sums, column_sums))

    def threads_json(self, threads: Ints, first: Ints, count: Ints, rdtsc: Ints) -> list[str]:
        """Each process's thread rows as JSON: a list, or for one thread whose metrics are
        the process's own sums, only its unsummed columns as an object (see
        :func:`~epmt_graph.schema.thread_rows`).

        ``threads`` holds every thread's values, ``first`` and ``count`` place each
        process's among them, ``rdtsc`` is each process's ``rdtsc_duration`` sum.
        """
        single = (count == 1) & (threads[first, self.rdtsc] == rdtsc)
        texts: list[str] = [""] * len(first)
        own = threads[first[single]][:, self.own_at].tolist()
        for at, values in zip(np.flatnonzero(single).tolist(), own, strict=True):
            texts[at] = self.own_template % tuple(values)
        several = np.flatnonzero(~single)
        counts = count[several]
        offsets = np.cumsum(counts) - counts
        rows = np.repeat(first[several] - offsets, counts) + np.arange(int(counts.sum()))
        listed = [self.template % tuple(v) for v in threads[rows].tolist()]
        for at, begin, n in zip(several.tolist(), offsets.tolist(), counts.tolist(), strict=True):
            texts[at] = "[" + ", ".join(listed[begin : begin + n]) + "]"
        return texts


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


def job_row(
    meta: JobFacts,
    files: list[FileTotals],
    *,
    processes: int,
    threads: int,
    proc_tags: list[dict[str, str]],
) -> Row:
    """The job's row (see :class:`~epmt_graph.loader.model.JobRows`).

    ``files`` come sorted by name, which decides the job's exit code (its first earliest
    process's) and the order of its papiex errors.
    """
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
        "analyses_json": dumps(meta.analyses),
        **sums,
        "cpu_time": sums["usertime"] + sums["systemtime"],
        "num_procs": processes,
        "num_threads": threads,
        "all_proc_tags_json": dumps(proc_tags),
    }
