"""``epmt-graph migrate``: databases the real EPMT 5.0.1 filled, SQLite and PostgreSQL, moved
into the graph, against the same archives loaded directly and the networkx oracle.

For each source (a module-scoped parameter: tests/migrate_sources.py), a Neo4j server of its
own receives the migration: first a dry run, then a migration killed (SIGKILL) after its
first jobs, then the migration run again to its end. Another server holds the archives
loaded directly, with EPMT's changes made again through our API (the same calls EPMT's
fill made: annotations, analyses, a tag, reference models); every answer of a migrated job
must equal its archive's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import signal
import sqlite3
import subprocess
import sys
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import run_cli
from constants import SAMPLES
from graph_fixtures import throwaway_server
from migrate_sources import EpmtSource, sqlite_source, throwaway_postgres
from migrate_sources import filled as fill_source
from oracle import depths, inclusive_cpu, process_tree, raw_processes, roots, sample_jobs

import epmt_graph.api as eq
from epmt_graph.db import Graph
from epmt_graph.loader import load
from epmt_graph.loader.migrate import migrate

#: Seconds a whole migration of the samples may take on a loaded machine.
MIGRATION_TIMEOUT = 1500
#: EPMT's own bookkeeping calls of the fill: the graph has nothing to redo for them.
BOOKKEEPING = {"post_process_jobs", "compute_process_trees"}
#: Row fields that say when a version was written, not what the job is.
VOLATILE = {"created_at", "updated_at", "version"}
#: The zone of EPMT's machine when it fills the PostgreSQL source (ours is another).
EPMT_MACHINE_TZ = "Asia/Tokyo"
#: Jobs migrated before the kill (the kill comes after this many are reported).
BEFORE_KILL = 2


@contextlib.contextmanager
def _server(home: Path) -> Iterator[Graph]:
    """A Neo4j server of its own in ``home``, and a graph on it."""
    with throwaway_server(home) as connection, Graph(connection) as graph:
        graph.ensure_schema()
        yield graph


@pytest.fixture(scope="module")
def sqlite_filled() -> EpmtSource:
    return sqlite_source()


@pytest.fixture(scope="module")
def archive_graph(
    sqlite_filled: EpmtSource, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Graph]:
    """The sample archives loaded directly, with EPMT's changes made again through our API."""
    with _server(tmp_path_factory.mktemp("archive_graph")) as graph:
        load([SAMPLES / rel for rel in sample_jobs()], graph=graph)
        for name, args, kwargs in sqlite_filled.changes:
            if name not in BOOKKEEPING:
                getattr(eq, name)(*args, **kwargs, graph=graph)
        yield graph


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def source(
    request: pytest.FixtureRequest,
    sqlite_filled: EpmtSource,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EpmtSource]:
    if request.param == "sqlite":
        yield sqlite_filled
        return
    with throwaway_postgres() as url:
        work = tmp_path_factory.mktemp("postgresql_fill")
        # EPMT's machine in another zone than ours: the times EPMT writes in its own zone
        # (created_at, processes moved from the staging table) need --server-tz
        yield fill_source(url, work, server_tz=EPMT_MACHINE_TZ)


@dataclass
class Migrated:
    """A source migrated into a graph of its own, and what each step printed."""

    source: EpmtSource
    graph: Graph
    dry_run: subprocess.CompletedProcess[str]
    since: subprocess.CompletedProcess[str]
    before_kill: list[str]
    after_kill: dict[str, tuple[int, int]]
    rerun: subprocess.CompletedProcess[str]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "epmt_graph.cli", *args]


def _env(graph: Graph) -> dict[str, str]:
    return {**os.environ, "NEO4J_URI": graph.connection.uri}


def _visible(graph: Graph, jobids: list[str]) -> dict[str, tuple[int, int]]:
    """Each published job with the processes its Job counts and those stored."""
    stored = {r["jobid"]: r["processes"] for r in graph.read("migrate-verify", jobids=jobids)}
    return {
        jobid: (graph.read("job-digest", jobid=jobid)[0]["processes"], processes)
        for jobid, processes in stored.items()
    }


