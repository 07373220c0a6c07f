"""Independent checks of the synthetic job generator.

Nothing here trusts the generator's bookkeeping: each archive is read back with ``tarfile``,
an allow-list unpickler and pandas, and the process tree is rebuilt with networkx from the raw
rows by EPMT's parent rule (the parent is the process of the job whose pid is the child's ppid,
the earliest such one that ends after the child starts; none makes a root).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import pickle
import re
import tarfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import networkx as nx
import pandas as pd
import pytest
from constants import SAMPLES

from epmt_graph.errors import ConfigError
from epmt_graph.loader.reader import read_job
from epmt_graph.synthetic import HEADER, main, write_archive

REAL_685000 = SAMPLES / "query" / "685000.tgz"
METADATA_KEYS = [
    "job_pl_id",
    "job_pl_submit_ts",
    "job_pl_start_ts",
    "job_el_reason",
    "job_el_exitcode",
    "job_el_stop_ts",
    "job_el_env",
    "job_pl_env",
]
NONE: Literal[3] = csv.QUOTE_NONE  # commas in fields are escaped, never quoted
TAG = re.compile(r"op:\w+;op_instance:\d+;op_sequence:\d+")


class _DatetimeOnly(pickle.Unpickler):
    """Admits the datetime class and nothing else (plain containers need no global)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("datetime", "datetime"):
            return dt.datetime
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed")


@dataclass
class Job:
    """An archive read back: metadata, raw rows, and the rebuilt process forest."""

    meta: dict[str, Any]
    names: list[str]
    rows: pd.DataFrame  # every CSV row, in file order
    procs: pd.DataFrame  # the process rows sorted by (start, pid); index = graph node
    tree: nx.DiGraph
    depth: dict[int, int]

    @property
    def window(self) -> tuple[int, int]:
        """The job's start and stop in microseconds since the epoch (UTC)."""
        zone = ZoneInfo("US/Eastern")
        stamps = (self.meta["job_pl_start_ts"], self.meta["job_el_stop_ts"])
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        start, stop = (
            (t.replace(tzinfo=zone) - epoch) // dt.timedelta(microseconds=1) for t in stamps
        )
        return start, stop


def _forest(procs: pd.DataFrame) -> tuple[nx.DiGraph, dict[int, int]]:
    """The oracle: parents by EPMT's rule, then every process's depth below its root."""
    pid, ppid = procs["pid"].tolist(), procs["ppid"].tolist()
    start, end = procs["start"].tolist(), procs["end"].tolist()
    holders: defaultdict[int, list[int]] = defaultdict(list)
    for i, p in enumerate(pid):  # in start order
        holders[p].append(i)
    tree = nx.DiGraph()
    tree.add_nodes_from(range(len(procs)))
    for i in range(len(procs)):
        parent = next((j for j in holders.get(ppid[i], ()) if end[j] > start[i]), None)
        if parent is not None:
            tree.add_edge(parent, i)
    assert nx.is_forest(tree.to_undirected()) and nx.is_directed_acyclic_graph(tree)
    depth: dict[int, int] = {}
    for root in (n for n in tree if tree.in_degree(n) == 0):
        depth.update(nx.single_source_shortest_path_length(tree, root))
    return tree, depth


def read_back(path: Path) -> Job:
    with tarfile.open(path) as tar:
        names = tar.getnames()
        meta_file = tar.extractfile("./job_metadata")
        assert meta_file is not None
        meta = _DatetimeOnly(io.BytesIO(meta_file.read())).load()
        csv_file = tar.extractfile(next(n for n in names if n.endswith(".csv")))
        assert csv_file is not None
        rows = pd.read_csv(
            csv_file, dtype=str, keep_default_na=False, escapechar="\\", quoting=NONE
        )
    ints = ["pid", "ppid", "pgid", "sid", "numtids", "tid", "start", "end", "exitcode"]
    procs = rows[rows["pid"] != ""].astype(dict.fromkeys(ints, "int64"))
    procs = procs.sort_values(["start", "pid"], kind="stable").reset_index(drop=True)
    return Job(meta, names, rows, procs, *_forest(procs))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Job:
    return read_back(write_archive(tmp_path_factory.mktemp("s") / "s.tgz", 3000, seed=5))


@pytest.fixture(scope="module")
def chained(tmp_path_factory: pytest.TempPathFactory) -> Job:
    path = tmp_path_factory.mktemp("c") / "c.tgz"
    return read_back(write_archive(path, 2500, seed=6, chain=500, jobid="777"))


def check_shape(job: Job, n: int) -> None:
    """Exact count, threads after their process, nesting, window: for any archive."""
    rows, procs = job.rows, job.procs
    assert len(procs) == n
    assert len(rows) - n == int((procs["numtids"] - 1).sum())
    # Each thread row (no pid) follows its process row; the run's length is numtids.
    owner = rows["pid"].where(rows["pid"] != "").ffill()
    run = rows.groupby(owner.ne(owner.shift()).cumsum()).size().tolist()
    assert run == rows.loc[rows["pid"] != "", "numtids"].astype(int).tolist()
    edges = list(job.tree.edges)
    parent = procs.loc[[u for u, _ in edges]].reset_index(drop=True)
    child = procs.loc[[v for _, v in edges]].reset_index(drop=True)
    assert (parent["start"] <= child["start"]).all()
    assert (child["end"] <= parent["end"]).all()
    assert (procs["start"] < procs["end"]).all()
    start, stop = job.window
    assert procs["start"].min() >= start and procs["end"].max() <= stop
    ends = rows.loc[rows["pid"] != "", "end"].astype("int64")
    assert ends.is_monotonic_increasing  # papiex writes a row when its process ends


