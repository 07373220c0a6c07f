"""explain_outlier and ``epmt-graph outliers`` against networkx over the raw papiex rows
(``oracle.py``): outliers made from a normal synthetic job (one subtree 10x heavier), and
EPMT's kern-6656 outlier job against its three normal runs (EPMT's own outlier data)."""

from __future__ import annotations

import csv
import io
import json
import random
import tarfile
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from conftest import run_cli
from oracle import Key, inclusive_cpu, process_tree, raw_processes

import epmt_graph.api as eq
from epmt_graph.db import Graph
from epmt_graph.errors import QueryError, UnknownJobError, UnknownModelError
from epmt_graph.loader import delete_job, load_job
from epmt_graph.outliers.explain import explain_outlier
from epmt_graph.samples import epmt_wheel
from epmt_graph.synthetic import write_archive
from epmt_graph.tree.picture import UP

#: EPMT's recorded answers of its outlier API (``benchmarks/epmt_ref/outliers_answers.py``).
OUTLIER_ANSWERS = Path(__file__).parent / "fixtures" / "epmt" / "outliers.json"
PathKey = tuple[tuple[str, str], ...]
SVG = "{http://www.w3.org/2000/svg}"
FEATURES = ("cpu_time", "duration", "num_procs")
COUNTERS = ("op_instance", "op_sequence")
#: The synthetic jobs: one shape (seed), normal runs, and two outliers.
SEED, PROCS = 12, 400
REFS = [f"explain-ref-{i}" for i in range(4)]
OUTLIER, DEEP_OUTLIER = "explain-outlier", "explain-outlier-deep"
#: EPMT's outlier sample jobs (the wheel's test/data/outliers), recorded in India.
KERN_REFS = ["kern-6656-20190614-190245", "kern-6656-20190614-191138", "kern-6656-20190614-194024"]
KERN_OUTLIER = "kern-6656-20190614-192044-outlier"
KERN = [*KERN_REFS, KERN_OUTLIER]
BUILD = ("make", "op:build")


def op_tag(tags: str) -> str:
    """A process's tags less the operation counters, ``k:v`` sorted by key."""
    pairs = dict(part.strip().split(":", 1) for part in tags.split(";") if ":" in part)
    return ";".join(f"{k}:{v}" for k, v in sorted(pairs.items()) if k not in COUNTERS)


def path_keys(tree: nx.DiGraph) -> dict[Key, PathKey]:
    """Each process's (exename, op tag) pairs from its root down to itself."""
    keys: dict[Key, PathKey] = {}
    for node in nx.topological_sort(tree):
        up = next(iter(tree.predecessors(node)), None)
        own = (tree.nodes[node]["exename"], op_tag(tree.nodes[node]["tags"]))
        keys[node] = (keys[up] if up is not None else ()) + (own,)
    return keys


def path_sums(tree: nx.DiGraph) -> dict[PathKey, dict[str, int]]:
    """Per path key: instances, summed inclusive CPU, summed subtree spans, processes."""
    keys, inclusive = path_keys(tree), inclusive_cpu(tree)
    sums: dict[PathKey, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(("instances", *FEATURES), 0)
    )
    for node in tree:
        below = [tree.nodes[n] for n in (node, *nx.descendants(tree, node))]
        row = sums[keys[node]]
        row["instances"] += 1
        row["cpu_time"] += inclusive[node]
        row["duration"] += max(p["end"] for p in below) - min(p["start"] for p in below)
        row["num_procs"] += len(below)
    return dict(sums)


def median(sums: list[dict[PathKey, dict[str, int]]], key: PathKey, feature: str) -> float:
    return float(np.median([s.get(key, {}).get(feature, 0) for s in sums]))


def excess(outlier: dict[PathKey, dict[str, int]], refs: list[Any], key: PathKey, f: str) -> float:
    return outlier.get(key, {}).get(f, 0) - median(refs, key, f)


def children(sums: dict[PathKey, dict[str, int]], key: PathKey) -> list[PathKey]:
    return [k for k in sums if len(k) == len(key) + 1 and k[: len(key)] == key]