def _kill_midway(graph: Graph, url: str, *options: str) -> list[str]:
    """Start a migration, SIGKILL it once BEFORE_KILL jobs are reported; their lines."""
    child = subprocess.Popen(
        _cli("migrate", url, *options),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_env(graph),
    )
    lines: list[str] = []
    assert child.stdout is not None
    for line in child.stdout:
        lines.append(line.strip())
        if len(lines) == BEFORE_KILL:
            child.send_signal(signal.SIGKILL)
            break
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL, f"the migration ended before the kill: {lines}"
    return lines


@pytest.fixture(scope="module")
def migrated(source: EpmtSource, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Migrated]:
    with _server(tmp_path_factory.mktemp("migrated_graph")) as graph:
        url, options = source.url, source.options
        dry = run_cli(graph, "migrate", url, *options, "--dry-run", "--jobs", "685000,3455")
        since = run_cli(graph, "migrate", url, *options, "--dry-run", "--since", "2020-01-01")
        before = _kill_midway(graph, url, *options)
        after = _visible(graph, source.submitted)
        rerun = run_cli(graph, "migrate", url, *options, timeout=MIGRATION_TIMEOUT)
        yield Migrated(source, graph, dry, since, before, after, rerun)


def test_a_dry_run_writes_nothing(migrated: Migrated, archive_graph: Graph) -> None:
    assert migrated.dry_run.returncode == 0, migrated.dry_run.stderr
    lines = migrated.dry_run.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["job 3455", "job 685000"]
    assert all(": validated," in line for line in lines[:2])
    starts = eq.get_jobs(fmt="pandas", graph=archive_graph).set_index("jobid")["start"]
    later = sorted(starts[starts >= "2020-01-01"].index)
    reported = sorted(
        line.split(":")[0].removeprefix("job ")
        for line in migrated.since.stdout.splitlines()
        if line.startswith("job ")
    )
    assert migrated.since.returncode == 0 and reported == later and later


def test_a_job_not_in_the_database_is_an_error(migrated: Migrated) -> None:
    done = run_cli(
        migrated.graph,
        "migrate",
        migrated.source.url,
        *migrated.source.options,
        "--dry-run",
        "--jobs",
        "3455,nosuch",
    )
    assert done.returncode == 1
    assert f"epmt-graph: error: job nosuch: not in {migrated.source.url}" in done.stderr
    assert done.stdout.startswith("job 3455: validated,")


def test_a_killed_migration_leaves_only_whole_jobs(migrated: Migrated) -> None:
    reported = {line.split(":")[0].removeprefix("job ") for line in migrated.before_kill}
    assert all(": loaded," in line for line in migrated.before_kill), migrated.before_kill
    assert reported <= set(migrated.after_kill) < set(migrated.source.submitted)
    partial = {j: n for j, n in migrated.after_kill.items() if n[0] != n[1]}
    assert partial == {}


def test_running_it_again_finishes_it(migrated: Migrated) -> None:
    assert migrated.rerun.returncode == 0, migrated.rerun.stderr
    status = {
        line.split(":")[0].removeprefix("job "): line.split(": ")[1].split(",")[0]
        for line in migrated.rerun.stdout.splitlines()
        if line.startswith("job ")
    }
    assert set(status) == set(migrated.source.submitted)
    assert {j for j, s in status.items() if s == "unchanged"} == set(migrated.after_kill)
    assert {s for j, s in status.items() if j not in migrated.after_kill} == {"loaded"}
    assert "model 1 (query-jobs): created" in migrated.rerun.stdout
    assert "model 2: created" in migrated.rerun.stdout


def _rows(graph: Graph, jobid: str) -> dict[str, dict[str, Any]]:
    return {
        r["p"]["uid"]: {k: v for k, v in r["p"].items() if k not in VOLATILE}
        for r in graph.read("job-processes", jobid=jobid)
    }


def test_every_job_answers_as_its_archive(migrated: Migrated, archive_graph: Graph) -> None:
    ids = migrated.source.submitted
    mine = {r["jobid"]: r for r in eq.get_jobs(ids, fmt="dict", graph=migrated.graph)}
    theirs = {r["jobid"]: r for r in eq.get_jobs(ids, fmt="dict", graph=archive_graph)}
    assert set(mine) == set(theirs) == set(ids)
    for jobid in ids:
        strip = lambda row: {k: v for k, v in row.items() if k not in VOLATILE}  # noqa: E731
        assert strip(mine[jobid]) == strip(theirs[jobid]), jobid
        assert eq.get_job_annotations(jobid, graph=migrated.graph) == eq.get_job_annotations(
            jobid, graph=archive_graph
        )
        assert eq.get_job_analyses(jobid, graph=migrated.graph) == eq.get_job_analyses(
            jobid, graph=archive_graph
        )
        processes = _rows(migrated.graph, jobid)
        assert processes == _rows(archive_graph, jobid), jobid
        assert len(processes) == mine[jobid]["num_procs"]