def test_rows_threads_tree_and_window(small: Job) -> None:
    check_shape(small, 3000)
    assert ",".join(small.rows.columns) == HEADER
    threaded = small.procs[small.procs["numtids"] > 1]
    assert len(threaded) > 10
    tids = small.rows.loc[small.rows["pid"] == "", "tid"].astype(int)
    assert not set(tids) & set(small.procs["pid"])  # other tids, from the same pid space
    assert set(small.procs["exitcode"]) == {0, 1}


def test_tree_looks_like_a_real_job(small: Job) -> None:
    tree, procs = small.tree, small.procs
    roots = [n for n in tree if tree.in_degree(n) == 0]
    top = max(roots, key=tree.out_degree)
    assert procs.loc[top, "exename"] == "tcsh" and tree.out_degree(top) > 300
    assert top == 0 and len(roots) > 5  # transfer daemons detached to ppid 1
    assert (procs.loc[[r for r in roots if r != top], "ppid"] == 1).all()
    assert 5 <= max(small.depth.values()) <= 10
    exes = set(procs["exename"])
    assert {"tcsh", "bash", "mkdir", "cp", "ncatted", "fregrid", "globus-url-copy"} <= exes
    assert procs["args"].str.contains(",").any()  # escaped commas read back


def test_tags_follow_operations(small: Job) -> None:
    tags, tree = small.procs["tags"], small.tree
    tagged = tags[tags != ""]
    assert tagged.map(lambda t: bool(TAG.fullmatch(t))).all()
    assert len(tagged) / len(tags) > 0.9
    top = 0
    for u, v in tree.edges:
        if u != top:  # below an operation's first process, the tag is inherited
            assert tags[v] == tags[u]
    ops = {tags[v] for v in tree.successors(top) if tags[v]}
    assert len(ops) > 10 and tags[top] in ops  # the top shell shows the last op's tags


def test_metadata_matches_real_archives(small: Job) -> None:
    meta = small.meta
    assert list(meta) == METADATA_KEYS
    for key in ("job_pl_submit_ts", "job_pl_start_ts", "job_el_stop_ts"):
        assert type(meta[key]) is dt.datetime and meta[key].tzinfo is None
    env = meta["job_el_env"]
    assert env["EPMT_JOB_TAGS"].startswith("exp_name:") and env["SLURM_JOB_ID"] == meta["job_pl_id"]
    assert meta["job_el_exitcode"] == 0 and small.names[0] == "."


def test_same_header_and_metadata_keys_as_685000(small: Job) -> None:
    with tarfile.open(REAL_685000) as tar:
        name = next(n for n in tar.getnames() if n.endswith(".csv"))
        real_csv = tar.extractfile(name)
        assert real_csv is not None
        assert real_csv.readline().decode().strip() == HEADER
        real_meta = tar.extractfile("./job_metadata")
        assert real_meta is not None
        keys = re.findall(rb"S'(job_\w+)'\n", real_meta.read())  # protocol 0, Python 2
    assert [key.decode() for key in keys] == METADATA_KEYS


def test_chain_is_500_deep(chained: Job) -> None:
    check_shape(chained, 2500)
    deepest = max(chained.depth, key=chained.depth.__getitem__)
    assert chained.depth[deepest] >= 500
    path = nx.shortest_path(chained.tree, 0, deepest)
    assert all(chained.tree.out_degree(n) == 1 for n in path[-500:-1])
    assert chained.meta["job_pl_id"] == "777"


def test_max_depth(tmp_path: Path) -> None:
    job = read_back(write_archive(tmp_path / "d.tgz", 2000, seed=8, max_depth=3))
    check_shape(job, 2000)
    assert max(job.depth.values()) == 3


def test_50k_reuses_pids(tmp_path: Path) -> None:
    job = read_back(write_archive(tmp_path / "big.tgz", 50_000, seed=1))
    check_shape(job, 50_000)
    uses = job.procs["pid"].value_counts()
    assert (uses > 1).sum() > 1000 and job.procs["pid"].max() < 32768


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    one, two, other = (tmp_path / f"{name}.tgz" for name in ("one", "two", "other"))
    write_archive(one, 2000, seed=3)
    write_archive(two, 2000, seed=3)
    write_archive(other, 2000, seed=4)
    assert one.read_bytes() == two.read_bytes() != other.read_bytes()


@pytest.mark.parametrize("kwargs", [{"chain": 10}, {"seed": -1}, {"max_depth": 0}])
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        write_archive(tmp_path / "x.tgz", 10, **kwargs)


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.tgz"
    assert main([str(out), "--procs", "700", "--seed", "2", "--chain", "20", "--jobid", "J"]) == 0
    assert "700 processes" in capsys.readouterr().out
    job = read_back(out)
    check_shape(job, 700)
    assert job.meta["job_pl_id"] == "J" and max(job.depth.values()) >= 20


def test_read_job_accepts_the_archives(tmp_path: Path) -> None:
    path = write_archive(tmp_path / "r.tgz", 3000, seed=9, chain=200)
    rows = read_job(path)
    oracle = read_back(path)
    assert len(rows.processes) == 3000
    assert sum(p is None for p in rows.parents) == sum(
        1 for n in oracle.tree if oracle.tree.in_degree(n) == 0
    )
