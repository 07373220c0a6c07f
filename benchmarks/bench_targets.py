"""The issues' targets, judged from the results of one run (the dict ``results.json`` holds)."""

from __future__ import annotations

from typing import Any

from bench_growth_report import LIMIT as GROWTH_LIMIT
from bench_growth_report import compare_rows as growth_rows
from bench_ours import KEYS

__all__ = ["QUESTIONS", "TREES_ALL", "p50", "question_rows", "ratio", "targets"]

#: Questions both sides answer, in report order (ours/EPMT/floor keys are the same strings).
QUESTIONS = (
    "get_roots",
    "root",
    "op_roots",
    "op_roots_all",
    "descendants",
    "get_procs",
    "get_op_metrics",
)
TREES_ALL = "depth+inclusive CPU, all processes of the 3 jobs"


def p50(stats: dict[str, Any] | None) -> float | None:
    """The p50 of latency stats, or None when there are no samples."""
    return None if not stats or not stats.get("n") else stats.get("p50_ms")


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b``, or None when either is missing or ``b`` is 0."""
    return None if a is None or b is None or b == 0 else a / b


def question_rows(res: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per tree question: ours, EPMT and floor stats, pooled like EPMT's script."""
    q = res["queries"]
    ours, floor = q["ours"]["latency"], q["floor"]["latency"]
    epmt = (q.get("epmt") or {}).get("latency") or {}
    rows = []
    for key in QUESTIONS:
        name = KEYS[key]
        rows.append(
            {
                "question": name,
                "ours": ours.get(name),
                "epmt": epmt.get(name),
                "floor": floor.get(name),
            }
        )
    seconds = (res["ingest"].get("epmt") or {}).get("seconds") or {}
    tree_seconds = seconds.get("process_trees")
    epmt_trees = None
    if tree_seconds is not None:
        ms = round(tree_seconds * 1000.0, 3)
        epmt_trees = {"n": 1, "p50_ms": ms, "p95_ms": ms, "note": "EPMT process_trees phase"}
    rows.append(
        {
            "question": TREES_ALL,
            "ours": q["ours"]["trees_all_jobs"],
            "epmt": epmt_trees,
            "floor": q["floor"]["trees_all_jobs"],
        }
    )
    return rows


def targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    """The issues' targets, each with the figures compared, the ratio, and PASS/FAIL/n/a."""
    out: list[dict[str, Any]] = []

    def add(
        name: str,
        ours: float | None,
        epmt: float | None,
        value: float | None,
        need: float,
        unit: str,
        lower_is_better: bool = False,
    ) -> None:
        if value is None:
            verdict = "n/a"
        else:
            verdict = "PASS" if (value < need if lower_is_better else value >= need) else "FAIL"
        out.append(
            {
                "target": name,
                "ours": ours,
                "epmt": epmt,
                "ratio": value,
                "need": need,
                "unit": unit,
                "verdict": verdict,
            }
        )

    ing = res["ingest"]
    turn = ing.get("alternated") or {}
    if "processes_per_second" in turn:  # ours and EPMT in turn: the same machine load
        how = "ours and EPMT in turn, medians of the rounds"
        ours_pps, submit, total = (
            turn["processes_per_second"][k] for k in ("ours", "epmt_submit", "epmt_total")
        )
    else:  # results.json of runs before the rounds in turn
        how = "warm median"
        ours_pps = ing["ours"]["totals"]["processes_per_second"]["load_median"]
        epmt_pps = (ing.get("epmt") or {}).get("processes_per_second") or {}
        submit, total = epmt_pps.get("submit"), epmt_pps.get("total")
    add(
        f"ingest, load alone (`loader.load`, {how}; ours also builds the trees) vs EPMT "
        "submit, processes/s ≥ 3x",
        ours_pps,
        submit,
        ratio(ours_pps, submit),
        3.0,
        "processes/s",
    )
    add(
        f"ingest end to end, archives to queryable trees (`loader.load`, {how}) vs EPMT "
        "submit+post_process+process_trees, processes/s ≥ 5x (goal 10x)",
        ours_pps,
        total,
        ratio(ours_pps, total),
        5.0,
        "processes/s",
    )
    for row in question_rows(res):
        o, e = p50(row["ours"]), p50(row["epmt"])
        add(
            f"{row['question']}: at least as fast as EPMT warm (p50)",
            o,
            e,
            ratio(e, o),
            1.0,
            "ms (ratio = EPMT/ours)",
        )
    for key in ("op_roots_all", "root"):
        row = next(r for r in question_rows(res) if r["question"] == KEYS[key])
        o, e = p50(row["ours"]), p50(row["epmt"])
        add(
            f"{KEYS[key]}: ≥ 3x faster than EPMT (p50)",
            o,
            e,
            ratio(e, o),
            3.0,
            "ms (ratio = EPMT/ours)",
        )
    wide = (res.get("scale") or {}).get("ours", {}).get("wide")
    if wide:
        stats = wide["latency"]["compute_trees (depth+inclusive, all processes)"]
        trees_ms = p50(stats)
        name = f"depth+inclusive CPU, all {wide['processes']:,} processes: < 2 s (p50)"
        if wide["processes"] < 50_000:
            name += " [scaled-down job: not the 50K target]"
        add(
            name,
            trees_ms,
            None,
            None if trees_ms is None else trees_ms / 1000.0,
            2.0,
            "ms (ratio = seconds)",
            lower_is_better=True,
        )
    memory = (res.get("loader_memory") or {}).get("rows") or []
    if len(memory) >= 2:
        small, big = memory[0], memory[-1]
        add(
            f"loader memory flat from {small['processes']:,} to {big['processes']:,} processes "
            "(peak RSS ratio < 1.5x)",
            big["peak_rss_mb"],
            None,
            ratio(big["peak_rss_mb"], small["peak_rss_mb"]),
            1.5,
            "MB (ratio = big/small)",
            lower_is_better=True,
        )
    for row in growth_rows(res):  # none unless the run has "growth" results
        n = res["growth"]["big"]["db_processes"]
        name = (
            f"{row['question']}: p50 on the {n:,}-process database within {GROWTH_LIMIT}x "
            "of the one-job database"
        )
        if n < 1_000_000:
            name += " [scaled-down database: not the 1M target]"
        b = p50(row["big"])
        add(name, b, None, row["ratio"], GROWTH_LIMIT, "ms (ratio = grown/one-job)", True)
    return out