def scale_cpu(archive: Path, factor: Callable[[Key], float]) -> Path:
    """Multiplies each process's usertime and systemtime (on its row and its thread rows)
    by ``factor((host, pid, start))``, in the archive's CSV, rewritten in place."""
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else b"") for m in tar]  # type: ignore[union-attr]
    with tarfile.open(archive, "w:gz") as tar:
        for member, data in members:
            if member.name.endswith(".csv"):
                header, *rows = csv.reader(
                    io.StringIO(data.decode(), newline=""), escapechar="\\", quoting=csv.QUOTE_NONE
                )
                at = {name: i for i, name in enumerate(header)}
                for row in rows:
                    if row[at["pid"]]:
                        key = (row[at["hostname"]], int(row[at["pid"]]), int(row[at["start"]]))
                    times = factor(key)
                    for column in ("usertime", "systemtime"):
                        row[at[column]] = str(round(int(row[at[column]]) * times))
                text = io.StringIO(newline="")
                csv.writer(
                    text,
                    escapechar="\\",
                    quoting=csv.QUOTE_NONE,
                    quotechar=None,
                    lineterminator="\n",
                ).writerows([header, *rows])
                data = text.getvalue().encode()
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return archive


@dataclass(frozen=True)
class Synthetic:
    """The synthetic jobs loaded, the subtrees made heavier and the oracle's sums per job."""

    heavy: PathKey  # a subtree no child key explains: it is the answer itself
    deep: PathKey  # a subtree whose weight sits in one child key, and so on down
    sums: dict[str, dict[PathKey, dict[str, int]]]
    trees: dict[str, nx.DiGraph]


def candidates(sums: dict[PathKey, dict[str, int]], explained: bool) -> list[PathKey]:
    """Keys of one process (not a root) with 3 or more processes below, where a child key
    holds at least 80% of the CPU time (``explained``) or none does, largest first."""

    def top_share(key: PathKey) -> float:
        kids = [sums[c]["cpu_time"] for c in children(sums, key)]
        return max(kids, default=0) / max(sums[key]["cpu_time"], 1)

    found = [
        k
        for k, row in sums.items()
        if len(k) > 1 and row["instances"] == 1 and row["num_procs"] >= 3
        if (top_share(k) >= 0.8) == explained
    ]
    return sorted(found, key=lambda k: (-sums[k]["num_procs"], -sums[k]["cpu_time"], k))


@pytest.fixture(scope="module")
def synthetic(loaded_graph: Graph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthetic]:
    folder = tmp_path_factory.mktemp("explain")
    shape = path_sums(
        process_tree(raw_processes(write_archive(folder / "shape.tgz", PROCS, seed=SEED)))
    )
    heavy, deep = candidates(shape, explained=False)[0], candidates(shape, explained=True)[0]
    trees, sums = {}, {}
    for jobid in [*REFS, OUTLIER, DEEP_OUTLIER]:
        archive = write_archive(folder / f"{jobid}.tgz", PROCS, seed=SEED, jobid=jobid)
        keys = path_keys(process_tree(raw_processes(archive)))
        noise = random.Random(jobid)
        target = {OUTLIER: heavy, DEEP_OUTLIER: deep}.get(jobid)

        def factor(
            process: Key, keys: Any = keys, noise: Any = noise, target: Any = target
        ) -> float:
            inside = target is not None and keys[process][: len(target)] == target
            return (10 if inside else 1) * noise.uniform(0.97, 1.03)

        trees[jobid] = process_tree(raw_processes(scale_cpu(archive, factor)))
        sums[jobid] = path_sums(trees[jobid])
        delete_job(loaded_graph, jobid)
        load_job(archive, graph=loaded_graph)
    yield Synthetic(heavy, deep, sums, trees)
    for jobid in trees:
        delete_job(loaded_graph, jobid)


