"""The "Outlier detection" section of ``RESULTS.md``, from ``outliers.json``.

``RESULTS.md`` has two sources: ``results.json`` (``run.py``: every section but this one)
and ``outliers.json`` (``bench_outliers.py``: this one). Whichever of the two commands
runs, it writes the whole file with :func:`write_results_md`, which renders both, so
neither run erases the other's figures; sections that other benchmarks write in place
between markers (``<!-- bench_migrate: begin -->`` ... ``end -->``) are carried over.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bench_report import markdown
from bench_targets import targets
from bench_util import median

__all__ = ["kept_blocks", "section", "verdicts", "write_results_md"]

#: A section another benchmark keeps in RESULTS.md between its own markers.
BLOCK = re.compile(r"<!-- ([\w.-]+): begin -->.*?<!-- \1: end -->", re.DOTALL)

#: What each call is, as RESULTS.md names it.
LABELS = {
    "jobs": "detect_outlier_jobs(jobids)",
    "ops": "detect_outlier_ops(jobids)",
    "jobs_model": "detect_outlier_jobs(jobids, trained_model=M)",
    "ops_model": "detect_outlier_ops(jobids, trained_model=M)",
}
#: The calls the target is judged on (the issue's two functions, default arguments).
JUDGED = ("jobs", "ops")


def verdicts(res: dict[str, Any]) -> list[dict[str, Any]]:
    """Per call: p50 and min seconds of each side, the speed-up (EPMT p50 / ours p50) and
    PASS/FAIL against the target (``n/a`` when our side did not run)."""
    seconds, target = res.get("seconds") or {}, res["config"]["target"]
    out = []
    for key, label in LABELS.items():
        epmt, ours = seconds.get("epmt", {}).get(key) or [], seconds.get("ours", {}).get(key) or []
        row: dict[str, Any] = {"call": key, "label": label, "judged": key in JUDGED}
        row |= {"n_epmt": len(epmt), "n_ours": len(ours)}
        row |= {"epmt_p50": median(epmt) if epmt else None, "epmt_min": min(epmt, default=None)}
        row |= {"ours_p50": median(ours) if ours else None, "ours_min": min(ours, default=None)}
        ratio = row["epmt_p50"] / row["ours_p50"] if epmt and ours else None
        row["speedup"] = ratio
        row["speedup_min"] = row["epmt_min"] / row["ours_min"] if epmt and ours else None
        row["verdict"] = "n/a" if ratio is None else ("PASS" if ratio >= target else "FAIL")
        out.append(row)
    return out


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.3f}"


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _agreement(res: dict[str, Any]) -> list[str]:
    agreement = res.get("agreement") or {}
    if not agreement:
        return ["Answers: not compared (our side did not run).", ""]
    lines = [
        "Answers, ours against EPMT's (same outlier jobs per feature, or per op tag; same "
        "flags per job and feature; same op tag order and scores to 1e-9):",
        "",
    ]
    for key, cmp in agreement.items():
        what = "agree" if cmp["agree"] else f"**differ** ({cmp.get('n_differences', '?')} ways)"
        outliers = "same" if cmp["outliers_agree"] else "**not the same**"
        lines.append(f"- `{LABELS[key]}`: {what}; outlier jobs {outliers}.")
        lines += [f"  - {d}" for d in cmp.get("differences", [])[:5]]
    return [*lines, ""]


def _epmt_outliers(res: dict[str, Any]) -> list[str]:
    found = res.get("epmt_answers") or {}
    jobs = found.get("jobs") or {}
    ops = found.get("ops") or {}
    if not jobs:
        return []
    flagged = ", ".join(f"{f}: {len(v)}" for f, v in sorted(jobs.items()))
    per_tag = ", ".join(f"{json.loads(t)['op']} {len(v)}" for t, v in sorted(ops.items()))
    return [
        f"EPMT's outlier jobs without a model, per feature: {flagged}; per op tag "
        f"(`detect_outlier_ops`, {len(ops)} tags): {per_tag}.",
        "",
    ]


def _load_note(res: dict[str, Any]) -> list[str]:
    probes = [v["cpu_probe_ms"] for v in res["snapshots"].values()]
    if max(probes) < 2 * min(probes):
        return []
    return [
        f"The machine's load changed during the run (CPU probe {min(probes)} to "
        f"{max(probes)} ms; twice the ms = about half the CPU): both sides' calls alternate, "
        "so they share it, but single figures are noisier than on a quiet machine."
    ]


def _profile(res: dict[str, Any]) -> list[str]:
    profile = res.get("profile") or {}
    if not profile:
        return []
    lines = [
        "Where our time goes (`bench_outliers_profile.py`: each call once more, untimed; a "
        "round trip = one named query or transaction, Bolt, server and records fetched):",
        "",
        "| call | s | round trips | in round trips s | in Python s | queries (count, s) | "
        "most own time (cProfile) |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, p in profile.items():
        queries = "; ".join(
            f"`{name}` {q['count']}x {q['seconds']:.3f}" for name, q in p["by_query"].items()
        )
        top = "; ".join(f"`{t['function']}` {t['own_s']:.3f}" for t in p["top"][:3])
        lines.append(
            f"| `{LABELS[key]}` | {p['seconds']:.3f} | {p['trips']} | {p['trip_seconds']:.3f} | "
            f"{p['python_seconds']:.3f} | {queries} | {top} |"
        )
    return [*lines, ""]


def section(res: dict[str, Any]) -> list[str]:
    """The section's lines."""
    m, js, ing = res["machine"], res["jobset"], res["epmt_ingest"]
    spec, worker = js["spec"], res.get("epmt_worker") or {}
    rows = verdicts(res)
    judged = [r for r in rows if r["judged"]]
    if all(r["verdict"] == "PASS" for r in judged):
        overall = "PASS"
    else:
        overall = "n/a" if any(r["verdict"] == "n/a" for r in judged) else "FAIL"
    git = res.get("git") or {}
    dirty = (
        " plus uncommitted changes in `epmt_graph/`" if git.get("epmt_graph_uncommitted") else ""
    )
    snaps = "; ".join(
        f"{k} {v['load']}, probe {v['cpu_probe_ms']} ms" for k, v in res["snapshots"].items()
    )
    lines = [
        "## Outlier detection",
        "",
        "Produced by `benchmarks/bench_outliers.py`; raw figures in `benchmarks/outliers.json`.",
        "",
        "```",
        res["command"],
        "```",
        "",
        f"- **Date**: {res['date']} (run took {res['wall_seconds']:.0f} s); code: commit "
        f"{git.get('commit')}{dirty}",
        f"- **Machine**: {m['cores']} cores, {m['memory_gib']} GiB, {m['cpu_model']}, {m['os']}; "
        f"load and CPU probe: {snaps}; other Java processes at start: {res['other_jvms']}",
        f"- **Versions**: ours Python {m['python']}, pandas {m['pandas']}, Neo4j local (heap "
        f"{res['server']['heap']}, page cache {res['server']['pagecache']}, loopback, auth "
        f"off); EPMT {worker.get('epmt_version')} on Python {worker.get('python_version')}, "
        "SQLite (its `epmt_ref/outliers_timing.py`)",
        f"- **Jobs**: {len(js['jobs'])} synthetic jobs (`epmt_graph.synthetic`, seeds from "
        f"{spec['seed']}, experiment component `{js['component']}`), {js['processes']:,} "
        f"processes: {spec['procs']:,} per job but the `big` outliers "
        f"({', '.join(js['outliers']['big'])}: 2x the processes); `heavy` outliers "
        f"({', '.join(js['outliers']['heavy'])}): every "
        "`op:fregrid` process 10x the CPU time; process tags folded to `op:X` (10 op values). "
        f"Models `M`: `create_refmodel` on {len(js['model_jobs'])} normal jobs (for "
        "`detect_outlier_ops` with `op_tags='*'`).",
        "- **Ingest (untimed setup)**: ours `loader.load` "
        f"{res.get('ours_load_seconds', 0):.0f} s; EPMT's database "
        f"{'from the cache' if ing.get('cached') else 'made in this run'} (submit "
        f"{ing.get('submit_seconds', 0):.0f} s, post_process "
        f"{ing.get('post_process_seconds', 0):.0f} s, models "
        f"{ing.get('refmodel_seconds', 0):.0f} s when it was made).",
        f"- **Timing**: each call once untimed on each side, then {res['config']['repeat']} "
        "rounds: every call on EPMT's side, then on ours (ours first in every other round); "
        "seconds of one call, wall clock in the caller (ours: the Python API through Bolt; "
        "EPMT: in its own process).",
        "",
        "| call | EPMT p50 s | EPMT min s | ours p50 s | ours min s | speed-up (p50) | "
        "speed-up (min) | n EPMT/ours | 5x |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        judged_mark = "" if r["judged"] else " (not judged)"
        lines.append(
            f"| `{r['label']}` | {_s(r['epmt_p50'])} | {_s(r['epmt_min'])} | "
            f"{_s(r['ours_p50'])} | {_s(r['ours_min'])} | {_x(r['speedup'])} | "
            f"{_x(r['speedup_min'])} | {r['n_epmt']}/{r['n_ours']} | "
            f"**{r['verdict']}**{judged_mark} |"
        )
    target = res["config"]["target"]
    lines += [
        "",
        f"Target: `detect_outlier_jobs` and `detect_outlier_ops` at least {target:g}x faster "
        f"than EPMT (p50): **{overall}**.",
        "",
    ]
    lines += _agreement(res)
    lines += _epmt_outliers(res)
    lines += _profile(res)
    lines += [f"- {note}" for note in [*_load_note(res), *(res.get("notes") or [])]]
    return [*lines, ""] if lines[-1] else lines


def kept_blocks(text: str) -> list[str]:
    r"""The sections other benchmarks write into ``RESULTS.md`` themselves, each between
    ``<!-- NAME: begin -->`` and ``<!-- NAME: end -->`` (``bench_migrate.py --write``),
    markers included, in their order.

    Examples
    --------
    >>> kept_blocks("# a\n<!-- m: begin -->\n## M\n<!-- m: end -->\ntail\n")
    ['<!-- m: begin -->\n## M\n<!-- m: end -->']
    """
    return [m.group(0) for m in BLOCK.finditer(text)]


def write_results_md(out_dir: Path, results: Path | None = None) -> list[str]:
    """Write ``out_dir/RESULTS.md`` from ``results`` (default ``out_dir/results.json``) and
    ``out_dir/outliers.json`` (either may be missing), then the marker-delimited sections
    of the file it replaces (:func:`kept_blocks`), unchanged; return what was written, as
    lines for the console."""
    parts, said = [], []
    results, outliers = results or out_dir / "results.json", out_dir / "outliers.json"
    if results.exists():
        res: dict[str, Any] = json.loads(results.read_text())
        res["targets"] = targets(res)
        parts.append(markdown(res))
    if outliers.exists():
        out = json.loads(outliers.read_text())
        parts.append("\n".join(section(out)) + "\n")
        said += [
            f"{r['verdict']:4}  {r['label']}  (speed-up {_x(r['speedup'])})" for r in verdicts(out)
        ]
    target = out_dir / "RESULTS.md"
    text = "\n".join(parts)
    for block in kept_blocks(target.read_text()) if target.exists() else []:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    target.write_text(text)
    return [*said, f"wrote {out_dir / 'RESULTS.md'}"]