def test_jobs_epmt_left_alone_have_their_archives_digest(
    migrated: Migrated, archive_graph: Graph
) -> None:
    changed = {
        args[0]
        for name, args, _ in migrated.source.changes
        if name not in BOOKKEEPING and isinstance(args[0], str)  # a model's jobs: a list
    }
    for jobid in migrated.source.submitted:
        mine = migrated.graph.read("job-digest", jobid=jobid)[0]["digest"]
        theirs = archive_graph.read("job-digest", jobid=jobid)[0]["digest"]
        assert (mine == theirs) is (jobid not in changed), jobid


def test_reference_models_are_epmts(migrated: Migrated, archive_graph: Graph) -> None:
    mine = eq.get_refmodels(merge_nested_fields=False, graph=migrated.graph)
    theirs = eq.get_refmodels(merge_nested_fields=False, graph=archive_graph)
    assert [m["id"] for m in mine] == [m["id"] for m in theirs] == [1, 2]
    for a, b in zip(mine, theirs, strict=True):
        for key in ("name", "tags", "op_tags", "enabled", "jobs", "info_dict"):
            assert a[key] == b[key], key
        assert _close(a["computed"], b["computed"]), (a["computed"], b["computed"])


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("rel", sample_jobs())
def test_trees_match_the_networkx_oracle(migrated: Migrated, rel: str) -> None:
    df = raw_processes(SAMPLES / rel)
    jobid = str(df["jobid"].iloc[0])
    tree = process_tree(df)
    rows = [r["p"] for r in migrated.graph.read("job-processes", jobid=jobid)]
    key = {r["uid"]: (r["host"], r["pid"], r["start"]) for r in rows}
    by_key = {key[r["uid"]]: r for r in rows}
    assert set(by_key) == set(tree.nodes)
    assert {k for k, r in by_key.items() if r.get("parent") is None} == roots(tree)
    assert {k: r["depth"] for k, r in by_key.items()} == depths(tree)
    assert {k: r["inclusive_cpu_time"] for k, r in by_key.items()} == inclusive_cpu(tree)
    parents = {(key[r["parent"]], k) for k, r in by_key.items() if r.get("parent")}
    assert parents == set(tree.edges)


def test_verify_finds_every_job_equal(migrated: Migrated) -> None:
    done = run_cli(
        migrated.graph,
        "migrate",
        migrated.source.url,
        *migrated.source.options,
        "--verify",
        timeout=MIGRATION_TIMEOUT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line.split() for line in done.stdout.splitlines()[1:-1]]
    assert sorted(r[0] for r in rows) == sorted(migrated.source.submitted)
    assert {r[-1] for r in rows} == {"equal"}
    assert done.stdout.splitlines()[-1] == "every job is equal"


def test_a_second_run_migrates_nothing(migrated: Migrated) -> None:
    source = migrated.source
    done = run_cli(
        migrated.graph, "migrate", source.url, *source.options, timeout=MIGRATION_TIMEOUT
    )
    assert done.returncode == 0, done.stderr
    jobs = [line for line in done.stdout.splitlines() if line.startswith("job ")]
    assert len(jobs) == len(migrated.source.submitted)
    assert all(": unchanged," in line for line in jobs)
    assert "model 1 (query-jobs): unchanged" in done.stdout
    assert "0 processes written" in done.stderr


def test_created_at_is_when_epmt_ingested_the_job(migrated: Migrated) -> None:
    """EPMT's created_at is naive, in its machine's zone (``--server-tz``, else ours)."""
    url = migrated.source.url
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            found = db.execute("SELECT jobid, created_at FROM jobs").fetchall()
        naive = {j: dt.datetime.fromisoformat(stamp) for j, stamp in found}
    else:
        with psycopg.connect(url) as db:
            naive = dict(db.execute("SELECT jobid, created_at FROM jobs").fetchall())
    zone = migrated.source.server_tz
    aware = {
        j: stamp.astimezone() if zone is None else stamp.replace(tzinfo=zoneinfo.ZoneInfo(zone))
        for j, stamp in naive.items()
    }
    epmt = {j: round(stamp.timestamp() * 1_000_000) for j, stamp in aware.items()}
    jobs = migrated.graph.read("jobs-by-id", jobids=migrated.source.submitted)
    assert {r["j"]["jobid"]: r["j"]["created_at"] for r in jobs} == epmt