@pytest.fixture(scope="module")
def kern(loaded_graph: Graph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """EPMT's kern-6656 jobs loaded (with EPMT_TZ=Asia/Kolkata, as EPMT's tests), and the
    oracle's sums per job; the jobs this fixture loaded are deleted after."""
    folder = tmp_path_factory.mktemp("kern")
    with zipfile.ZipFile(epmt_wheel()) as wheel:
        for jobid in KERN:
            (folder / f"{jobid}.tgz").write_bytes(
                wheel.read(f"epmt/test/data/outliers/{jobid}.tgz")
            )
    there = set(eq.get_jobs(KERN, fmt="terse", graph=loaded_graph))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EPMT_TZ", "Asia/Kolkata")
        for jobid in sorted(set(KERN) - there):
            load_job(folder / f"{jobid}.tgz", graph=loaded_graph)
    trees = {j: process_tree(raw_processes(folder / f"{j}.tgz")) for j in KERN}
    yield {"trees": trees, "sums": {j: path_sums(t) for j, t in trees.items()}}
    for jobid in sorted(set(KERN) - there):
        delete_job(loaded_graph, jobid)


def test_the_heavier_subtree_is_named_first(synthetic: Synthetic) -> None:
    why = explain_outlier(OUTLIER, REFS)
    refs = [synthetic.sums[j] for j in REFS]
    mine = synthetic.sums[OUTLIER][synthetic.heavy]
    assert 9 < mine["cpu_time"] / median(refs, synthetic.heavy, "cpu_time") < 11
    first = why.frame.iloc[0]
    assert first["key"] == synthetic.heavy
    assert (first["feature"], first["value"], first["instances"]) == (
        "cpu_time",
        mine["cpu_time"],
        1,
    )
    assert first["reference"] == median(refs, synthetic.heavy, "cpu_time")
    assert first["path"] == "/".join(e for e, _ in synthetic.heavy)
    assert first["score"] > 3.5
    inside = [key[: len(synthetic.heavy)] == synthetic.heavy for key in why.frame["key"]]
    assert all(inside)  # the rest are parts of it (each 10x heavier too); nothing outside


def test_a_child_carrying_the_excess_is_named_instead(synthetic: Synthetic) -> None:
    refs, mine = [synthetic.sums[j] for j in REFS], synthetic.sums[DEEP_OUTLIER]
    expected = synthetic.deep  # down while one child key carries >= 80% of the excess
    while kids := [
        c
        for c in children(mine, expected)
        if excess(mine, refs, c, "cpu_time") >= 0.8 * excess(mine, refs, expected, "cpu_time")
    ]:
        (expected,) = kids
    assert len(expected) > len(synthetic.deep)
    first = explain_outlier(DEEP_OUTLIER, REFS).frame.iloc[0]
    assert (first["key"], first["feature"]) == (expected, "cpu_time")
    assert first["value"] == mine[expected]["cpu_time"]


def test_the_picture_rings_the_named_subtree(synthetic: Synthetic) -> None:
    why = explain_outlier(OUTLIER, REFS, limit=1)
    tree = synthetic.trees[OUTLIER]
    keys = path_keys(tree)
    (root,) = [n for n in tree if keys[n] == synthetic.heavy]
    page = why.picture(threshold=0)
    assert rings(page.svg) == [f"{tree.nodes[root]['exename']} [{root[1]}]"]
    assert page.html.count(UP) == page.svg.count(UP) == 1 + len(nx.descendants(tree, root)) * 2 + 1


def rings(svg: str) -> list[str]:
    """The labels (``exename [pid]``) of the ringed processes of a picture's SVG document."""
    found = []
    for group in ET.fromstring(svg).iter(SVG + "g"):
        circle, label = group.find(SVG + "circle"), group.find(SVG + "text")
        if circle is None or label is None or "stroke-width: 4" not in circle.get("style", ""):
            continue
        if group.get("class") != "legend":
            assert label.text is not None and "  score " in label.text
            found.append(label.text.split("  ")[0])
    return found


def test_kern_outlier_excess_is_in_the_build_sub_make(kern: dict[str, Any]) -> None:
    sums = kern["sums"]
    refs, mine = [sums[j] for j in KERN_REFS], sums[KERN_OUTLIER]
    sub_make = (BUILD, BUILD)
    for feature in ("cpu_time", "duration"):  # the oracle's account of where the excess is
        whole = excess(mine, refs, (BUILD,), feature)
        assert excess(mine, refs, sub_make, feature) >= 0.8 * whole > 0
        for child in children(mine, sub_make):
            assert excess(mine, refs, child, feature) < 0.8 * excess(mine, refs, sub_make, feature)
    why = explain_outlier(KERN_OUTLIER, KERN_REFS, limit=None)
    first = why.frame.iloc[0]
    assert (first["key"], first["feature"], first["value"]) == (
        sub_make,
        "duration",
        mine[sub_make]["duration"],
    )
    assert first["reference"] == median(refs, sub_make, "duration")
    assert first["excess"] == pytest.approx(553.49e6, abs=0.01e6)  # 2.2 times the references
    cpu = why.frame[why.frame["feature"] == "cpu_time"].iloc[0]
    assert (cpu["key"], cpu["value"]) == (sub_make, mine[sub_make]["cpu_time"])
    assert cpu["excess"] == pytest.approx(156.16e6, abs=0.01e6)  # 98% of the job's 159.5 s
    assert first["instances"] == mine[sub_make]["instances"] == 28
    assert not (why.frame["key"] == (BUILD,)).any()  # the root is explained by its sub-make
    assert (why.frame["feature"] != "num_procs").all()  # the same 10,600 processes


def test_kern_every_path_as_the_oracle_sums_it(kern: dict[str, Any]) -> None:
    sums = kern["sums"]
    refs, mine = [sums[j] for j in KERN_REFS], sums[KERN_OUTLIER]
    paths = explain_outlier(KERN_OUTLIER, KERN_REFS).paths.set_index("key")
    assert set(paths.index) == set(mine) | {k for r in refs for k in r}
    for key, row in paths.iterrows():
        assert row["instances"] == mine.get(key, {}).get("instances", 0)
        for feature in FEATURES:
            assert row[feature] == mine.get(key, {}).get(feature, 0)
            assert row[f"{feature}_reference"] == median(refs, key, feature)


def test_the_references_of_a_trained_model(loaded_graph: Graph, kern: dict[str, Any]) -> None:
    model = eq.create_refmodel(KERN_REFS, name="explain-kern", sanity_check=False, fmt="terse")
    try:
        by_model = explain_outlier(KERN_OUTLIER, trained_model=model)
        by_jobs = explain_outlier(KERN_OUTLIER, KERN_REFS)
        assert by_model.references == tuple(KERN_REFS)
        assert by_model.frame.equals(by_jobs.frame)
        with pytest.raises(QueryError, match=f"among the jobs of model {model}"):
            explain_outlier(KERN_REFS[0], trained_model=model)
        result = run_cli(
            loaded_graph, "outliers", "--model", "explain-kern", "--explain", KERN_OUTLIER
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == by_jobs.render() + "\n"
    finally:
        eq.delete_refmodels(model)


def test_cli_explains_and_draws(loaded_graph: Graph, kern: dict[str, Any], tmp_path: Path) -> None:
    mine = kern["sums"][KERN_OUTLIER]
    tree = kern["trees"][KERN_OUTLIER]
    keys = path_keys(tree)
    sub_make = (BUILD, BUILD)
    for picture in (tmp_path / "why.svg", tmp_path / "why.html"):
        result = run_cli(
            loaded_graph,
            "outliers",
            *KERN,
            "--explain",
            KERN_OUTLIER,
            "--limit",
            "1",
            "--picture",
            str(picture),
        )
        assert result.returncode == 0, result.stderr
        head, columns, row, wrote = result.stdout.splitlines()
        assert head.startswith(f"{KERN_OUTLIER} against 3 reference jobs ({', '.join(KERN_REFS)})")
        assert columns.split() == [
            "feature",
            "outlier",
            "reference",
            "excess",
            "score",
            "of",
            "job",
            "path",
            "[tag]",
        ]
        seconds = f"{mine[sub_make]['duration'] / 1e6:.3f} s"
        assert row.startswith(f"duration  {seconds:>11}") and row.endswith("make/make [op:build]")
        assert wrote == f"wrote {picture}"
    expected = sorted(f"make [{n[1]}]" for n in tree if keys[n] == sub_make)
    assert len(expected) == 28
    svg = (tmp_path / "why.svg").read_text()
    assert sorted(rings(svg)) == expected
    page = (tmp_path / "why.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count("  score +16.7") == 28


@cache
def outlier_answers() -> dict[str, Any]:
    """EPMT's recorded outlier answers (:data:`OUTLIER_ANSWERS`)."""
    return dict(json.loads(OUTLIER_ANSWERS.read_text()))


def test_cli_table_is_epmts_detect_outlier_jobs(loaded_graph: Graph, kern: dict[str, Any]) -> None:
    """Without --explain, the table is EPMT's recorded ``eod.detect_outlier_jobs(kern)``
    (``fixtures/epmt/outliers.json``: EPMT's default settings, as the command's; per feature,
    how many of the three classifiers flag the job), rows in the same order. EPMT's own
    ``test_outlier_jobs_multimode`` counts 3 for the outlier: it lowers the z-score
    threshold to 1.5, which no job of four can reach with the default 3.0."""
    epmt = next(
        s for s in outlier_answers()["steps"] if s["call"] == "eod.detect_outlier_jobs(kern)"
    )
    frame = epmt["answer"][0]["frame"]
    jobs = [row[0] for row in frame["rows"]]
    assert sorted(jobs) == sorted(KERN)
    result = run_cli(loaded_graph, "outliers", *jobs)
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    assert header.split() == frame["columns"]
    rows = [[jobid, *map(int, counts)] for jobid, *counts in map(str.split, lines)]
    assert rows == frame["rows"]


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((KERN_OUTLIER, ["nope"]), UnknownJobError, "job 'nope' is not loaded"),
        (("nope", KERN_REFS), UnknownJobError, "job 'nope' is not loaded"),
        ((KERN_OUTLIER, []), QueryError, "no jobs given"),
        ((KERN_OUTLIER, None), QueryError, "reference_jobs or trained_model"),
        ((KERN_OUTLIER, KERN), QueryError, "is among its reference jobs"),
        ((KERN, KERN_REFS), QueryError, "explains one job, got 4"),
    ],
)
def test_bad_jobs(kern: dict[str, Any], args: tuple[Any, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        explain_outlier(*args)


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        (
            {"trained_model": 99999},
            UnknownModelError,
            r"ReferenceModel\[99999\] could not be found",
        ),
        ({"trained_model": 1, "reference_jobs": KERN_REFS}, QueryError, "one of them"),
        ({"features": "rssmax"}, QueryError, "compares cpu_time, duration, num_procs"),
        ({"features": []}, QueryError, "compares cpu_time, duration, num_procs"),
        ({"limit": -1}, QueryError, "limit must be a non-negative integer"),
        ({"share": 0}, QueryError, "0 < share <= 1"),
        ({"share": 1.5}, QueryError, "0 < share <= 1"),
        ({"threshold": float("nan")}, QueryError, "threshold must be a finite number"),
        ({"min_scale": "x"}, QueryError, "min_scale must be a finite number"),
        ({"ignore_tags": [1]}, QueryError, "ignore_tags must be tag keys"),
    ],
)
def test_bad_options(
    kern: dict[str, Any], options: dict[str, Any], error: type, match: str
) -> None:
    options = {"reference_jobs": None, **options}
    if "trained_model" not in options:
        options["reference_jobs"] = KERN_REFS
    with pytest.raises(error, match=match):
        explain_outlier(KERN_OUTLIER, **options)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--explain", "nope", KERN_REFS[0]], "job 'nope' is not loaded"),
        (
            ["--model", "no-such-model", "--explain", KERN_OUTLIER],
            "no reference model is named 'no-such-model'",
        ),
        (
            ["--model", "99999", "--explain", KERN_OUTLIER],
            "ReferenceModel[99999] could not be found",
        ),
        (["--explain", KERN_OUTLIER], "with the other JOBs or with --model"),
        ([*KERN_REFS, "--picture", "x.svg"], "--picture draws an explanation"),
        (
            ["--explain", KERN_OUTLIER, KERN_REFS[0], "--picture", "/no/such/dir/x.svg"],
            "cannot write the picture",
        ),
    ],
)
def test_cli_errors_are_one_line(
    loaded_graph: Graph, kern: dict[str, Any], args: list[str], words: str
) -> None:
    result = run_cli(loaded_graph, "outliers", *args)
    assert result.returncode == 1
    assert result.stderr.startswith("epmt-graph: error: ") and words in result.stderr
    assert len(result.stderr.splitlines()) == 1
