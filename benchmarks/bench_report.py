"""``RESULTS.md`` from the results of one run (the dict that ``results.json`` holds)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bench_growth_report import markdown_section as growth_section
from bench_ingest import memory_markdown
from bench_ours import ALL_DESCENDANTS
from bench_targets import p50 as _p50
from bench_targets import question_rows
from bench_targets import ratio as _ratio
from bench_turn import turn_markdown

__all__ = ["markdown"]


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _lat(stats: dict[str, Any] | None) -> tuple[str, str]:
    if not stats or not stats.get("n"):
        return "n/a", "n/a"
    return _fmt(stats["p50_ms"], 2), _fmt(stats["p95_ms"], 2)


def _git(res: dict[str, Any]) -> str:
    git = res.get("git")
    if not git:
        return "- **Code measured**: not recorded"
    dirty = ""
    if git.get("epmt_graph_uncommitted"):
        dirty = " plus uncommitted changes in `epmt_graph/`"
    return f"- **Code measured**: commit {git.get('commit')}{dirty}"


def _snap(section: str, value: Any) -> str:
    if isinstance(value, dict):  # {"load": [...], "cpu_probe_ms": x}
        return f"{section} {value['load']}, probe {value['cpu_probe_ms']} ms"
    return f"{section} {value}"  # older results: load averages only


def markdown(res: dict[str, Any]) -> str:
    """The text of ``RESULTS.md``."""
    m, v, cfg = res["machine"], res["versions"], res["config"]
    lines = [
        "# Benchmark results"
        + (" (QUICK run: fewer repeats, smaller scale job)" if cfg["quick"] else ""),
        "",
        "Produced by `benchmarks/run.py`; raw figures in `benchmarks/results.json`. "
        "Do not edit by hand: re-run the command.",
        "",
        "```",
        res["command"],
        "```",
        "",
        f"- **Date**: {res['date']} (run took {res['wall_seconds']:.0f} s)",
        f"- **Machine**: {m['cores']} cores, {m['memory_gib']} GiB memory, {m['cpu_model']}, "
        f"{m['os']}",
        "- **Machine load** at the start of each section: load average (1/5/15 min) and a CPU "
        "probe (median ms of a fixed Python loop; compare probes with each other: twice the ms "
        "= about half the CPU): "
        + "; ".join(_snap(k, val) for k, val in res["load_average"].items())
        + f". Other Java processes (other Neo4j servers) running at start: {res['other_jvms']}. "
        "The machine is shared and its load drifts: the ingest targets are judged on rounds "
        "of ours and EPMT's taken in turn, and our tree questions are timed half before and "
        "half after EPMT's run.",
        f"- **Versions**: Python {m['python']} (ours), Neo4j {v['neo4j_server']} "
        f"(local, heap {res['server']['heap']}, page cache {res['server']['pagecache']}, "
        f"loopback, auth off), neo4j driver {m['neo4j_driver']} "
        f"(rust ext {m['neo4j_rust_ext']}), epmt_graph {m['epmt_graph']}; "
        f"EPMT {v['epmt']} on Python {v['epmt_python']} (sqlite, its `ingest_timing.py`); "
        f"floor: networkx {m['networkx']}, pandas {m['pandas']}.",
        _git(res),
        "- **Wall seconds per section**: "
        + ", ".join(f"{k} {val}" for k, val in res.get("sections_seconds", {}).items()),
        f"- **Repeats**: {cfg['repeat']} timed calls per question per job after one untimed "
        f"warm-up ({cfg['repeat_slow']} for get_op_metrics), the same on all three sides; ours "
        f"also after one untimed round of every question, {cfg.get('warm_round', 0)} calls "
        "each (the server's JIT), and in two halves, before and after EPMT's run (made while "
        "our server idled), so that both sides span the same stretch of the machine's load; "
        f"ours warm reloads: {cfg['warm']} per job. Tag for the tag questions: "
        f"`{cfg['tag']}`. Latencies are pooled over the jobs (and op values), as EPMT's script "
        "pools them.",
        "",
    ]
    lines += _ingest(res)
    lines += _questions(res)
    lines += _scale(res)
    lines += memory_markdown(res.get("loader_memory") or {})
    lines += growth_section(res)  # nothing unless the run has "growth" results
    lines += ["## Targets", ""]
    rows = []
    for t in res["targets"]:
        rows.append(
            [
                t["target"],
                _fmt(t["ours"], 2),
                _fmt(t["epmt"], 2),
                _fmt(t["ratio"], 2),
                _fmt(t["need"], 1),
                f"**{t['verdict']}**",
            ]
        )
    lines += _table(["target", "ours", "EPMT", "ratio", "need", "verdict"], rows)
    lines += [f"- {note}" for note in res.get("notes", [])]
    return "\n".join(lines).rstrip() + "\n"


def _ingest(res: dict[str, Any]) -> list[str]:
    ing = res["ingest"]
    ours, epmt = ing["ours"], ing.get("epmt") or {}
    per_input = {p.get("jobid"): p for p in epmt.get("per_input", [])}
    lines = [
        "## Ingest: query jobs (685000, 685003, 685016)",
        "",
        "Ours **cold** = each job's first load on the freshly started server (685000 is the "
        "very first); **warm** = delete and reload, best and median of "
        f"{ours['warm_repeats']}. Parse = `read_job` (which also computes every depth and "
        "inclusive CPU time, with numpy over the parent links); write = `write_job` (one "
        "transaction: nodes with those values, and edges: the job is queryable with tree "
        "answers after it). EPMT: its script's single run (submit per job; post_process and "
        "process_trees over all jobs).",
        "",
    ]
    rows = []
    for jobid, job in ours["jobs"].items():
        rows.append(
            [
                jobid,
                _fmt(job["processes"]),
                _fmt(job["cold"]["parse"], 2),
                _fmt(job["cold"]["write"], 2),
                _fmt(job["warm_median"]["parse"], 2),
                _fmt(job["warm_median"]["write"], 2),
                _fmt(job["warm_best_total"], 2),
                _fmt(job["processes"] / job["warm_median_total"], 0),
                _fmt((per_input.get(jobid) or {}).get("seconds"), 2),
            ]
        )
    lines += _table(
        [
            "job",
            "processes",
            "cold parse s",
            "cold write s",
            "warm parse s (median)",
            "warm write s (median)",
            "warm parse+write s (best)",
            "warm processes/s (median)",
            "EPMT submit s",
        ],
        rows,
    )
    t = ours["totals"]
    pps, es, epps = (
        t["processes_per_second"],
        epmt.get("seconds") or {},
        (epmt.get("processes_per_second") or {}),
    )
    lines += [
        f"EPMT phases (s): submit {_fmt(es.get('submit'), 2)}, post_process "
        f"{_fmt(es.get('post_process'), 2)}, process_trees "
        f"{_fmt(es.get('process_trees'), 2)}, total {_fmt(es.get('total'), 2)}.",
        "",
    ]
    through = (
        "the 3 archives through `loader.load` (two jobs worked side by side: one parses while "
        "the server writes the other; what `epmt-graph load` does; after "
        f"{len(t.get('load_warmup_seconds') or [])} untimed such loads)"
    )
    one_at_a_time = (pps["cold"], pps["warm_best"], pps["warm_median"])
    pipelined = (None, pps["load_best"], pps["load_median"])  # no cold figure
    rows = []
    for label, key, (cold, best, median) in (
        (
            "(a) load alone, one job at a time: ours parse+write vs EPMT submit",
            "submit",
            one_at_a_time,
        ),
        (
            "(b) archive to queryable tree: ours parse+write vs EPMT "
            "submit+post_process+process_trees",
            "total",
            one_at_a_time,
        ),
        (f"(c) load alone, {through} vs EPMT submit", "submit", pipelined),
        (
            f"(d) archive to queryable tree, {through} vs EPMT submit+post_process+process_trees",
            "total",
            pipelined,
        ),
    ):
        e = epps.get(key)
        rows.append(
            [
                label,
                _fmt(cold, 0),
                _fmt(best, 0),
                _fmt(median, 0),
                _fmt(e, 0),
                _x(_ratio(cold, e)),
                _x(_ratio(median, e)),
            ]
        )
    lines += _table(
        [
            "processes/s",
            "ours cold",
            "ours warm best",
            "ours warm median",
            "EPMT",
            "ours cold / EPMT",
            "ours warm median / EPMT",
        ],
        rows,
    )
    lines += [
        "`loader.load` seconds per round, the untimed rounds first (they fall while the "
        "server warms up): "
        + ", ".join(_fmt(x, 2) for x in t.get("load_warmup_seconds") or [])
        + " | timed: "
        + ", ".join(_fmt(x, 2) for x in t.get("load_seconds") or [])
        + ".",
        "",
    ]
    if ing.get("alternated"):
        lines += turn_markdown(ing["alternated"])
    floor = ing.get("server_floor")
    if floor:
        e = epps.get("submit")
        lines += [
            "The server's floor: the same Process node properties, one `UNWIND $rows CREATE "
            "(p:BenchFloor) SET p = row` per job on an unindexed label, no Job node, edge, "
            "digest or publication, parsing not timed (median of "
            f"{len(next(iter(floor['jobs'].values()))['seconds'])} per job): "
            f"{_fmt(floor['processes_per_second'], 0)} processes/s, "
            f"{_x(_ratio(floor['processes_per_second'], e))} EPMT submit. No load of these "
            "rows can be faster.",
            "",
        ]
    split = ing.get("write_split") or {}
    if split:
        phases = list(next(iter(split.values())))
        lines += [
            "Where our write time goes (one instrumented reload per job, the statements of "
            "`write_job` run one by one; seconds, share of the sum):",
            "",
        ]
        rows = []
        for jobid, marks in split.items():
            total = sum(marks.values())
            rows.append(
                [
                    jobid,
                    *(f"{marks[p]:.3f} ({100 * marks[p] / total:.0f}%)" for p in phases),
                    f"{total:.3f}",
                ]
            )
        lines += _table(["job", *phases, "sum"], rows)
    return lines


def _questions(res: dict[str, Any]) -> list[str]:
    lines = [
        "## Tree questions, warm (ms)",
        "",
        "Ours: `epmt_graph.api` over Bolt (`fmt='orm'` and `.pid` read, as EPMT's script "
        "does; `get_procs` `fmt='dict'`); depth+inclusive = `compute_trees(graph, jobid)` "
        "(both walks, all processes). EPMT: `ingest_timing.py`; its depth+inclusive figure "
        "is its one-off `process_trees` phase over the 3 jobs (n=1). Floor: networkx/pandas "
        "over the parsed rows in this process. Speed-up = EPMT p50 / ours p50.",
        "",
    ]
    raw_stats = res["queries"].get("raw") or {}
    rows = []
    for row in question_rows(res):
        o, e, f = row["ours"], row["epmt"], row["floor"]
        ns = "/".join(str((s or {}).get("n", 0)) for s in (o, e, f))
        raw = _p50(raw_stats.get(row["question"]))
        rows.append(
            [
                row["question"],
                *_lat(o),
                _fmt(raw, 2),
                *_lat(e),
                *_lat(f),
                _x(_ratio(_p50(e), _p50(o))),
                _x(_ratio(_p50(o), _p50(f))),
                ns,
            ]
        )
    header = ["question", "ours p50", "ours p95", "ours raw Cypher p50", "EPMT p50", "EPMT p95"]
    header += ["floor p50", "floor p95", "speed-up vs EPMT", "ours / floor", "n ours/EPMT/floor"]
    lines += _table(header, rows)
    ping = _p50(raw_stats.get("bolt round trip (RETURN 1)"))
    raw_n = (raw_stats.get("bolt round trip (RETURN 1)") or {}).get("n", 0)
    lines += [
        "- Ours raw Cypher = the named query alone through `Graph.read` (Bolt, server, records "
        f"fetched; no rendering into API records), {raw_n} timed calls per job "
        "(and op value). A bare read (`RETURN 1` by `Graph.read`'s path, the driver's "
        f"`execute_query`) takes {_fmt(ping, 2)} ms p50 here.",
        "- Fetching every descendant instead (what `list(root.descendants)` costs, and what "
        "EPMT's `len()` does: it loads the relationship), raw Cypher: "
        f"{_fmt(_p50(raw_stats.get(ALL_DESCENDANTS)), 2)} ms p50. Ours `len()` counts in the "
        "server when the API ships a count query.",
        "- A load computes depth and inclusive CPU in the reader (numpy, part of parse "
        "above) and stores them with the nodes: it runs no tree walk. The depth+inclusive row "
        "is the server-side recompute (`compute_trees`); EPMT's figure there is its one-off "
        "process_trees phase.",
        "",
    ]
    q = res["queries"]
    rows = []
    for jobid, c in q["ours"]["counts"].items():
        f = q["floor"]["counts"].get(jobid, {})
        rows.append(
            [
                jobid,
                *(
                    f"{c[k]} / {f.get(k)}"
                    for k in ("roots", "descendants_of_root", "op_roots_tag", "get_procs_tag")
                ),
            ]
        )
    lines += ["Answers (ours / floor), to show both sides answer the same question:", ""]
    lines += _table(
        [
            "job",
            "roots",
            "descendants of root",
            f"op_roots {res['config']['tag']}",
            f"get_procs {res['config']['tag']}",
        ],
        rows,
    )
    return lines


def _scale(res: dict[str, Any]) -> list[str]:
    sc = res.get("scale") or {}
    ours, floor = sc.get("ours") or {}, sc.get("floor") or {}
    if not ours:
        return []
    lines = [
        "## Scale: synthetic jobs, ours alone (floor for reference)",
        "",
        "Generated into a temp dir by `epmt_graph.synthetic.write_archive` (seeded), "
        "loaded cold with `read_job` + `write_job` on the same server.",
        "",
    ]
    rows = []
    for name, case in ours.items():
        spec = case["spec"]
        rows.append(
            [
                f"{name} (seed {spec['seed']}, chain {spec['chain']})",
                _fmt(case["processes"]),
                _fmt(case["max_depth"]),
                _fmt(case["roots"]),
                _fmt(case["parse_seconds"], 2),
                _fmt(case["write_seconds"], 2),
                _fmt(case["processes_per_second"], 0),
            ]
        )
    lines += _table(
        ["job", "processes", "max depth", "roots", "parse s", "write s", "processes/s"], rows
    )
    rows = []
    for name, case in ours.items():
        for question, stats in case["latency"].items():
            fl = (floor.get(name) or {}).get(question)
            rows.append([name, question, *_lat(stats), *_lat(fl), str(stats.get("n", 0))])
    lines += _table(
        ["job", "question", "ours p50 ms", "ours p95 ms", "floor p50 ms", "floor p95 ms", "n"], rows
    )
    return lines
