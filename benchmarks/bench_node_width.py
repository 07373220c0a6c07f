"""What each Process node property costs a load, and which packing of the node pays.

    .venv/bin/python benchmarks/bench_node_width.py [--repeat 5] [--write]

Two jobs: EPMT's 13,530-process ESM4 job (the wheel's ``test/data/outliers_nb/625151.tgz``)
and a 50,000-process synthetic job (``epmt_graph.synthetic``, seed 3), parsed once, before
anything is timed. On one fresh Neo4j server:

1. **Layouts, bare**: each candidate layout of the jobs' Process nodes, its rows built
   beforehand, written by ``UNWIND $rows AS row CREATE (p:BenchWidth) SET p = row`` in one
   transaction (no index, edge or Job node), read back as the process queries return
   nodes (``p {.*, threads_json: null}``), then deleted; one untimed round, then
   ``--repeat`` rounds, each writing every layout once in a rotated order; the medians.
2. **Per property**: the same, for nodes of k integer properties (k = 1, 13, 25) and of k
   20-character strings: the slope of a line through the medians is what one property of its
   own costs per node, the intercept what a node costs with none.
3. **write_job before/after**: :func:`epmt_graph.loader.writer.write_job` (nodes, edges,
   tree values, publication) with the previous layout (only the metrics packed: the
   writer's ``node_properties`` swapped for :func:`previous_node`) and with the schema's,
   alternating, each followed by ``delete_job``; one untimed round, then ``--repeat``
   (the same layout while ``schema.PROCESS_PACKED`` packs only the metrics).

Prints a Markdown section; ``--write`` puts it in RESULTS.md in place of the last one
(between its markers).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

from bench_util import load_average, median, throwaway_server, write_section

from epmt_graph.db import Graph
from epmt_graph.loader import JobRows, delete_job, read_job
from epmt_graph.loader import writer as writer_module
from epmt_graph.loader.writer import write_job
from epmt_graph.samples import epmt_wheel
from epmt_graph.schema import PROCESS_METRICS, Row, node_properties
from epmt_graph.synthetic import write_archive

__all__ = ["LAYOUTS", "main", "previous_node"]

BEGIN, END = "<!-- bench_node_width: begin -->", "<!-- bench_node_width: end -->"
CREATE = "UNWIND $rows AS row CREATE (p:BenchWidth) SET p = row"
DELETE = "MATCH (p:BenchWidth) DELETE p"
READ = "MATCH (p:BenchWidth) RETURN p {.*, threads_json: null} AS p"
ESM4 = "outliers_nb/625151.tgz"
SYNTHETIC = 50_000
SERIES = (1, 13, 25)


def previous_node(process: Row) -> Row:
    """The Process node of a row as the loader wrote it before this benchmark: every field a
    property of its own but the 24 metrics, kept in one ``metrics`` list."""
    node = dict(process)
    node["metrics"] = [node.pop(name) for name in PROCESS_METRICS]
    return node


def _packed(moves: Sequence[tuple[str, Sequence[str]]]) -> Callable[[Row], Row]:
    """A layout: the previous node with each ``(list, fields)`` of ``moves`` moved into the
    list property ``list`` (appended when the node has it already, as ``metrics``); a root's
    missing ``parent`` is stored as ``""`` (a list holds no null)."""

    def layout(process: Row) -> Row:
        node = previous_node(process)
        for target, fields in moves:
            values = [node.pop(f, "") for f in fields]
            node[target] = [*node.get(target, []), *values]
        return node

    return layout


IDS = ("ppid", "pgid", "sid", "gen")
TEXTS = ("path", "args")
#: The candidate layouts, by name: what is moved out of properties of their own, and where.
LAYOUTS: dict[str, Callable[[Row], Row]] = {
    "previous (metrics packed)": previous_node,
    "ppid/pgid/sid/gen in `ids`": _packed([("ids", IDS)]),
    "+ path/args in `texts`": _packed([("ids", IDS), ("texts", TEXTS)]),
    "+ threads_json in `texts`": _packed([("ids", IDS), ("texts", (*TEXTS, "threads_json"))]),
    "ids at `metrics`' tail, texts with threads_json": _packed(
        [("metrics", IDS), ("texts", (*TEXTS, "threads_json"))]
    ),
    "+ parent in `texts`": _packed(
        [("metrics", IDS), ("texts", (*TEXTS, "threads_json", "parent"))]
    ),
}


def _jobs(work: Path) -> list[Path]:
    esm4 = work / "625151.tgz"
    with zipfile.ZipFile(epmt_wheel()) as wheel:
        esm4.write_bytes(wheel.read(f"epmt/test/data/{ESM4}"))
    synthetic = write_archive(work / "synthetic.tgz", SYNTHETIC, seed=3, jobid="width-50000")
    return [esm4, synthetic]


def _bare(graph: Graph, rows: list[Row], read: bool) -> tuple[float, float]:
    """Seconds to write ``rows`` bare and, with ``read``, to read them all back as the
    process queries return them (every property but ``threads_json``); then deleted."""
    t0 = time.perf_counter()
    graph.execute_write(lambda tx: tx.run(CREATE, rows=rows).consume())
    written = time.perf_counter() - t0
    t0 = time.perf_counter()
    if read:
        graph.execute_read(lambda tx: tx.run(READ).values())
    back = time.perf_counter() - t0
    graph.execute_write(lambda tx: tx.run(DELETE).consume())
    return written, back


def _rounds(
    graph: Graph, cases: dict[str, list[Row]], repeat: int, read: bool = False
) -> dict[str, list[tuple[float, float]]]:
    """Seconds of each case's bare write (and read), rounds in turn (every case once a
    round, the order rotated), after one untimed round."""
    names = list(cases)
    out: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for r in range(repeat + 1):
        turn = names[r % len(names) :] + names[: r % len(names)]
        for name in turn:
            seconds = _bare(graph, cases[name], read)
            if r:
                out[name].append(seconds)
    return out


def layouts(
    graph: Graph, parsed: list[JobRows], repeat: int, names: Sequence[str] = tuple(LAYOUTS)
) -> list[dict[str, Any]]:
    """Per job and layout (of ``names``, the first the reference): properties a node,
    median seconds of its bare write and of reading its nodes back."""
    found = []
    for rows in parsed:
        cases = {
            name: [{**LAYOUTS[name](p), "version": 1} for p in rows.processes] for name in names
        }
        seconds = _rounds(graph, cases, repeat, read=True)
        first = seconds[names[0]]
        for name, rows_of in cases.items():
            paired = [w / w0 for (w, _), (w0, _) in zip(seconds[name], first, strict=True)]
            found.append(
                {
                    "jobid": rows.jobid,
                    "processes": len(rows_of),
                    "layout": name,
                    "properties": statistics.mode(len(node) for node in rows_of),
                    "schema": all(
                        LAYOUTS[name](p) == node_properties(p) for p in rows.processes[:100]
                    ),
                    "seconds": median([w for w, _ in seconds[name]]),
                    "read": median([r for _, r in seconds[name]]),
                    "ratio": median(paired),
                }
            )
    return found


def _fit(xs: Sequence[int], ys: Sequence[float]) -> tuple[float, float]:
    slope, intercept = statistics.linear_regression(xs, ys)
    return slope, intercept


def _value(kind: str, node: int, i: int) -> int | str:
    return node * 7 + i if kind == "int" else f"{node:012d}-{i:07d}"  # 20 characters


def per_property(graph: Graph, sizes: Sequence[int], repeat: int) -> list[dict[str, Any]]:
    """Per size and kind (int, 20-character string): microseconds a node of each property
    of its own (slope) and of the node itself (intercept)."""
    found = []
    for n in sizes:
        cases = {
            f"{kind} {k}": [{f"p{i}": _value(kind, node, i) for i in range(k)} for node in range(n)]
            for kind in ("int", "str")
            for k in SERIES
        }
        seconds = _rounds(graph, cases, repeat)
        for kind in ("int", "str"):
            ys = [median([w for w, _ in seconds[f"{kind} {k}"]]) for k in SERIES]
            slope, intercept = _fit(SERIES, ys)
            found.append(
                {
                    "processes": n,
                    "kind": kind,
                    "seconds": dict(zip(SERIES, ys, strict=True)),
                    "us_per_property": slope / n * 1e6,
                    "us_per_node": intercept / n * 1e6,
                }
            )
    return found


def writes(graph: Graph, parsed: list[JobRows], repeat: int) -> list[dict[str, Any]]:
    """Per job: median seconds of ``write_job`` with the previous layout and the schema's."""
    found = []
    sides = {"previous": previous_node, "schema": node_properties}
    for rows in parsed:
        seconds: dict[str, list[float]] = {side: [] for side in sides}
        for r in range(repeat + 1):
            for side in sorted(sides, reverse=bool(r % 2)):
                with mock.patch.object(writer_module, "node_properties", sides[side]):
                    t0 = time.perf_counter()
                    write_job(graph, rows)
                    took = time.perf_counter() - t0
                delete_job(graph, rows.jobid)
                if r:
                    seconds[side].append(took)
        found.append(
            {
                "jobid": rows.jobid,
                "processes": len(rows.processes),
                **{side: median(s) for side, s in seconds.items()},
                "ratio": median(
                    [a / b for a, b in zip(seconds["schema"], seconds["previous"], strict=True)]
                ),
            }
        )
    return found


