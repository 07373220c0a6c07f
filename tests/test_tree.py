"""The tree views (``epmt_graph.tree``) against the oracle built from raw papiex rows.

``ProcessTree.of_job`` must give the oracle's tree exactly (edges, depth, exclusive and
inclusive CPU); the text tree, its folds, the GraphML and JSON exports and the offline
picture are checked against values computed here from the oracle, not from the library.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import networkx as nx
import pytest
from oracle import SAMPLES, Key, depths, descendant_counts, inclusive_cpu, process_tree
from oracle import raw_processes as raw

import epmt_graph.api as eq
from epmt_graph.db import Graph
from epmt_graph.errors import QueryError, RenderError
from epmt_graph.tree import (
    ProcessTree,
    export_text,
    fold,
    graphml_graph,
    picture,
    render_text,
    write_export,
)
from epmt_graph.tree.picture import BROWSERS

QUERY_JOBS = ["685000", "685003", "685016"]
FOLD_LINE = re.compile(r"^ {26}( *)… (\d+) process(?:es)?, (\d+\.\d{3}) s$")


@cache
def oracle(jobid: str) -> nx.DiGraph:
    return process_tree(raw(SAMPLES / "query" / f"{jobid}.tgz"))


@pytest.fixture(scope="module")
def trees(loaded_graph: Graph) -> dict[str, ProcessTree]:
    return {jobid: ProcessTree.of_job(jobid) for jobid in QUERY_JOBS}


def keys(graph: Graph, jobid: str, tree: ProcessTree) -> dict[str, Key]:
    """Process id → the oracle's (host, pid, start in µs)."""
    (record,) = graph.read("jobs-by-id", jobids=[jobid])
    zone = ZoneInfo(record["j"]["tz"])
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    out = {}
    for proc_id, row in tree.frame.iterrows():
        start = row["start"].to_pydatetime().replace(tzinfo=zone)
        out[str(proc_id)] = (row["host"], int(row["pid"]), (start - epoch) // dt.timedelta(0, 0, 1))
    return out


def by_start(nodes: Any) -> list[Key]:
    return sorted(nodes, key=lambda n: (n[2], n[1]))


@pytest.mark.parametrize("jobid", QUERY_JOBS)
def test_job_tree_is_the_oracle_tree(
    jobid: str, trees: dict[str, ProcessTree], loaded_graph: Graph
) -> None:
    tree, expected = trees[jobid], oracle(jobid)
    key = keys(loaded_graph, jobid, tree)
    assert sorted(key.values()) == sorted(expected.nodes)
    edges = {(key[p], key[c]) for c, p in tree.frame["parent"].items() if p is not None}
    assert edges == set(expected.edges)
    assert [key[r] for r in tree.roots] == by_start(
        n for n in expected if not expected.in_degree(n)
    )
    frame = tree.frame
    depth, inclusive = depths(expected), inclusive_cpu(expected)
    assert {key[i]: d for i, d in frame["depth"].items()} == depth
    assert {key[i]: c for i, c in frame["cpu_time"].items()} == {
        n: data["cpu_time"] for n, data in expected.nodes(data=True)
    }
    assert {key[i]: c for i, c in frame["inclusive_cpu_time"].items()} == inclusive
    assert [key[i] for i in frame.index] == by_start(expected.nodes)
    for proc_id in tree.roots[:3]:
        assert [key[c] for c in tree.children(proc_id)] == by_start(
            expected.successors(key[proc_id])
        )


def test_tree_values_are_computed_when_missing(trees: dict[str, ProcessTree]) -> None:
    stored = trees["685016"].frame
    rebuilt = ProcessTree(stored.drop(columns=["depth", "inclusive_cpu_time"])).frame
    assert rebuilt["depth"].to_dict() == stored["depth"].to_dict()
    assert rebuilt["inclusive_cpu_time"].to_dict() == stored["inclusive_cpu_time"].to_dict()
    partly = stored.astype({"depth": object})
    partly.loc[partly.index[5], "depth"] = None  # as a job written without tree values reads
    assert ProcessTree(partly).frame["depth"].to_dict() == stored["depth"].to_dict()


def test_critical_path_goes_down_the_heaviest_children(
    trees: dict[str, ProcessTree], loaded_graph: Graph
) -> None:
    tree, expected = trees["685000"], oracle("685000")
    key = keys(loaded_graph, "685000", tree)
    inclusive = inclusive_cpu(expected)

    def heaviest(nodes: Any) -> Key:  # the earliest of the heaviest
        return max(by_start(nodes), key=inclusive.__getitem__)

    node = heaviest(n for n in expected if not expected.in_degree(n))
    path = [node]
    while expected.out_degree(node):
        path.append(node := heaviest(expected.successors(node)))
    assert [key[i] for i in tree.critical_path()] == path
    assert len(path) > 3
    assert tree.critical_path() == eq.critical_path("685000", fmt="terse")


def test_subtree_and_networkx(trees: dict[str, ProcessTree], loaded_graph: Graph) -> None:
    tree, expected = trees["685003"], oracle("685003")
    key = keys(loaded_graph, "685003", tree)
    top = max(tree.roots, key=lambda r: len(list(tree.walk(r))))
    sub = tree.subtree(top)
    assert sub.roots == [top]
    assert {key[i] for i in sub.frame.index} == {key[top]} | nx.descendants(expected, key[top])
    graph = sub.to_networkx()
    assert {(key[p], key[c]) for p, c in graph.edges} == set(
        expected.subgraph(key[i] for i in graph).edges
    )
    assert graph.nodes[top]["inclusive_cpu_time"] == inclusive_cpu(expected)[key[top]]
    assert graph.nodes[top]["depth"] == depths(expected)[key[top]]


def oracle_text(expected: nx.DiGraph, top: Key, limit: float) -> list[str]:
    """The text tree under ``top``, written from the oracle (format of ``render_text``)."""
    inclusive, size = inclusive_cpu(expected), descendant_counts(expected)
    lines = [f"{'inclusive':>11} {'exclusive':>11}  process"]

    def show(node: Key, level: int) -> None:
        data = expected.nodes[node]
        lines.append(
            f"{inclusive[node] / 1e6:9.3f} s {data['cpu_time'] / 1e6:9.3f} s  "
            f"{'  ' * level}{data['exename']} [{data['pid']}]"
        )
        kids = by_start(expected.successors(node))
        for kid in kids:
            if inclusive[kid] >= limit:
                show(kid, level + 1)
        small = [k for k in kids if inclusive[k] < limit]
        if small:
            count = sum(1 + size[k] for k in small)
            noun = "process" if count == 1 else "processes"
            cpu = sum(inclusive[k] for k in small) / 1e6
            lines.append(f"{' ' * 26}{'  ' * (level + 1)}… {count} {noun}, {cpu:.3f} s")

    show(top, 0)
    return lines


def test_text_of_a_small_subtree(trees: dict[str, ProcessTree], loaded_graph: Graph) -> None:
    tree, expected = trees["685016"], oracle("685016")
    key = keys(loaded_graph, "685016", tree)
    size, depth = descendant_counts(expected), depths(expected)

    def levels_below(node: Key) -> int:
        return max(depth[n] for n in nx.descendants(expected, node)) - depth[node]

    top = next(i for i in tree.frame.index if 5 <= size[key[i]] <= 30 and levels_below(key[i]) >= 3)
    sub = tree.subtree(top)
    assert render_text(sub) == "\n".join(oracle_text(expected, key[top], 0))
    folded = render_text(sub, threshold=0.02)
    assert folded == "\n".join(oracle_text(expected, key[top], 20_000))
    assert len([line for line in folded.splitlines() if FOLD_LINE.match(line)]) >= 2


@pytest.mark.parametrize("threshold", [0.5, 1.0, 5.0])
def test_fold_counts(trees: dict[str, ProcessTree], threshold: float) -> None:
    tree, expected = trees["685000"], oracle("685000")
    inclusive, size = inclusive_cpu(expected), descendant_counts(expected)
    limit = threshold * 1e6
    shown, folds = 0, []
    level_nodes = [(0, by_start(n for n in expected if not expected.in_degree(n)))]
    while level_nodes:
        level, nodes = level_nodes.pop()
        small = [n for n in nodes if inclusive[n] < limit]
        if small:
            folds.append((level, sum(1 + size[n] for n in small), sum(inclusive[n] for n in small)))
        for node in nodes:
            if inclusive[node] >= limit:
                shown += 1
                level_nodes.append((level + 1, list(expected.successors(node))))
    lines = render_text(tree, threshold=threshold).splitlines()[1:]
    parsed = [FOLD_LINE.match(line) for line in lines]
    got = [(len(m[1]) // 2, int(m[2]), m[3]) for m in parsed if m]
    assert len(lines) - len(got) == shown
    assert sorted(got) == sorted((lv, n, f"{cpu / 1e6:.3f}") for lv, n, cpu in folds)
    assert shown + sum(n for _, n, _ in got) == len(tree) == expected.number_of_nodes()
    rows = fold(tree, threshold)
    assert sum(r.processes for r in rows if r.parent is None) == len(tree)


@pytest.mark.parametrize("jobid", ["685016", "685000"])
def test_graphml_round_trips(trees: dict[str, ProcessTree], jobid: str, tmp_path: Path) -> None:
    tree = trees[jobid]
    if jobid == "685000":
        tree = tree.subtree(tree.critical_path()[1])
    path = write_export(tree, "graphml", tmp_path / "tree.graphml")
    back = nx.read_graphml(path)
    made = graphml_graph(tree)
    assert isinstance(back, nx.DiGraph)
    assert list(back.nodes) == list(made.nodes) == list(tree.frame.index)
    assert set(back.edges) == set(made.edges) == set(tree.to_networkx().edges)
    assert dict(back.nodes(data=True)) == dict(made.nodes(data=True))
    proc_id = tree.roots[0]
    row = tree.frame.loc[proc_id]
    assert back.nodes[proc_id]["inclusive_cpu_time"] == row["inclusive_cpu_time"]
    assert back.nodes[proc_id]["start"] == row["start"].isoformat()
    assert back.nodes[proc_id]["tags"] == ";".join(
        f"{k}:{v}" for k, v in sorted(row["tags"].items())
    )


def test_json_export(trees: dict[str, ProcessTree], loaded_graph: Graph) -> None:
    tree, expected = trees["685003"], oracle("685003")
    doc = json.loads(export_text(tree, "json"))
    assert len(doc["nodes"]) == expected.number_of_nodes()
    assert len(doc["edges"]) == expected.number_of_edges()
    key = keys(loaded_graph, "685003", tree)
    assert {(key[e["source"]], key[e["target"]]) for e in doc["edges"]} == set(expected.edges)
    first = doc["nodes"][0]
    assert first["id"] == tree.roots[0] and isinstance(first["tags"], dict)
    with pytest.raises(QueryError, match="export format must be one of"):
        export_text(tree, "dot")


def test_picture_is_offline_and_escaped(trees: dict[str, ProcessTree], tmp_path: Path) -> None:
    tree = trees["685000"]
    page = picture(tree, threshold=1.0, title="job 685000").html
    for reference in ("http://", "https://", "src=", "href=", "url(", "@import", "fetch("):
        assert reference not in page
    assert "default-src 'none'" in page
    assert page.count('<g class="n') == len(fold(tree, 1.0))
    whole = picture(tree)
    assert "http://" not in whole.html and "https://" not in whole.html
    assert whole.html.count('<g class="n') == len(tree)
    assert whole.save(tmp_path / "tree.html").read_text() == whole.html
    assert "srcdoc=" in whole._repr_html_()
    hostile = ProcessTree.from_rows(
        [
            {"id": "x", "parent": None, "pid": 1, "exename": "<b>sh</b>", "cpu_time": 1,
             "args": "<script>alert(1)</script> https://example.org/f.tgz"},
        ]
    )  # fmt: skip
    page = picture(hostile).html
    assert "<script>alert" not in page and "<b>sh" not in page and "https://" not in page


def test_picture_svg_is_well_formed_whatever_the_names() -> None:
    names = ["<b>sh</b>", "esc\x1b]0;x\x07", "nul\x00", "ünï ✓ \u202e"]
    rows = [
        {"id": str(i), "parent": None if i == 0 else "0", "pid": i, "exename": n, "cpu_time": 1}
        for i, n in enumerate(names)
    ]
    drawing = picture(ProcessTree.from_rows(rows), highlight={"1": -4.0}).svg
    root = ET.fromstring(drawing)
    labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert labels[:4] == [
        "<b>sh</b> [0]  0.000 s",
        "esc\ufffd]0;x\ufffd [1]  0.000 s  score -4.0",
        "nul\ufffd [2]  0.000 s",
        "ünï ✓ \u202e [3]  0.000 s",
    ]


@pytest.mark.skipif(
    not any(map(shutil.which, BROWSERS)), reason="missing optional tool: a headless Chromium"
)
def test_picture_png(trees: dict[str, ProcessTree], tmp_path: Path) -> None:
    png = picture(trees["685016"], threshold=0.5).save_png(tmp_path / "tree.png", size=(800, 600))
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (800, 600)


@pytest.mark.skipif(
    not (shutil.which("chromedriver") and any(map(shutil.which, BROWSERS))),
    reason="missing optional tool: chromedriver and a headless Chromium",
)
def test_picture_works_in_a_browser_offline(trees: dict[str, ProcessTree], tmp_path: Path) -> None:
    """In a real Chromium: nothing is fetched, no console error, click folds, wheel zooms."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="missing optional tool: selenium")
    page = picture(trees["685016"], threshold=0.5).save(tmp_path / "tree.html")
    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1000,700"):
        options.add_argument(flag)
    options.add_argument("--host-resolver-rules=MAP * ~NOTFOUND")
    options.binary_location = next(filter(None, map(shutil.which, BROWSERS)))
    service = webdriver.ChromeService(shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.set_page_load_timeout(60)
        driver.get(page.as_uri())
        run = driver.execute_script
        assert run("return performance.getEntriesByType('resource').length") == 0
        shown = "return [...document.querySelectorAll('svg > g.n > g.n')]" + (
            ".filter(g => getComputedStyle(g).display != 'none').length"
        )
        before = run(shown)
        click = "new MouseEvent('click', {bubbles: true})"
        run(f"document.querySelector('svg > g.n > circle').dispatchEvent({click})")
        assert before > 0 and run(shown) == 0
        box = "return document.querySelector('svg').getAttribute('viewBox')"
        first = run(box)
        wheel = "new WheelEvent('wheel', {deltaY: -100, clientX: 300, clientY: 300})"
        run(f"document.querySelector('svg').dispatchEvent({wheel})")
        assert run(box) != first
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
    finally:
        driver.quit()


def test_errors_are_clear(trees: dict[str, ProcessTree], tmp_path: Path) -> None:
    tree = trees["685016"]
    with pytest.raises(QueryError, match="one job"):
        ProcessTree.of_job(["685000", "685003"])
    with pytest.raises(QueryError, match="not loaded"):
        ProcessTree.of_job("no-such-job")
    with pytest.raises(QueryError, match="no process 'x'"):
        tree.subtree("x")
    with pytest.raises(QueryError, match=">= 0"):
        render_text(tree, threshold=-1)
    with pytest.raises(QueryError, match="cycle"):
        ProcessTree.from_rows(
            {"id": i, "parent": p, "pid": 1, "exename": "sh", "cpu_time": 0}
            for i, p in [("a", "b"), ("b", "a")]
        )
    with pytest.raises(QueryError, match="columns"):
        ProcessTree.from_rows([{"id": "a", "parent": None}])
    with pytest.raises(RenderError, match="could not take the screenshot"):
        picture(tree).save_png(tmp_path / "x.png", browser=str(tmp_path / "no-browser"))
