"""The concurrent-writer part of ``docs/reliability.md`` (issue 15): its figures and trials.

The races themselves are ``tests/stress/racing.py``; ``benchmarks/reliability.py`` runs them
and calls :func:`section` for the report and :func:`failures` for its verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import leases
import racing

__all__ = ["failures", "section"]

RACE_HEADER = [
    "#", "from", "transactions", "killed", "kill at s", "injected", "load b", "load c",
    "delete", "end", "lost", "strays", "orphans", "held", "rerun whole", "trial s",
]  # fmt: skip


def failures(races: Sequence[racing.Race], sweeps: Mapping[str, leases.Sweep]) -> list[str]:
    """What went wrong: each failed race, and each sweep that left something."""
    problems = [str(race) for race in races if not race.ok]
    problems += [
        f"{name}: of {s.left} versions killed writers left, some survived a delete"
        for name, s in sweeps.items()
        if not s.removed
    ]
    return problems


def _table(header: list[str], rows: Iterable[Iterable[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _count(races: Sequence[racing.Race], test: Callable[[racing.Race], int]) -> list[object]:
    """A row's cells: the count over each victim's races, then over all."""
    by_victim = [[r for r in races if r.plan.victim == v] for v in racing.WRITERS]
    return [sum(map(test, group)) for group in [*by_victim, races]]


def _summary(races: Sequence[racing.Race]) -> list[str]:
    rows: list[list[object]] = [
        ["trials", *_count(races, lambda r: 1)],
        ["SIGKILL hit a live writer", *_count(races, lambda r: r.injected)],
    ]
    for end in ("absent", "a", "b", "c"):
        rows.append([f"… ended {end}", *_count(races, lambda r, e=end: r.after == e)])
    rows += [
        ["**partial jobs** (must be 0)", *_count(races, lambda r: r.after == "partial")],
        ["**jobs lost** (must be 0)", *_count(races, lambda r: r.lost)],
        ["strays: versions left by writers not killed", *_count(races, lambda r: r.strays)],
        ["orphans: Process without Job, unheld Job without Process", *_count(
            races, lambda r: r.orphans)],
        ["writers refused (another came first)", *_count(
            races, lambda r: list(r.ends.values()).count("refused"))],
        ["writers failed otherwise (must be 0)", *_count(
            races, lambda r: sum(e.startswith("error") for e in r.ends.values()))],
        ["versions left held by the killed writer", *_count(races, lambda r: r.held)],
        ["reruns completed (exit 0, content a whole)", *_count(races, lambda r: r.rerun_ok)],
    ]  # fmt: skip
    return _table(["", *(f"{v} killed" for v in racing.WRITERS), "total"], rows)


def _rows(races: Sequence[racing.Race]) -> Iterable[list[object]]:
    for i, r in enumerate(races, 1):
        p = r.plan
        yield [
            i, p.start, f"{racing.SMALL_TX:,}" if p.small_tx else "whole", p.victim,
            f"{r.kill_at:.2f}", "yes" if r.injected else "no (exited)", r.ends["load b"],
            r.ends["load c"], r.ends["delete"], r.after, r.lost, r.strays, r.orphans, r.held,
            "yes" if r.rerun_ok else "**NO**", f"{r.seconds:.1f}",
        ]  # fmt: skip


def section(
    races: Sequence[racing.Race],
    windows: Mapping[bool, Mapping[str, float]],
    sweeps: Mapping[str, leases.Sweep],
) -> list[str]:
    """The ``## Concurrent writers`` section: what was tried, the figures, every race."""
    sizes = ", ".join(f"{n} {procs:,}" for n, (procs, _) in racing.CONTENTS.items())
    timed = "; ".join(
        f"{'transactions of ' + format(racing.SMALL_TX, ',') if small else 'one transaction'}: "
        + ", ".join(f"{w} {s:.1f} s" for w, s in exits.items())
        for small, exits in windows.items()
    )
    swept = "; ".join(
        f"{name}: {s.left} left, the last lease ran {s.waited:.0f} s more, then one delete "
        f"per job {'removed everything' if s.removed else '**left something**'}"
        for name, s in sweeps.items()
    )
    return [
        "## Concurrent writers",
        "",
        "Issue 15: loads, replaces and deletes of one job id at the same time, one of them "
        "killed. Each race starts from the job absent or loaded with content *a*, then starts "
        "together `epmt-graph load --replace` of content *b*, the same of content *c* (other "
        f"synthetic jobs of the same id; processes: {sizes}) and `epmt-graph delete` of the "
        "job id, each a subprocess; one of them in turn gets SIGKILL at a seeded random point "
        "of its window (start to its exit in a clean race, after a warm-up race). Half the "
        f"races write each job in transactions of {racing.SMALL_TX:,} processes (the "
        "loader's `TX_PROCESSES`, set in the subprocess), so that a write is many "
        "transactions, as for a job of over 100,000 processes. Each writer holds the version "
        "it writes or deletes on a lease (`epmt_graph/store/versions.py`); publishing checks "
        "in one transaction that the version is still its writer's, has every process, and "
        "that the head still shows the version the writer expected.",
        "",
        "Once the database has settled, the job is checked against the oracle: *absent*, one "
        "content whole, or *partial*. *Lost*: the end contradicts what the writers reported "
        "(absent though a load reported the job written and the delete neither reported "
        "deleting it nor was killed; *a* though a writer reported changing it; *b* or *c* "
        "though its load was refused). *Strays*: unpublished versions left beyond the one the "
        "killed writer may hold (a writer that exits removes what it wrote or unpublished). "
        "Then `load --replace` of *a* must exit 0 and leave *a* whole, and the job is deleted. "
        "A killed writer's version stays held until its lease (60 s) runs out; at the end of "
        "the campaign one delete must remove what every killed writer left.",
        "",
        *_summary(races),
        "",
        f"Windows (clean race, start to exit): {timed}. Sweeps: {swept}.",
        "",
        "### Every race",
        "",
        *_table(RACE_HEADER, _rows(races)),
    ]
