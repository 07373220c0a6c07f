"""The growth section of RESULTS.md: per-job latency on the grown database against the
one-job database (:func:`compare_rows`, :func:`markdown_section`), and PROFILE plans as
indented operator trees (:func:`plan_lines`). The measuring is in :mod:`bench_growth`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ALL3", "LIMIT", "WARMUP", "compare_rows", "markdown_section", "plan_lines"]

#: Per-job latency on the grown database may be at most this many times the one-job one's.
LIMIT = 1.5
#: Untimed rounds before the timed ones (a fresh server's first plans and JIT are slow).
WARMUP = 3
#: The all-jobs question, timed over the 3 query jobs on both databases.
ALL3 = "op_roots(3 query jobs, tag)"


def plan_lines(op: dict[str, Any], depth: int = 0, width: int = 90) -> list[str]:
    """A profiled plan as text: ``operator  details  rows=  dbHits=``, one line per operator;
    a binary operator's right-hand side is indented under it (as Neo4j's own plan view).
    ``op`` is the driver's ``ResultSummary.profile`` (or one of its ``children``)."""
    details = " ".join(str(op.get("args", {}).get("Details", "")).split())
    details = details if len(details) <= width else details[: width - 3] + "..."
    name = op["operatorType"].split("@")[0]
    text = "  ".join(s for s in (name, details) if s)
    lines = ["|  " * depth + f"{text}  rows={op.get('rows', 0)} dbHits={op.get('dbHits', 0)}"]
    children = op.get("children") or []
    if len(children) == 2:
        lines += plan_lines(children[1], depth + 1, width)
    if children:
        lines += plan_lines(children[0], depth, width)
    return lines


def _p50(stats: dict[str, Any] | None) -> float | None:
    return None if not stats or not stats.get("n") else stats.get("p50_ms")


def compare_rows(res: dict[str, Any]) -> list[dict[str, Any]]:
    """Per question: one-job (before, after) and grown stats, the baseline (the faster
    one-job p50: the stricter test), p50 ratio grown/baseline and verdict (no growth: [])."""
    growth = res.get("growth") or {"small": {"latency": {}}}
    rows = []
    for question, small in growth["small"]["latency"].items():
        big = growth["big"]["latency"].get(question)
        after = (growth.get("after") or {"latency": {}})["latency"].get(question)
        base = min((x for x in (_p50(small), _p50(after)) if x), default=None)
        b = _p50(big)
        ratio = None if base is None or b is None else b / base
        verdict = "n/a" if ratio is None else ("PASS" if ratio <= LIMIT else "FAIL")
        rows.append(dict(question=question, small=small, after=after, big=big, base=base))
        rows[-1] |= {"ratio": ratio, "verdict": verdict}
    return rows


