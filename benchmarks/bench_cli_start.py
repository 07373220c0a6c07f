"""How long ``epmt-graph`` takes to start: a baseline commit against this tree, same run.

    .venv/bin/python benchmarks/bench_cli_start.py [--baseline main] [--runs 15] [--write]

The baseline's code (``git archive`` of ``--baseline``, default ``main``) is unpacked into a
temporary folder; each command runs as a child process with that folder, or this tree, first
on ``PYTHONPATH``, the two in turn (which goes first alternates by round), ``--runs`` times
each: ``epmt-graph --version``, ``epmt-graph --help``, ``import epmt_graph.cli``, ``import
epmt_graph.loader``, and ``epmt-graph load --dry-run`` of the sample job 685000 (3,480
processes: parsed and checked, nothing written, no server), with an empty interpreter as the
floor. Medians, in seconds, in a Markdown table; then each side's ten heaviest packages in
``epmt-graph load``'s imports (``python -X importtime``, own times by package). ``--write``
puts the section in RESULTS.md in place of the last one (between its markers).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from bench_util import (
    REPO,
    git_state,
    load_average,
    machine_info,
    median,
    samples_dir,
    write_section,
)

BEGIN, END = "<!-- bench_cli_start: begin -->", "<!-- bench_cli_start: end -->"
#: ``epmt-graph`` as installed next to this interpreter (an entry-point script).
SCRIPT = Path(sys.executable).parent / "epmt-graph"
ARCHIVE = "query/685000.tgz"
#: ``epmt-graph load``'s imports, without running it (on both sides).
LOAD_IMPORTS = "import epmt_graph.cli.load"


def commands(archive: Path) -> dict[str, list[str]]:
    """Row name -> the command line."""
    python = sys.executable
    return {
        "`python -c pass` (the floor)": [python, "-c", "pass"],
        "`epmt-graph --version`": [str(SCRIPT), "--version"],
        "`epmt-graph --help`": [str(SCRIPT), "--help"],
        '`python -c "import epmt_graph.cli"`': [python, "-c", "import epmt_graph.cli"],
        '`python -c "import epmt_graph.loader"`': [python, "-c", "import epmt_graph.loader"],
        f"`epmt-graph load --dry-run {archive.name}`": [
            str(SCRIPT),
            "load",
            "--dry-run",
            str(archive),
        ],
    }


def unpack(ref: str, into: Path) -> str:
    """``git archive`` of ``ref``'s ``epmt_graph/`` into ``into``; returns its short hash."""
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", ref],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    tar = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", ref, "epmt_graph"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(into, filter="data")
    return commit


def env_for(tree: Path) -> dict[str, str]:
    """The environment with ``tree`` first on the path and no ``NEO4J_*`` setting (the
    children run in ``tree`` too: ``python -c`` puts its working folder first)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env["PYTHONPATH"] = str(tree)
    return env


def seconds(command: list[str], tree: Path) -> float:
    """Wall seconds of one run of ``command`` on ``tree``'s code (which must succeed)."""
    started = time.perf_counter()
    subprocess.run(command, env=env_for(tree), cwd=tree, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def check_paths(trees: dict[str, Path]) -> None:
    """Each side imports its own tree's code (PYTHONPATH before the editable install)."""
    for tree in trees.values():
        found = subprocess.run(
            [sys.executable, "-c", "import epmt_graph; print(epmt_graph.__file__)"],
            env=env_for(tree),
            cwd=tree,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert Path(found).is_relative_to(tree), (found, tree)


def timings(
    rows: dict[str, list[str]], trees: dict[str, Path], runs: int
) -> dict[str, dict[str, list[float]]]:
    """Row -> side -> seconds of each run; the sides take turns, in alternating order."""
    found: dict[str, dict[str, list[float]]] = {row: {side: [] for side in trees} for row in rows}
    sides = list(trees)
    for round_ in range(runs):
        order = sides if round_ % 2 == 0 else sides[::-1]
        for row, command in rows.items():
            for side in order:
                found[row][side].append(seconds(command, trees[side]))
    return found


def heaviest_imports(tree: Path, top: int = 10) -> list[tuple[str, float]]:
    """The ``top`` packages whose modules take longest to import in ``epmt-graph load``
    (``-X importtime``: each module's own time, summed by top-level package, in seconds)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", LOAD_IMPORTS],
        env=env_for(tree),
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        package = name.strip().split(".")[0]
        found[package] = found.get(package, 0.0) + int(own) / 1e6
    return sorted(found.items(), key=lambda item: -item[1])[:top]


def section(
    found: dict[str, dict[str, list[float]]],
    heavy: dict[str, list[tuple[str, float]]],
    labels: dict[str, str],
    runs: int,
    info: dict[str, object],
) -> str:
    base, ours = list(labels)
    lines = [
        BEGIN,
        "## Starting `epmt-graph`: the command line imports only what runs",
        "",
        "```",
        ".venv/bin/python benchmarks/bench_cli_start.py --write",
        "```",
        "",
        f"- **Date**: {time.strftime('%Y-%m-%dT%H:%M:%S%z')}; load average at the start "
        f"{info['load']}, at the end {load_average()}; {info['cores']} cores",
        f"- **Sides**: {labels[base]} against {labels[ours]}, each command run {runs} times "
        "per side as a child process, the sides in turn; median wall seconds",
        "",
        f"| command | {labels[base]} s | {labels[ours]} s | ratio |",
        "|---|---|---|---|",
    ]
    for row, sides in found.items():
        before, after = median(sides[base]), median(sides[ours])
        lines.append(f"| {row} | {before:.3f} | {after:.3f} | {before / after:.1f}x |")
    lines += [
        "",
        "Where `epmt-graph load` spends its import time: the ten heaviest packages "
        "(`python -X importtime -c 'import epmt_graph.cli.load'`, each module's own time "
        "summed by top-level package, one run per side):",
        "",
        f"| {labels[base]} | s | {labels[ours]} | s |",
        "|---|---|---|---|",
    ]
    for (name_a, s_a), (name_b, s_b) in zip(heavy[base], heavy[ours], strict=False):
        lines.append(f"| `{name_a}` | {s_a:.3f} | `{name_b}` | {s_b:.3f} |")
    lines += [
        "",
        "`epmt-graph --version` and `--help` import no subcommand's module; a subcommand "
        "imports its own module alone (`epmt_graph/cli/commands.py`). The Neo4j driver imports "
        "pandas and pyarrow when they are installed (its `neo4j._optional_deps`), so every "
        "command that talks to the server pays for them.",
        END,
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="main", help="git ref to compare with (main)")
    parser.add_argument("--runs", type=int, default=15, help="runs per command and side (15)")
    parser.add_argument("--write", action="store_true", help="put the section in RESULTS.md")
    args = parser.parse_args(argv)
    info = {"load": load_average(), "cores": machine_info().get("cores")}
    archive = samples_dir() / ARCHIVE
    work = Path(tempfile.mkdtemp(prefix="epmt_graph_bench_cli_start_"))
    try:
        commit = unpack(args.baseline, work)
        trees = {"baseline": work, "tree": REPO}
        state = git_state()
        dirty = "+" if state["epmt_graph_uncommitted"] else ""
        labels = {
            "baseline": f"{args.baseline} ({commit})",
            "tree": f"this tree ({state['commit']}{dirty})",
        }
        check_paths(trees)
        found = timings(commands(archive), trees, args.runs)
        heavy = {side: heaviest_imports(tree) for side, tree in trees.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = section(found, heavy, labels, args.runs, info)
    print(text)
    if args.write:
        write_section(text, BEGIN, END)


if __name__ == "__main__":
    main()
