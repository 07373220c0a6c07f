"""The oracle itself, checked against EPMT's published numbers and small hand-made cases.

The published numbers come from EPMT 5.0.1's own test suite (``test_query.py``) on the
same sample archives; the graph tests trust the oracle only because these pass.
"""

from __future__ import annotations

import csv
import io
import re
import tarfile
from functools import cache
from hashlib import md5

import networkx as nx
import pandas as pd
import pytest
from oracle import (
    SAMPLES,
    Key,
    _v2_processes,
    depths,
    descendant_counts,
    inclusive_cpu,
    process_tree,
    raw_processes,
    roots,
    sample_jobs,
)

#: EPMT's ``get_roots(['685000', '685003'])`` pids.
ROOT_PIDS_685000_685003 = {
    6098, 29001, 31171, 31291, 10015, 10168, 32139, 11002, 32315, 11172, 1311, 1490, 12990,
    13118, 13220, 1652, 1941, 13597, 14403, 14547, 2321, 2655, 26466, 26469, 26500, 26726,
    26729, 26760, 26986, 26989, 27020, 27246, 27249, 27280, 27506, 27509, 27540, 27775, 27833,
    27836, 27867, 28093, 28129, 8082, 8179, 8231, 8283, 8335, 8387, 8439, 8491, 8543, 8603,
    8655, 8707, 8863, 8997, 9044, 9090, 9126, 9162, 9198, 9237, 9881, 9930, 9979, 10028,
    10077, 10126, 10175,
}  # fmt: skip


@cache
def tree_of(rel: str) -> nx.DiGraph:
    return process_tree(raw_processes(SAMPLES / rel))


def by_pid(tree: nx.DiGraph, pid: int) -> Key:
    (key,) = [k for k in tree if k[1] == pid]
    return key


def pid_md5(keys: object) -> str:
    """EPMT's fingerprint of a set of processes: md5 of their sorted pids as strings."""
    return md5(", ".join(sorted(str(k[1]) for k in keys)).encode()).hexdigest()  # type: ignore[attr-defined]


def test_sample_jobs_found() -> None:
    assert len(sample_jobs()) == 12
    assert {"query/685000.tgz", "submit/3455", "tsv/12340", "tsv/collated-tsv-2220.tgz"} <= set(
        sample_jobs()
    )


def test_published_process_counts() -> None:
    assert tree_of("query/685016.tgz").number_of_nodes() == 3412
    assert tree_of("query/685000.tgz").number_of_nodes() == 3480
    assert tree_of("query/685003.tgz").number_of_nodes() == 3785
    both = pd.concat([raw_processes(SAMPLES / f"query/{j}.tgz") for j in ("685000", "685003")])
    assert both["host"].isin(["pp208", "pp212"]).sum() == 7265
    assert set(both["host"]) == {"pp208", "pp212"}


def test_published_roots() -> None:
    assert len(roots(tree_of("query/685000.tgz"))) == 32
    assert len(roots(tree_of("query/685003.tgz"))) == 38
    assert len(roots(tree_of("query/685016.tgz"))) == 31
    both = roots(tree_of("query/685000.tgz")) | roots(tree_of("query/685003.tgz"))
    assert {k[1] for k in both} == ROOT_PIDS_685000_685003
    # EPMT's root('685016'): the job's first process, pid 122181, a tcsh
    t16 = tree_of("query/685016.tgz")
    first = min(t16, key=lambda k: k[2])
    assert first[1] == 122181 and t16.nodes[first]["exename"] == "tcsh" and first in roots(t16)


def test_published_tree_of_685000() -> None:
    tree = tree_of("query/685000.tgz")
    root = by_pid(tree, 6098)
    assert tree.in_degree(root) == 0
    assert tree.out_degree(root) == 735
    assert descendant_counts(tree)[root] == len(nx.descendants(tree, root)) == 3448
    assert pid_md5(tree.successors(root)) == "32c538b6313427ebd7a634ca1ea36de0"
    assert pid_md5(nx.descendants(tree, root)) == "f0dfe011c0df53e3329324a2ca8f9b3e"
    child = by_pid(tree, 26860)
    assert [k[1] for k in tree.predecessors(child)] == [26859]
    assert {k[1] for k in nx.ancestors(tree, child)} == {6098, 26859}
    assert depths(tree)[root] == 0
    assert depths(tree)[max(tree, key=lambda k: k[2])] == 3  # the last process to start


def test_threads_merge_into_processes() -> None:
    """685000's collated CSV: 3668 rows (threads) make 3480 processes."""
    df = raw_processes(SAMPLES / "query/685000.tgz")
    assert df["numtids"].sum() == 3668
    assert (df["numtids"] > 1).sum() == 70
    # pid 9963 (/usr/bin/host) has 4 threads; cpu is the sum of their user+system times
    (cpu,) = df.loc[df["pid"] == 9963, "cpu_time"]
    assert cpu == 20996 + 3999  # the 3 other threads have 0 user and 0 system time
    # pid 24117 (dmget): thread 0 has 10998 user + 4999 system, thread 24119 has 0 + 999
    (row,) = df.loc[df["pid"] == 24117].to_dict("records")
    assert (row["cpu_time"], row["numtids"], row["ppid"]) == (10998 + 4999 + 999, 2, 24115)


