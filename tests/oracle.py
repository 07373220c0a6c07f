"""Test oracle: EPMT's process tree computed straight from the raw papiex rows.

Independent of ``epmt_graph.loader`` on purpose; it follows EPMT 5.0.1 (``epmt_job.py``):

* CSV v1 is read with ``csv`` and ``escapechar='\\'`` (commas inside ``args`` are written
  ``\\,``), as EPMT does. A process is a run of ``numtids`` consecutive rows; the first row
  gives pid, ppid, start, end, exename, tags; the other (thread) rows leave those empty.
* TSV v2 has one row per process; its ``{...}`` column packs ``numtids`` x metrics values.
* ``cpu_time`` = usertime + systemtime, summed over the threads.
* Parent: the process of the same job and host whose pid is our ppid; if the pid was reused,
  the earliest-starting one whose end is after our start; none → a root.
"""

from __future__ import annotations

import bisect
import csv
import datetime
import io
import pickle
import re
import tarfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
from constants import GOOD_FOLDERS, SAMPLES

Key = tuple[str, int, int]  # (host, pid, start)
_SUMMED = ("rchar", "rssmax")  # two metrics summed over threads, besides cpu_time
COLUMNS = [
    "jobid",
    "host",
    "pid",
    "ppid",
    "start",
    "end",
    "cpu_time",
    "rchar",
    "rssmax",
    "numtids",
    "exename",
    "tags",
    "pgid",
    "path",
    "args",
]


class _MetadataUnpickler(pickle.Unpickler):
    """Admits only the datetime types a ``job_metadata`` pickle uses."""

    ALLOWED = frozenset(("datetime", n) for n in ("datetime", "date", "timedelta", "timezone"))

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"job_metadata: forbidden global {module}.{name}")
        return getattr(datetime, name)


def read_metadata(data: bytes) -> dict[str, Any]:
    meta = _MetadataUnpickler(io.BytesIO(data), encoding="latin1").load()
    assert isinstance(meta, dict)
    return meta


