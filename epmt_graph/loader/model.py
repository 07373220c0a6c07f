"""The rows the loader hands to the graph writer: one :class:`JobRows` per job.

A parsed job is plain data: a dict of Job node properties, a list of process rows in
``idx`` order, and the parent of each process as an ``idx`` (or ``None`` for a root).
What each property is, and how a row becomes a Process node, is described once in
:mod:`epmt_graph.schema`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from epmt_graph.loader.digest import LaterDigest
from epmt_graph.schema import Row

__all__ = ["JobRows"]


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
        :data:`~schema.PROCESS_METRICS` (and any further summed metric of the papiex files, e.g.
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
        :data:`~schema.PROCESS_METRICS` (and any further summed metric of its papiex file)
        summed over the process's threads (``rdtsc_duration`` is -1 when the sum is not
        positive, as EPMT), and ``threads_json`` (the raw per-thread rows: every
        non-per-process column, ``tid``/``start``/``end`` included in CSV v1; compact for
        single-threaded processes, read it with :func:`~schema.thread_rows`); ``parent`` (the
        parent's ``uid``, for a child), ``depth`` (0 for a root) and
        ``inclusive_cpu_time`` (its ``cpu_time`` plus its descendants').
    parents : sequence of int or None
        ``parents[i]`` is the ``idx`` of process ``i``'s parent, or ``None`` for a root.
    source : str
        The archive or directory the job was read from.
    pending_digest : LaterDigest, optional
        The ``digest`` still to make (``read_job(..., digest_ahead=True)``): it is not in
        ``job`` until :meth:`digest` has been called; :meth:`start_digest` starts it.
    """

    job: Row
    processes: Sequence[Row]
    parents: Sequence[int | None]
    source: str
    pending_digest: LaterDigest | None = None

    def start_digest(self) -> None:
        """Start making the digest on a thread of its own, if it is still to make."""
        if self.pending_digest is not None:
            self.pending_digest.start()

    def digest(self) -> str:
        """The job's content digest, ``job["digest"]``: waited for (and put in ``job``) if it
        was still to make.

        Examples
        --------
        >>> from epmt_graph.loader import read_job
        >>> from epmt_graph.synthetic import write_archive
        >>> import tempfile, pathlib
        >>> path = write_archive(pathlib.Path(tempfile.mkdtemp()) / "a.tgz", 20, jobid="a")
        >>> rows = read_job(path, digest_ahead=True)
        >>> "digest" in rows.job
        False
        >>> rows.digest() == read_job(path).job["digest"], "digest" in rows.job
        (True, True)
        """
        if "digest" not in self.job and self.pending_digest is not None:
            self.job["digest"] = self.pending_digest.result()
        return str(self.job["digest"])

    @property
    def jobid(self) -> str:
        """The job's id."""
        return str(self.job["jobid"])

    @property
    def edges(self) -> list[tuple[int, int]]:
        """``(parent_idx, child_idx)`` pairs, one per PARENT_OF edge."""
        return [(parent, child) for child, parent in enumerate(self.parents) if parent is not None]