def section(
    bare: list[dict[str, Any]],
    series: list[dict[str, Any]],
    loads: list[dict[str, Any]],
    info: dict[str, Any],
) -> str:
    """The Markdown section for RESULTS.md."""
    jobs = list(dict.fromkeys((b["jobid"], b["processes"]) for b in bare))
    lines = [
        BEGIN,
        "## Process node width: what a property costs, which packing pays",
        "",
        "```",
        ".venv/bin/python benchmarks/bench_node_width.py --write",
        "```",
        "",
        f"- **Date**: {info['date']}; load average at the start {info['load_start']}, "
        f"at the end {info['load_end']}; 2 cores; one fresh Neo4j server (heap 2g, page "
        "cache 1g); median of "
        f"{info['repeat']} after an untimed round, cases in turn",
        "- **/ previous**: the median over rounds of the write's seconds over the previous "
        "layout's in the same round (paired: the machine's load drifts between rounds)",
        "- **Bare**: the rows built beforehand, `UNWIND $rows AS row CREATE (p:BenchWidth) "
        "SET p = row`, one transaction; then read back as the process queries return nodes "
        "(`RETURN p {.*, threads_json: null}`, every record fetched), then deleted; "
        "properties counted with `version`",
        "",
        "| layout | properties | "
        + " | ".join(f"{j} ({n:,}): write s, / previous, read s" for j, n in jobs)
        + " |",
        "|---|---|" + "---|" * len(jobs),
    ]
    for name in LAYOUTS:
        cells = [b for b in bare if b["layout"] == name]
        shown = f"**{name}** (the schema's)" if cells[0]["schema"] else name
        lines.append(
            f"| {shown} | {cells[0]['properties']} | "
            + " | ".join(f"{c['seconds']:.3f}, {c['ratio']:.2f}, {c['read']:.3f}" for c in cells)
            + " |"
        )
    lines += [
        "",
        "Per property (nodes of k properties of one kind, k = "
        + ", ".join(map(str, SERIES))
        + "; a line through the medians):",
        "",
        "| nodes | kind | s at k = " + ", ".join(map(str, SERIES)) + " | µs a property a node "
        "| µs a node with none |",
        "|---|---|---|---|---|",
    ]
    for s in series:
        ks = ", ".join(f"{v:.3f}" for v in s["seconds"].values())
        lines.append(
            f"| {s['processes']:,} | {s['kind']} | {ks} | {s['us_per_property']:.2f} "
            f"| {s['us_per_node']:.2f} |"
        )
    lines += [
        "",
        "`write_job` (nodes, edges, tree values, publication), previous layout against the "
        "schema's:",
        "",
        "| job | processes | previous s | schema's s | schema's / previous |",
        "|---|---|---|---|---|",
    ]
    for w in loads:
        lines.append(
            f"| {w['jobid']} | {w['processes']:,} | {w['previous']:.3f} | {w['schema']:.3f} "
            f"| {w['ratio']:.2f} |"
        )
    lines.append(END)
    return "\n".join(lines) + "\n"