def _f(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    return [_row(header), "|" + "---|" * len(header), *(_row(r) for r in rows), ""]


def markdown_section(res: dict[str, Any]) -> list[str]:
    """The ``RESULTS.md`` lines of the growth results (none when ``res`` has no ``growth``)."""
    g = res.get("growth")
    if not g:
        return []
    cfg, small, big, after = g["config"], g["small"], g["big"], g.get("after") or {}
    synth = [r for r in g["loads"] if r["kind"] == "synthetic"]
    n, gib, dels = big["db_processes"], g.get("store_bytes", 0) / 1024**3, g.get("deletes") or {}
    snaps = "; ".join(
        f"{label} {p['snapshot']['load']}, probe {p['snapshot']['cpu_probe_ms']} ms"
        for label, p in (("one-job", small), ("grown", big), ("one-job again", after))
        if p
    )
    ctl = (
        f"; then the history is deleted ({_f(dels['processes'])} processes in "
        f"{_f(dels['seconds'], 0)} s, `delete_job` per job) and the one-job database is timed "
        "once more (a control: the machine is shared, its load drifts)"
        if dels
        else ""
    )
    lines = [
        f"## Growth: per-job questions, one-job database vs {n:,} processes",
        "",
        f"Its own throwaway Neo4j (heap {g['server']['heap']}, page cache "
        f"{g['server']['pagecache']}), after the sections above ({g['wall_seconds']:,.0f} s in "
        f"all). Job {g['job']} alone ({small['db_processes']:,} processes) is asked the "
        f"questions; then the database grows to {n:,} processes ({len(g['loads'])} jobs: every "
        f"good sample job and {len(synth)} seeded synthetic jobs of up to {cfg['job_procs']:,} "
        f"processes; store and transaction logs {gib:.2f} GiB) and the same calls on the same "
        f"job are timed again{ctl}. `{ALL3}` is timed on the database "
        f"holding only the 3 query jobs ({small['db_processes_3_jobs']:,} processes) instead. "
        f"Each phase: {WARMUP} untimed rounds, then {cfg['repeat']} timed rounds of every "
        f"question ({cfg['slow']} for get_op_metrics), pooled over op values. Target: "
        f"grown p50 within {LIMIT}x of the faster one-job p50 (the stricter). Machine "
        f"load and CPU probe per phase: {snaps}.",
        "",
    ]
    rows = []
    for r in compare_rows(res):
        s, a, b = (r[k] or {} for k in ("small", "after", "big"))
        ns = "/".join(str(x.get("n", 0)) for x in (s, a, b))
        rows.append([r["question"], *(_f(x.get("p50_ms")) for x in (s, a, b))])
        rows[-1] += [_f(b.get("p95_ms")), _f(r["ratio"]), ns, f"**{r['verdict']}**"]
    head = ["question", "one-job p50 ms", "one-job again p50 ms", f"{n:,} p50 ms"]
    lines += _table([*head, f"{n:,} p95 ms", "ratio", "n", f"≤ {LIMIT}x"], rows)
    same = small["answers"] == big["answers"] == after.get("answers", big["answers"])
    pairs = ", ".join(f"{k} {v} / {big['answers'].get(k)}" for k, v in small["answers"].items())
    lines += [f"Answers (one-job / grown), {'the same' if same else '**not the same**'}: "]
    lines[-1] += f"{pairs}."
    lines += ["", "Load, in order (parse = `read_job`, write = `write_job`, one transaction):", ""]
    rows = [
        [r["jobid"], r["kind"], _f(r["processes"]), _f(r["db_processes_after"])]
        + [_f(r[k]) for k in ("generate_s", "parse_s", "write_s")]
        + [_f(r["processes_per_s"], 0)]
        for r in g["loads"]
    ]
    head = ["job", "kind", "processes", "database after", "generate s", "parse s", "write s"]
    lines += _table([*head, "processes/s"], rows)
    total = sum(r["processes"] for r in g["loads"])
    secs = sum(r["parse_s"] + r["write_s"] for r in g["loads"])
    lines += [f"All loads: {total:,} processes in {secs:,.0f} s parse+write, "]
    lines[-1] += f"{total / secs:,.0f} processes/s." if secs else "n/a."
    lines += ["", f"### PROFILE on the {n:,}-process database", ""]
    lines += [
        "Each named query behind each question, run once under `PROFILE` with the parameters "
        "the API sent (in a transaction rolled back). dbHits on the one-job database → on the "
        "grown one: index-backed access keeps them equal (on the one-job database the planner "
        "may scan the jobid index instead of seeking it: the index holds that job only). Plans "
        "as Neo4j shows them (operator, details, rows, dbHits; a branch's right-hand side "
        "indented under it).",
        "",
    ]
    shown: set[tuple[str, str]] = set()
    for question, queries in g["profiles"].items():
        hits = []
        for name, p in queries.items():
            before = (p["small"] or {}).get("db_hits")
            scans = "".join(
                f", {db} plan scans: {', '.join(p[key]['scans'])}"
                for key, db in (("small", "one-job"), ("big", "grown"))
                if (p[key] or {}).get("scans")
            )
            hits.append(f"`{name}` {_f(before)} → {_f(p['big']['db_hits'])}{scans}")
        lines += [f"- **{question}**: " + "; ".join(hits)]
    lines += [""]
    for queries in g["profiles"].values():
        for name, p in queries.items():
            if (name, p["big"]["params"]) in shown:
                continue
            shown.add((name, p["big"]["params"]))
            lines += [f"`{name}` ({p['big']['params'][:160]}):", "", "```"]
            lines += [*p["big"]["plan"], "```", ""]
    return lines