@pytest.mark.parametrize(
    "url, says",
    [
        ("nosuch://db/epmt", "not an SQLite or PostgreSQL URL"),
        ("not a url", "is not a database URL"),
        ("sqlite:///no/such/epmt.db", "no such SQLite database file"),
        ("postgresql://epmt@127.0.0.1:1/epmt", "cannot read the database"),
    ],
)
def test_a_bad_url_is_one_line_and_writes_nothing(migrated: Migrated, url: str, says: str) -> None:
    before = eq.get_jobs(fmt="terse", graph=migrated.graph)
    done = run_cli(migrated.graph, "migrate", url)
    assert done.returncode == 1
    assert done.stderr.startswith("epmt-graph: error: ") and says in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert eq.get_jobs(fmt="terse", graph=migrated.graph) == before


def test_a_database_that_is_not_epmts_is_refused(migrated: Migrated, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE jobs (jobid TEXT)")
    text = tmp_path / "notes.db"
    text.write_text("not a database\n" * 100)
    for path, says in ((other, "not an EPMT database (no jobs.user_id"), (text, "cannot read")):
        done = run_cli(migrated.graph, "migrate", f"sqlite:///{path}")
        assert done.returncode == 1 and says in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_a_malformed_job_fails_alone(
    sqlite_filled: EpmtSource, archive_graph: Graph, tmp_path: Path
) -> None:
    """A job whose row EPMT's schema allows but no job has (no start) is one error line; the
    other jobs go on (3455, loaded from its archive with the same content: unchanged)."""
    copy = _sqlite_copy(sqlite_filled, tmp_path)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE jobs SET start = NULL WHERE jobid = '2220'")
    done = run_cli(archive_graph, "migrate", f"sqlite:///{copy}", "--jobs", "2220,3455")
    assert done.returncode == 1
    assert done.stderr.startswith(f"epmt-graph: error: sqlite:///{copy}: job 2220: malformed")
    assert done.stdout.startswith("job 3455: unchanged,")


def _sqlite_copy(source: EpmtSource, tmp_path: Path) -> Path:
    """A copy of the SQLite file of ``source``, to change."""
    copy = tmp_path / "epmt.db"
    copy.write_bytes(Path(source.url.removeprefix("sqlite:///")).read_bytes())
    return copy


def _first_process_of_3455_changed(
    source: EpmtSource, tmp_path: Path, update: str, *values: object
) -> tuple[str, int]:
    """A copy of the SQLite ``source`` where ``update`` (ending ``WHERE id = ?``) ran with
    ``values`` and the id of job 3455's first process; the copy's URL and that id."""
    copy = _sqlite_copy(source, tmp_path)
    with sqlite3.connect(copy) as db:
        (ident,) = db.execute("SELECT min(id) FROM processes WHERE jobid = '3455'").fetchone()
        db.execute(update, (*values, ident))
    return f"sqlite:///{copy}", ident


def _the_error_of_3455(url: str, graph: Graph) -> str:
    """Migrate jobs 3455 and 2220 from ``url``: 3455 fails (its error), 2220 is unchanged."""
    summary = migrate(url, graph=graph, jobs=["3455", "2220"])
    assert summary.jobs == {"failed": 1, "unchanged": 1}
    [(jobid, error)] = summary.failed
    assert jobid == "3455"
    return str(error)


#: Thread values EPMT's JSON column allows but papiex never writes, and the end of the error
#: that refuses their job.
_NOT_INTEGER = "unreadable threads_df or fields (ValueError('a thread value is not an integer'))"
BAD_THREAD_VALUES = [
    ("true", _NOT_INTEGER),
    ("1.5", _NOT_INTEGER),
    ('"12"', _NOT_INTEGER),
    (str(2**64), "an id, time or CPU time does not fit 64 bits"),
]


@pytest.mark.parametrize("value, says", BAD_THREAD_VALUES)
def test_a_thread_value_that_is_no_64_bit_integer_fails_its_job(
    sqlite_filled: EpmtSource, archive_graph: Graph, tmp_path: Path, value: str, says: str
) -> None:
    """A thread's metric that EPMT's JSON column allows but papiex never writes (a boolean, a
    fraction, a string, a number outside 64 bits) refuses its job, naming the process by its
    id; the other jobs go on."""
    url, ident = _first_process_of_3455_changed(
        sqlite_filled,
        tmp_path,
        "UPDATE processes SET threads_df = json_set(threads_df, '$[0].usertime', json(?)) "
        "WHERE id = ?",
        value,
    )
    error = _the_error_of_3455(url, archive_graph)
    assert f"process {ident}" in error or f"line {ident}:" in error, error
    assert error.endswith(says), error


def test_a_first_thread_without_a_metric_column_fails_its_job(
    sqlite_filled: EpmtSource, archive_graph: Graph, tmp_path: Path
) -> None:
    """A process whose first thread lacks a column its archive's header must have had (here
    ``rdtsc_duration``, which the loader sums) refuses its job as the archive reader refuses
    such a header: an error naming the process and the column; the other jobs go on."""
    url, ident = _first_process_of_3455_changed(
        sqlite_filled,
        tmp_path,
        "UPDATE processes SET threads_df = json_remove(threads_df, '$[0].rdtsc_duration') "
        "WHERE id = ?",
    )
    error = _the_error_of_3455(url, archive_graph)
    assert error.endswith(
        f"process {ident}: unreadable threads_df or fields "
        "(ValueError('its threads lack the columns rdtsc_duration'))"
    ), error


@contextlib.contextmanager
def _with_thread_value(source: EpmtSource, tmp_path: Path, value: str) -> Iterator[tuple[str, int]]:
    """The source with the ``usertime`` of one thread set to the JSON ``value``: the first
    thread of job 685000's 101st process (the middle of a chunk of rows); its URL and the
    process's id. SQLite: a copy; PostgreSQL: the row changed, then put back."""
    pick = "SELECT id FROM processes WHERE jobid = '685000' ORDER BY id LIMIT 1 OFFSET 100"
    if source.url.startswith("sqlite"):
        copy = _sqlite_copy(source, tmp_path)
        with sqlite3.connect(copy) as db:
            (ident,) = db.execute(pick).fetchone()
            db.execute(
                "UPDATE processes SET threads_df = json_set(threads_df, '$[0].usertime', json(?)) "
                "WHERE id = ?",
                (value, ident),
            )
        yield f"sqlite:///{copy}", ident
        return
    with psycopg.connect(source.url, autocommit=True) as db:
        [(ident, before)] = db.execute(
            "SELECT id, threads_df::text FROM processes WHERE jobid = '685000' "
            "ORDER BY id LIMIT 1 OFFSET 100"
        ).fetchall()
        db.execute(
            "UPDATE processes SET threads_df = jsonb_set(threads_df, '{0,usertime}', %s::jsonb) "
            "WHERE id = %s",
            (value, ident),
        )
        try:
            yield source.url, ident
        finally:
            db.execute("UPDATE processes SET threads_df = %s::jsonb WHERE id = %s", (before, ident))


@pytest.mark.parametrize("value, says", BAD_THREAD_VALUES)
def test_a_bad_thread_value_amid_its_chunk_fails_its_job_from_either_source(
    source: EpmtSource, archive_graph: Graph, tmp_path: Path, value: str, says: str
) -> None:
    """The rows are read a chunk at a time, in columns (PostgreSQL's JSONB into typed
    structs): a thread value that is no 64-bit integer in the middle of a chunk still refuses
    its job, naming its process, as the row-at-a-time reading did; the other jobs go on."""
    zone = None if source.server_tz is None else zoneinfo.ZoneInfo(source.server_tz)
    with _with_thread_value(source, tmp_path, value) as (url, ident):
        summary = migrate(url, graph=archive_graph, jobs=["685000", "2220"], server_tz=zone)
    assert summary.jobs == {"failed": 1, "unchanged": 1}
    [(jobid, error)] = summary.failed
    assert jobid == "685000"
    assert f"process {ident}" in error or f"line {ident}:" in error, error
    assert error.endswith(says), error