def focus(repeat: int) -> str:
    """Only the previous layout, the schema's and the schema's with ``threads_json`` in
    ``texts``, bare, on the 13,530-process job: ``repeat`` paired rounds, as a Markdown table."""
    names = [next(iter(LAYOUTS)), "+ path/args in `texts`", "+ threads_json in `texts`"]
    work = Path(tempfile.mkdtemp(prefix="epmt_graph_bench_width_"))
    try:
        rows = read_job(_jobs(work)[0])
        with throwaway_server() as (connection, _), Graph(connection) as graph:
            found = layouts(graph, [rows], repeat, names)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        f"Focused (`--focus --repeat {repeat}`, load average at the end {load_average()}):",
        "",
        "| layout | properties | write s | / previous (paired) | read s |",
        "|---|---|---|---|---|",
        *(
            f"| {f['layout']} | {f['properties']} | {f['seconds']:.3f} | {f['ratio']:.2f} "
            f"| {f['read']:.3f} |"
            for f in found
        ),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--write", action="store_true", help="put the section in RESULTS.md")
    parser.add_argument(
        "--focus", action="store_true", help="only the previous and the schema's layouts, bare"
    )
    args = parser.parse_args(argv)
    if args.focus:
        print(focus(args.repeat))
        return
    info: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "load_start": load_average(),
        "repeat": args.repeat,
    }
    work = Path(tempfile.mkdtemp(prefix="epmt_graph_bench_width_"))
    try:
        parsed = [read_job(path) for path in _jobs(work)]
        with throwaway_server() as (connection, _), Graph(connection) as graph:
            graph.ensure_schema()
            bare = layouts(graph, parsed, args.repeat)
            series = per_property(graph, [len(rows.processes) for rows in parsed], args.repeat)
            loads = writes(graph, parsed, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    info["load_end"] = load_average()
    text = section(bare, series, loads, info)
    print(text)
    if args.write:
        write_section(text, BEGIN, END)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