def _job_files(path: Path) -> dict[str, bytes]:
    """Base name → content of every member of a job archive or directory."""
    if path.is_dir():
        return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}
    with tarfile.open(path) as tar:
        return {
            Path(m.name).name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def _file_host(name: str) -> str:
    return name.split("-papiex")[0].removesuffix("-collated")


def _v1_processes(text: str, file_host: str) -> Iterator[dict[str, Any]]:
    header, *rows = [r for r in csv.reader(io.StringIO(text, newline=""), escapechar="\\") if r]
    assert all(len(r) == len(header) for r in rows), "ragged CSV v1 row"
    rows_d = [dict(zip(header, r, strict=True)) for r in rows]
    i = 0
    while i < len(rows_d):
        first, n = rows_d[i], int(rows_d[i]["numtids"])
        block = rows_d[i : i + n]
        assert len(block) == n >= 1
        assert all(t["pid"] == "" and t["numtids"] == "" for t in block[1:]), "thread row"
        yield {
            "host": first["hostname"] or file_host,
            "pid": int(first["pid"]),
            "ppid": int(first["ppid"]),
            "start": int(first["start"]),
            "end": int(first["end"]),
            "cpu_time": sum(int(t["usertime"]) + int(t["systemtime"]) for t in block),
            **{m: sum(int(t[m]) for t in block) if m in header else None for m in _SUMMED},
            "numtids": n,
            "exename": first["exename"],
            "tags": first["tags"],
            "pgid": int(first["pgid"]),
            "path": first["path"],
            "args": first["args"],
        }
        i += n


def _v2_processes(text: str, header_text: str, file_host: str) -> Iterator[dict[str, Any]]:
    header = [h.strip() for h in header_text.strip("\r\n").split("\t")]
    assert header[-1] == "args"  # so a tab inside args cannot shift the other columns
    packed = next(i for i, h in enumerate(header) if h.startswith("{"))
    metrics = header[packed].strip("{}").split(",")
    for line in text.split("\n"):
        line = line.removesuffix("\r")
        if not line:
            continue
        row = dict(zip(header, line.split("\t", len(header) - 1), strict=True))
        values = [int(v) for v in row[header[packed]].strip("{}").split(",")]
        n = int(row["numtids"])
        assert len(values) == n * len(metrics)
        m = len(metrics)
        threads = [dict(zip(metrics, values[t * m : t * m + m], strict=True)) for t in range(n)]
        yield {
            "host": row["hostname"] or file_host,
            "pid": int(row["pid"]),
            "ppid": int(row["ppid"]),
            "start": int(row["start"]),
            "end": int(row["end"]),
            "cpu_time": sum(t["usertime"] + t["systemtime"] for t in threads),
            **{m: sum(t[m] for t in threads) if m in metrics else None for m in _SUMMED},
            "numtids": n,
            "exename": row["exename"],
            "tags": row["tags"],
            "pgid": int(row["pgid"]) if "pgid" in row else None,
            "path": row.get("path"),
            "args": row["args"],
        }


def raw_processes(job_path: Path) -> pd.DataFrame:
    """One row per process of a job archive (``.tgz``) or job directory."""
    files = _job_files(Path(job_path))
    if "job_metadata" in files:
        jobid = str(read_metadata(files["job_metadata"])["job_pl_id"])
    else:  # a bare directory of papiex CSV files: the jobid is in their names
        (jobid,) = {m[1] for n in files if (m := re.search(r"papiex-(\d+)-\d+\.csv$", n))}
    procs: list[dict[str, Any]] = []
    for name, data in sorted(files.items()):
        if name.endswith(".csv") and "-papiex-" in name:
            procs += _v1_processes(data.decode(), _file_host(name))
        elif name.endswith("-papiex.tsv"):
            header = files[name.removesuffix(".tsv") + "-header.tsv"].decode()
            procs += _v2_processes(data.decode(), header, _file_host(name))
    df = pd.DataFrame(procs, columns=COLUMNS[1:])
    df.insert(0, "jobid", jobid)
    return df


def process_tree(df: pd.DataFrame) -> nx.DiGraph:
    """Parent→child edges; nodes keyed (host, pid, start), with the process columns as data."""
    tree = nx.DiGraph()
    records = df.to_dict("records")
    for r in records:
        key = (r["host"], r["pid"], r["start"])
        assert key not in tree, f"duplicate process {key}"
        tree.add_node(key, **r)
    by_pid: dict[tuple[str, str, int], list[Key]] = defaultdict(list)
    for key, r in tree.nodes(data=True):
        by_pid[(r["jobid"], r["host"], r["pid"])].append(key)
    ends: dict[tuple[str, str, int], list[int]] = {}
    for group, keys in by_pid.items():
        keys.sort(key=lambda k: k[2])
        ends[group] = [tree.nodes[k]["end"] for k in keys]
        # a pid is reused only after its holder ended, so ends grow with starts: bisectable
        assert ends[group] == sorted(ends[group]), f"overlapping processes {group}"
    for key, r in list(tree.nodes(data=True)):
        group = (r["jobid"], r["host"], r["ppid"])
        candidates = by_pid.get(group, [])
        if len(candidates) == 1:
            parent: Key | None = candidates[0]
        else:  # reused pid: the earliest-starting candidate still running at our start
            i = bisect.bisect_right(ends.get(group, []), r["start"])
            parent = candidates[i] if i < len(candidates) else None
        if parent is not None:
            assert parent != key, f"process {key} is its own parent"
            tree.add_edge(parent, key)
    assert nx.is_directed_acyclic_graph(tree)
    return tree


def roots(tree: nx.DiGraph) -> set[Key]:
    return {n for n, d in tree.in_degree() if d == 0}


def depths(tree: nx.DiGraph) -> dict[Key, int]:
    depth: dict[Key, int] = {}
    for node in nx.topological_sort(tree):  # parents before children
        depth[node] = max((depth[p] + 1 for p in tree.predecessors(node)), default=0)
    return depth


def descendant_counts(tree: nx.DiGraph) -> dict[Key, int]:
    count: dict[Key, int] = {}
    for node in reversed(list(nx.topological_sort(tree))):
        count[node] = sum(1 + count[c] for c in tree.successors(node))
    return count


def inclusive_cpu(tree: nx.DiGraph) -> dict[Key, int]:
    total: dict[Key, int] = {}
    for node in reversed(list(nx.topological_sort(tree))):
        total[node] = tree.nodes[node]["cpu_time"] + sum(total[c] for c in tree.successors(node))
    return total


def sample_jobs(samples: Path = SAMPLES) -> list[str]:
    """Every job (``.tgz``, or directory holding ``job_metadata``) in the good folders,
    relative to ``samples``. ``csv/`` has papiex files but no ``job_metadata``: not a job."""
    jobs = set()
    for folder in GOOD_FOLDERS:
        for p in (samples / folder).rglob("*"):
            if (p.is_file() and p.name.endswith(".tgz")) or (p / "job_metadata").is_file():
                jobs.add(p.relative_to(samples).as_posix())
    return sorted(jobs)
