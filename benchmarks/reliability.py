"""The reliability campaign of issues 7 and 15, at full count; writes ``docs/reliability.md``.

    .venv/bin/python benchmarks/reliability.py [--seed 7] [--no-bombs] [--out docs/reliability.md]

One run, with the code the tests use (``tests/stress/campaign.py``, ``tests/stress/hostile.py``):

1. a throwaway Neo4j (temporary home, free loopback ports, auth off, heap 1g, page cache 512m);
2. 20 loader kills: ``epmt-graph load`` SIGKILLed at seeded random points of its load window,
   on a seeded 20,000-process synthetic job and the three query sample jobs; after each, the
   job must be absent or whole (the oracle's counts, from the raw rows), nothing orphaned,
   and a rerun must complete it;
2b. 27 races of concurrent writers (``tests/stress/racing.py``): two ``load --replace`` and a
   ``delete`` of one job id at once, one of them SIGKILLed; the job must end absent or one
   content whole, no writer's report contradicted, nothing left behind but the killed
   writer's held version, which one delete removes once its lease has run out;
3. every hostile input the unit tests build, plus two decompression bombs, each through its
   own ``epmt-graph load``: refused with the expected reason, nothing written, no payload run;
4. 5 server kills, on a second throwaway server (heap 1g, page cache 256m): its Java process
   SIGKILLed during the write, the server restarted from the same home, the job (and a
   bystander job loaded before) checked, the load rerun;

then writes the figures to ``docs/reliability.md`` and exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "stress")]

import bench_util  # noqa: E402
import campaign  # noqa: E402
import hostile  # noqa: E402
import kills  # noqa: E402
import leases  # noqa: E402
import racing  # noqa: E402
import reliability_races  # noqa: E402

from epmt_graph.config import NEO4J_VERSION  # noqa: E402
from epmt_graph.db import Graph  # noqa: E402
from epmt_graph.loader import delete_job  # noqa: E402

__all__ = ["main"]

COMMAND = ".venv/bin/python benchmarks/reliability.py"
TRIAL_HEADER = [
    "#", "campaign", "archive", "kill at s", "injected", "phase", "after fault", "lost",
    "orphans", "rerun", "rerun s", "rerun whole", "trial s",
]  # fmt: skip


@dataclass
class Run:
    """Everything one run found, for the report."""

    started: dt.datetime
    sizes: campaign.Sizes
    seed: int
    bombs: bool
    loader: list[kills.Trial]
    server: list[kills.Trial]
    races: list[racing.Race]
    race_windows: dict[bool, dict[str, float]]
    sweeps: dict[str, leases.Sweep]
    bad: list[hostile.Outcome]
    control_ok: bool
    windows: dict[str, campaign.Window]
    machine: dict[str, Any]
    load: dict[str, dict[str, Any]]
    seconds: dict[str, float]


def code_measured() -> str:
    """The commit measured, and whether ``epmt_graph/`` had uncommitted changes."""
    state = bench_util.git_state()
    dirty = " plus uncommitted changes in `epmt_graph/`" if state["epmt_graph_uncommitted"] else ""
    return f"commit {state['commit'] or 'unknown'}{dirty}"


def _control(graph: Graph, root: Path) -> bool:
    """The valid job the bad inputs are built on loads (directory, then the same archive)."""
    directory, archive = hostile.control(root)
    first = campaign.run_cli(graph.connection, "load", str(directory))
    again = campaign.run_cli(graph.connection, "load", str(archive))
    delete_job(graph, hostile.CONTROL_JOBID)
    return (
        first.returncode == 0
        and ": loaded, 1 processes" in first.stdout
        and again.returncode == 0
        and ": unchanged, 1 processes" in again.stdout
    )


def _timed(seconds: dict[str, float], name: str, began: float) -> None:
    seconds[name] = round(time.monotonic() - began, 1)
    print(f"{name}: {seconds[name]} s", flush=True)


def run(sizes: campaign.Sizes, seed: int, bombs: bool, work: Path) -> Run:
    """The four campaigns; servers started here are stopped whatever happens."""
    loader_plan, server_plan = campaign.plans(sizes, seed)
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    seconds: dict[str, float] = {}
    load = {"start": bench_util.snapshot()}
    machine = bench_util.machine_info() | {"other_jvms": bench_util.other_jvms()}
    with bench_util.throwaway_server(heap="1g", pagecache="512m") as (connection, _):
        began = time.monotonic()
        graph = Graph(connection)
        graph.ensure_schema()
        paths = campaign.archive_paths(sizes, work, seed)
        archives = campaign.prepare(graph, paths)
        _timed(seconds, "calibration", began)
        load["loader kills"], began = bench_util.snapshot(), time.monotonic()
        loader = kills.loader_campaign(graph, loader_plan, archives)
        _timed(seconds, "loader kills", began)
        load["races"], began = bench_util.snapshot(), time.monotonic()
        contents = racing.make_contents(work)
        races, race_windows = racing.race_campaign(
            graph, contents, racing.race_plan(sizes.writers, seed)
        )
        jobids = {a.expected.jobid for a in archives.values()} | {racing.JOBID}
        sweeps = {"loader kills and races": leases.sweep(graph, jobids)}
        _timed(seconds, "races", began)
        load["bad inputs"], began = bench_util.snapshot(), time.monotonic()
        control_ok = _control(graph, work / "control")
        bads = hostile.build(work / "hostile", bombs=bombs)
        outcomes = [hostile.try_input(graph, bad) for bad in bads]
        _timed(seconds, "bad inputs", began)
        graph.close()
    load["server kills"], began = bench_util.snapshot(), time.monotonic()
    server, sweeps["server kills"] = kills.server_campaign(
        work / "killed-server", server_plan, archives
    )
    _timed(seconds, "server kills", began)
    windows = {name: a.window for name, a in archives.items()}
    return Run(
        started, sizes, seed, bombs, loader, server, races, race_windows, sweeps, outcomes,
        control_ok, windows, machine, load, seconds,
    )  # fmt: skip


# ---------------------------------------------------------------- the report


def _table(header: list[str], rows: Iterable[Iterable[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _summary_table(r: Run) -> list[str]:
    ls, ss = kills.summarize(r.loader), kills.summarize(r.server)
    both = kills.summarize(r.loader + r.server)
    phases = ("before write", "in a transaction", "before publish", "after commit")
    rows: list[list[object]] = [
        ["trials", ls.trials, ss.trials, both.trials],
        ["faults injected (SIGKILL hit a live process)", ls.faults, ss.faults, both.faults],
    ]
    for phase in phases:
        rows.append(
            [
                f"… {phase}",
                ls.phases.get(phase, 0),
                ss.phases.get(phase, 0),
                both.phases.get(phase, 0),
            ]
        )
    rows += [
        ["**jobs lost** (must be 0)", ls.lost, ss.lost, both.lost],
        ["**partial jobs** (must be 0)", ls.partial, ss.partial, both.partial],
        ["orphans: Process without Job, Job without Process", ls.orphans, ss.orphans, both.orphans],
        ["reloads completed (rerun exit 0, job whole)", ls.reloads, ss.reloads, both.reloads],
    ]
    return _table(["", "loader kills", "server kills", "total"], rows)


def _bad_table(r: Run) -> list[str]:
    kinds: dict[str, list[hostile.Outcome]] = {}
    for outcome in r.bad:
        kinds.setdefault(outcome.bad.kind, []).append(outcome)
    rows = []
    for kind, outcomes in kinds.items():
        wrote = sum(o.wrote != 0 for o in outcomes)
        ran = sum(o.bad.sentinel is not None and o.bad.sentinel.exists() for o in outcomes)
        labels = ", ".join(f"`{o.bad.label}`" for o in outcomes)
        rejected = sum(o.rejected for o in outcomes)
        rows.append([kind, len(outcomes), rejected, wrote, ran, labels])
    total = [
        "**all**",
        len(r.bad),
        sum(o.rejected for o in r.bad),
        sum(o.wrote != 0 for o in r.bad),
        sum(o.bad.sentinel is not None and o.bad.sentinel.exists() for o in r.bad),
        "",
    ]
    header = ["kind", "tried", "rejected", "wrote anything", "payload ran", "which"]
    return _table(header, [*rows, total])


def _trial_rows(trials: list[kills.Trial]) -> Iterable[list[object]]:
    for i, t in enumerate(trials, 1):
        yield [
            i, t.campaign, t.archive, f"{t.fault_at:.2f}", "yes" if t.injected else "no (exited)",
            t.phase, t.after_fault, t.lost, t.orphans, t.reload.status,
            f"{t.reload.window.total:.1f}", "yes" if t.reload_ok else "**NO**", f"{t.seconds:.1f}",
        ]  # fmt: skip


def _failed(r: Run) -> list[str]:
    problems = [str(t) for t in r.loader + r.server if not t.ok]
    problems += reliability_races.failures(r.races, r.sweeps)
    problems += [f"{o.bad.kind} {o.bad.label}: {o.error}" for o in r.bad if not o.rejected]
    if not r.control_ok:
        problems.append("the control job did not load: the bad-input figures prove nothing")
    return problems


def _counts(counts: dict[str, int], procs: int) -> str:
    """``8 on the synthetic 20,000-process job, 4 on query/685000.tgz, ...``"""
    named = {"synthetic": f"the synthetic {procs:,}-process job"}
    return ", ".join(f"{k} on {named.get(name, f'`{name}`')}" for name, k in counts.items())


def markdown(r: Run) -> str:
    """``docs/reliability.md`` for one run."""
    m, procs = r.machine, r.sizes.synthetic_procs
    loads = "; ".join(
        f"{name} {snap['load']}, probe {snap['cpu_probe_ms']} ms" for name, snap in r.load.items()
    )
    windows = ", ".join(
        f"{name} {w.total:.1f} s (write from {w.write_start:.1f} s)"
        for name, w in r.windows.items()
    )
    failed = _failed(r)
    lines = [
        "# Reliability: atomic loads under SIGKILL, concurrent writers, hostile inputs",
        "",
        "Produced by `benchmarks/reliability.py` (issue 7); do not edit by hand, re-run:",
        "",
        "```",
        COMMAND,
        "```",
        "",
        f"- **Date**: {r.started.isoformat()} (run took {sum(r.seconds.values()):.0f} s: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in r.seconds.items())
        + ")",
        f"- **Machine**: {m['cores']} cores, {m['memory_gib']} GiB memory, {m['cpu_model']}, "
        f"{m['os']}; Python {m['python']}, neo4j driver {m['neo4j_driver']}, Neo4j "
        f"{NEO4J_VERSION} community (local, loopback, auth off)",
        f"- **Machine load** (1/5/15 min load average and a CPU probe, see "
        f"`benchmarks/bench_util.py`): {loads}. Other Java processes at start: "
        f"{m['other_jvms']}. Timings are wall seconds on a shared machine.",
        f"- **Code measured**: {code_measured()}",
        f"- **Seed**: {r.seed} (kill points and the synthetic job). The same code runs in the "
        "test suite as `tests/stress/`: by default 4 loader kills and 1 server kill on a "
        "5,000-process synthetic job and 685016, 3 races of concurrent writers, the job-shaped "
        "bad inputs in one `epmt-graph load`, no bombs; with `--stress`, this run's counts.",
        f"- **Outcome**: {'PASS' if not failed else 'FAIL'}",
        "",
        "## What was tried",
        "",
        "**Loader kills.** `epmt-graph load ARCHIVE` runs as a subprocess against a throwaway "
        "Neo4j and gets SIGKILL at a seeded random point of its load window (from process start "
        "to exit, measured by one clean load of the archive after a warm-up load, then by each "
        f"full rerun): {_counts(r.sizes.loader, procs)} (the synthetic job is `python -m "
        f"epmt_graph.synthetic OUT.tgz --procs {procs} --seed {r.seed}`). A job's k "
        "kill points are stratified (one in each k-th of [0, 1)); the first quarter of [0, 1) "
        "maps onto the parse (process start to the write transaction's first appearance, by "
        "the clock), the rest onto the write (counted from the moment the write transaction "
        "shows up on the server, to the loader's exit). Then the killed client's transaction "
        "is let end (no other transaction open on the server), and the job is checked.",
        "",
        "**Server kills.** A second throwaway server (heap 1g, page cache 256m) with a "
        "bystander job loaded (`tsv/collated-tsv-2220.tgz`); during `epmt-graph load` its Java "
        "process (pid in `<home>/server.pid`) gets SIGKILL at a seeded random point of the "
        "write (the window from the first appearance of the load's write transaction to the "
        f"loader's exit): {_counts(r.sizes.server, procs)}; the server is "
        "restarted from the same home, the loader left to give up (or finish), and the job "
        "and the bystander checked.",
        "",
        "**Checks after each fault**, against `tests/oracle.py` (the process tree rebuilt from "
        "the raw papiex rows, not by the loader), on what readers see, the job's published "
        "version (through its JobHead): the job is *absent* (no JobHead) or *whole* (one Job; "
        "every process, each BELONGS_TO it and with `depth` and `inclusive_cpu_time`; every "
        "PARENT_OF edge; the oracle's roots and maximum depth); no Process without a Job and "
        "no Job without processes anywhere in the database; a job the loader had reported "
        "loaded, and the bystander, are whole (else *lost*). Then the load is rerun: it must "
        "exit 0 and leave the job whole; the job is then deleted and nothing of it may remain "
        "but a version the killed load still holds on its lease (60 s: until then no other "
        "load or delete may take it, its writer being perhaps alive); at the end of each "
        "campaign, once those leases have run out, one delete per job must remove "
        "everything (see *Sweeps* below).",
        "",
        "**Bad inputs.** Every hostile input the unit tests build (`tests/test_archive.py`, "
        "`test_reader.py`, `test_safe_pickle.py`; parametrized cases read from their marks), "
        "each inside an otherwise valid one-process job that loads on its own"
        + (" (it did)" if r.control_ok else " (**it did not**)")
        + (", plus two decompression bombs" if r.bombs else "")
        + ", each through its own `epmt-graph load`. *Rejected* means: exit 1, one "
        "`epmt-graph: error:` line matching the reason the unit test expects, no node written, "
        "no payload run (the pickles' `touch` sentinel absent).",
        "",
        "## Kill campaigns",
        "",
        *_summary_table(r),
        "",
        f"Load windows (clean load, start to exit): {windows}.",
        "",
        *reliability_races.section(r.races, r.race_windows, r.sweeps),
        "",
        "## Bad inputs",
        "",
        *_bad_table(r),
        "",
        "## Every trial",
        "",
        *_table(TRIAL_HEADER, _trial_rows(r.loader + r.server)),
        "",
        "*Phase*: *after commit* when the job was whole after the fault (the commit came "
        "first); *before publish* when its version was written but not yet published (a load "
        "or delete removes it once its lease has run out); else *in a transaction* when a "
        "transaction was open on the server at the kill, "
        "*before write* when none was (parsing, or between the schema check and the write). A "
        "server killed after the commit must keep the job: that is durability, counted too.",
        "",
        "## Notes",
        "",
        "- The same checks run in the test suite: `pytest tests/stress` (reduced counts, the "
        "job-shaped bad inputs in one `epmt-graph load`), `pytest tests/stress --stress` (the "
        "counts above, each bad input on its own, the bombs). The checks themselves are tested "
        "to fail on a hand-made partial job, a Job without processes and a stray Process.",
        "- A killed server is restarted on new ports: its closed connections hold the old ones "
        "in TIME_WAIT for up to a minute (`port_is_free` now binds with SO_REUSEADDR, as "
        "Neo4j does, so `server start` no longer refuses such ports; the campaign keeps new "
        "ports). The loader still retrying on the old port can no longer reach the database, "
        "so it is then stopped rather than left to its driver's 30 s retry window.",
        "- **Isolation.** Neo4j applies a commit to the store record by record and "
        "read-committed readers do not wait for it, so a job written in one transaction can "
        "still be glimpsed half-done. Each load therefore writes a new version of its job that "
        "no query sees and publishes it in a second transaction by one property write on its "
        "JobHead; a replaced or deleted version is removed only after the transactions running "
        "at that moment have ended (docs/architecture.md). `tests/test_concurrency.py` checks "
        "every reader's answer against the oracle while jobs load, are replaced and deleted.",
        "- Not tried: a bomb of several members each under the 2 GiB member cap; the loader "
        "holds what it reads, up to the 4 GiB total cap, before refusing it.",
    ]
    if failed:
        lines += ["", "## Failures", "", *(f"- {p}" for p in failed)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the campaign, write the report; exit 1 if anything failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=campaign.SEED)
    parser.add_argument("--no-bombs", action="store_true", help="skip the 2 and 4 GiB bombs")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "reliability.md")
    parser.add_argument(
        "--quick", action="store_true", help="the reduced (CI) counts, to try the script out"
    )
    args = parser.parse_args(argv)
    sizes = campaign.REDUCED if args.quick else campaign.FULL
    with tempfile.TemporaryDirectory(prefix="epmt_graph_reliability_") as work:
        result = run(sizes, args.seed, not args.no_bombs, Path(work))
        text = markdown(result)
        problems = _failed(result)
    args.out.write_text(text)
    print(f"wrote {args.out}")
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
