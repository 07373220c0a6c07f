"""The streaming reader: member order, rows spilled to disk, and the key arrays that order,
check and link a job, against brute-force versions of the same rules (no Neo4j needed)."""

from __future__ import annotations

import random
import tarfile
from pathlib import Path

import numpy as np
import pytest
from constants import SAMPLES

from epmt_graph.loader import spill
from epmt_graph.loader.keys import (
    ProcessKeys,
    first_cycle,
    first_duplicate,
    link_parents,
    sort_order,
)
from epmt_graph.loader.model import JobRows
from epmt_graph.loader.reader import read_job
from epmt_graph.schema import tree_values


def _same(a: JobRows, b: JobRows) -> None:
    assert a.job == b.job
    assert a.parents == b.parents
    assert list(a.processes) == list(b.processes)


def test_members_in_any_order(tmp_path: Path) -> None:
    """Papiex files before job_metadata are kept aside and read once it has come."""
    original = SAMPLES / "query/685003.tgz"
    reversed_tar = tmp_path / "reversed.tgz"
    with tarfile.open(original) as src, tarfile.open(reversed_tar, "w:gz") as dst:
        members = [m for m in src.getmembers() if m.isfile()]
        assert members[0].name.endswith("job_metadata")
        for member in reversed(members):
            dst.addfile(member, src.extractfile(member))
    with tarfile.open(reversed_tar) as tar:
        assert tar.getnames()[-1].endswith("job_metadata")
    _same(read_job(reversed_tar), read_job(original))


def test_rows_spilled_to_disk_read_back_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    path = SAMPLES / "submit/692500.tgz"
    kept = read_job(path)
    monkeypatch.setattr(spill, "KEEP", 100)
    spilled = read_job(path)
    assert len(spilled.processes) == 6486
    assert spilled.processes._spill.on_disk and not kept.processes._spill.on_disk  # type: ignore[attr-defined]
    _same(spilled, kept)


def test_process_rows_index_like_a_list() -> None:
    rows = read_job(SAMPLES / "tsv/collated-tsv-2220.tgz").processes
    assert len(rows) == 2
    assert rows[-1] == rows[1] and rows[-2] == rows[0]
    assert [r["idx"] for r in rows[::-1]] == [1, 0]
    assert rows[5:] == []
    with pytest.raises(IndexError):
        rows[2]
    with pytest.raises(IndexError):
        rows[-3]


# ---------------------------------------------------------------- keys vs brute force


def _random_job(rng: random.Random, n: int) -> list[dict[str, int]]:
    """Processes on 2 hosts with few pids (so pids are reused), ppids among them."""
    procs = []
    for _ in range(n):
        start = rng.randrange(100)
        procs.append(
            {
                "host": rng.randrange(2),
                "pid": rng.randrange(8),
                "ppid": rng.randrange(9),
                "start": start,
                "end": start + rng.randrange(1, 60),
            }
        )
    return procs


def _keys(procs: list[dict[str, int]]) -> ProcessKeys:
    keys = ProcessKeys()
    for line, p in enumerate(procs, 1):
        keys.add(cpu=0, file=0, line=line, **p)
    return keys


def _brute_parents(procs: list[dict[str, int]]) -> list[int]:
    """EPMT's rule, literally: the earliest-starting same-host process with pid == ppid that
    ends after the child starts (procs sorted by start)."""
    parents = []
    for child in procs:
        candidates = [
            i
            for i, p in enumerate(procs)
            if p["host"] == child["host"] and p["pid"] == child["ppid"]
            if p["end"] > child["start"]
        ]
        parents.append(min(candidates, key=lambda i: procs[i]["start"], default=-1))
    return parents


def _brute_stuck(parents: list[int]) -> list[int]:
    """Processes whose ancestors never reach a root."""
    stuck = []
    for i in range(len(parents)):
        seen, node = set(), i
        while node != -1 and node not in seen:
            seen.add(node)
            node = parents[node]
        if node != -1:
            stuck.append(i)
    return stuck


@pytest.mark.parametrize("seed", range(40))
def test_keys_against_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    procs = _random_job(rng, rng.randrange(1, 60))
    keys = _keys(procs)

    triples = [(p["host"], p["pid"], p["start"]) for p in procs]
    first_again = next((j for j, t in enumerate(triples) if t in triples[:j]), None)
    duplicate = first_duplicate(keys, [0])
    if first_again is None:
        assert duplicate is None
    else:
        assert duplicate == (triples.index(triples[first_again]), first_again)
        return

    order = sort_order(keys, [0, 1]).tolist()
    assert order == sorted(range(len(procs)), key=lambda i: (*triples[i][::-1][:2], triples[i][0]))
    ordered = [procs[i] for i in order]
    parents = link_parents(keys, np.array(order, dtype=np.int64))
    assert parents.tolist() == _brute_parents(ordered)

    stuck = _brute_stuck(parents.tolist())
    cycle = first_cycle(parents)
    if not stuck:
        assert cycle is None
    else:
        path, node = [], stuck[0]
        while node not in path:
            path.append(node)
            node = parents[node]
        assert cycle == node


@pytest.mark.parametrize("seed", range(10))
def test_parents_with_negative_or_huge_pids(seed: int) -> None:
    """Pids that do not fit the fast ``host << 32 | pid`` packing take the general path."""
    rng = random.Random(seed)
    procs = [{**p, "pid": p["pid"] - 3, "ppid": p["ppid"] - 3} for p in _random_job(rng, 40)]
    procs.append({"host": 1, "pid": 2**40, "ppid": -(2**40), "start": 0, "end": 1})
    keys = _keys(procs)
    if first_duplicate(keys, [0]) is not None:
        return
    order = sort_order(keys, [0, 1])
    ordered = [procs[i] for i in order.tolist()]
    assert link_parents(keys, order).tolist() == _brute_parents(ordered)


def test_keys_refuse_values_beyond_64_bits() -> None:
    with pytest.raises(OverflowError):
        _keys([{"host": 0, "pid": 2**63, "ppid": 1, "start": 0, "end": 1}])


@pytest.mark.parametrize("seed", range(20))
def test_tree_values_against_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randrange(1, 200)
    parents = [-1 if i == 0 or rng.random() < 0.1 else rng.randrange(i) for i in range(n)]
    shuffle = list(range(n))
    rng.shuffle(shuffle)  # parents after children too
    where = {old: new for new, old in enumerate(shuffle)}
    links = [-1] * n
    for old, parent in enumerate(parents):
        links[where[old]] = -1 if parent < 0 else where[parent]
    cpu = [rng.randrange(10**12) for _ in range(n)]

    def depth(i: int) -> int:
        return 0 if links[i] < 0 else 1 + depth(links[i])

    def inclusive(i: int) -> int:
        return cpu[i] + sum(inclusive(c) for c in range(n) if links[c] == i)

    got_depth, got_inclusive = tree_values(np.array(links), np.array(cpu))
    assert got_depth.tolist() == [depth(i) for i in range(n)]
    assert got_inclusive.tolist() == [inclusive(i) for i in range(n)]


def test_tree_values_of_a_deep_chain() -> None:
    n = 5000
    depth, inclusive = tree_values(np.arange(-1, n - 1), np.ones(n, dtype=np.int64))
    assert depth.tolist() == list(range(n))
    assert inclusive.tolist() == list(range(n, 0, -1))