def test_csv_v1_escaped_commas() -> None:
    """Commas inside ``args`` are escaped ``\\,``: a naive split gives up to 50 fields for a
    41-column header, but the 36 columns after ``args`` are fixed and must agree."""
    with tarfile.open(SAMPLES / "query/685000.tgz") as tar:
        text = tar.extractfile("./pp208-collated-papiex-685000-0.csv").read().decode()  # type: ignore[union-attr]
    lines = text.splitlines()
    header = lines[0].split(",")
    tail = len(header) - header.index("args") - 1
    assert tail == 36
    parsed = list(csv.reader(io.StringIO(text, newline=""), escapechar="\\"))[1:]
    assert len(parsed) == len(lines) - 1
    widths = set()
    for line, row in zip(lines[1:], parsed, strict=True):
        naive = line.split(",")
        widths.add(len(naive))
        assert row[-tail:] == naive[-tail:]
        assert row[:4] == naive[:4]
        assert row[4] == re.sub(r"\\(.)", r"\1", ",".join(naive[4:-tail]))  # \x → x
    assert 42 in widths and max(widths) == 50


def test_tsv_jobs() -> None:
    (row,) = raw_processes(SAMPLES / "submit/3455").to_dict("records")
    assert row == {
        "jobid": "3455",
        "host": "perftools.org",
        "pid": 24600,
        "ppid": 24504,
        "start": 1593073058268599,
        "end": 1593073058269025,
        "cpu_time": 2921,
        "rchar": 29469,
        "rssmax": 9056,
        "numtids": 1,
        "exename": "ls",
        "tags": "",
        "pgid": 24504,
        "path": "/bin/ls",
        "args": "",
    }
    df = raw_processes(SAMPLES / "tsv/12340")
    assert len(df) == 18 and set(df["jobid"]) == {"12340"}
    assert len(roots(process_tree(df))) == 18  # all children of pid 27535, not recorded
    assert set(raw_processes(SAMPLES / "tsv/collated-tsv-2220.tgz")["pid"]) == {32209, 32428}


def test_tsv_threads_unpacked() -> None:
    header = (
        "{usertime,systemtime,x}\ttags\thostname\texename\tpid\tppid\tnumtids\tstart\tend\targs\n"
    )
    line = "{1,2,3,10,20,30}\top:a\th1\tsh\t5\t1\t2\t100\t200\t-e \\t,x\ty"  # a tab in args
    (proc,) = _v2_processes(line + "\n", header, "fallback")
    assert proc["cpu_time"] == 1 + 2 + 10 + 20
    assert (proc["host"], proc["pid"], proc["numtids"], proc["tags"]) == ("h1", 5, 2, "op:a")


def test_csv_directory_without_metadata() -> None:
    df = raw_processes(SAMPLES / "csv")
    assert set(df["jobid"]) == {"615503"} and set(df["host"]) == {"pp053"}
    assert set(df["pid"]) == {5652, 30597, 18842, 28778}


def _procs(*rows: tuple[int, int, int, int, int]) -> pd.DataFrame:
    cols = ["pid", "ppid", "start", "end", "cpu_time"]
    df = pd.DataFrame([dict(zip(cols, r, strict=True)) for r in rows])
    return df.assign(jobid="1", host="h", numtids=1, exename="x", tags="")


def test_parent_rule_with_reused_pids() -> None:
    df = _procs(
        (10, 1, 0, 100, 1),  # pid 10, first life
        (10, 1, 200, 300, 2),  # pid 10 reused
        (11, 10, 50, 60, 4),  # → first life
        (12, 10, 250, 260, 8),  # → second life
        (13, 10, 100, 110, 16),  # first life ended at 100 (end must be after start) → second
        (14, 10, 400, 410, 32),  # both ended → a root
        (20, 99, 500, 600, 64),  # only one pid 20: always the parent, whatever the times
        (21, 20, 10, 20, 128),
    )
    tree = process_tree(df)
    edges = {(p[1], p[2], c[1]) for p, c in tree.edges}
    assert edges == {(10, 0, 11), (10, 200, 12), (10, 200, 13), (20, 500, 21)}
    assert {k[1] for k in roots(tree)} == {10, 14, 20}
    first, second = ("h", 10, 0), ("h", 10, 200)
    assert inclusive_cpu(tree)[first] == 1 + 4 and inclusive_cpu(tree)[second] == 2 + 8 + 16
    assert descendant_counts(tree)[second] == 2 and depths(tree)[("h", 13, 100)] == 1


def test_deep_chain() -> None:
    df = _procs(*[(i, i - 1, i, 10_000, i) for i in range(1, 2001)])
    tree = process_tree(df)
    assert depths(tree)[("h", 2000, 2000)] == 1999
    assert descendant_counts(tree)[("h", 1, 1)] == 1999
    assert inclusive_cpu(tree)[("h", 1, 1)] == sum(range(1, 2001))


@pytest.mark.parametrize("rel", sample_jobs())
def test_oracle_invariants(rel: str) -> None:
    df = raw_processes(SAMPLES / rel)
    tree = process_tree(df)
    assert tree.number_of_nodes() == len(df) > 0
    assert all(d <= 1 for _, d in tree.in_degree())
    assert tree.number_of_edges() == len(df) - len(roots(tree))
    incl = inclusive_cpu(tree)
    assert sum(incl[r] for r in roots(tree)) == df["cpu_time"].sum()
    desc = descendant_counts(tree)
    assert sum(desc[r] + 1 for r in roots(tree)) == len(df)
