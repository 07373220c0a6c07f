"""``epmt-graph watch DIR`` on a server of its own: archives dropped while it runs (whole,
renamed in, written slowly in pieces, corrupted, duplicated), the watcher SIGKILLed in the
middle of a load and started again, SIGTERM in the middle of a load; and the protocol's steps
one by one (``epmt_graph.loader.watch``).

What the graph must hold is computed by the networkx oracle (``tests/oracle.py``) from the
raw papiex rows of each archive: its jobid, processes, roots and deepest level.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import oracle
import pytest
from constants import SAMPLES
from graph_fixtures import throwaway_server

from epmt_graph.cli import main
from epmt_graph.config import Connection
from epmt_graph.db import Graph
from epmt_graph.errors import ConfigError
from epmt_graph.loader import load_job, read_job, watch
from epmt_graph.loader.inbox import Inbox, Intent
from epmt_graph.loader.watch import Watcher
from epmt_graph.synthetic import write_archive

#: The watcher as a subprocess: writes in transactions of 200 processes (so that a kill
#: lands between a version's first commit and its publish) and holds versions on a 3 s lease
#: (so that the restarted watcher's sweep comes within the test).
_RUNNER = (
    "import sys\n"
    "from epmt_graph.store import jobs, versions\n"
    "jobs.TX_PROCESSES = 200\n"
    "versions.LEASE_MS = 3000\n"
    "from epmt_graph.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
SETTLE = 1.0
#: Pauses of the slow writers: shorter than SETTLE, so an archive is never read half-written.
PAUSE = 0.3
# Literal Cypher, parameters only.
_PUBLISHED = (
    "MATCH (h:JobHead) MATCH (p:Process {jobid: h.jobid, version: h.version}) "
    "WITH h, p, EXISTS { (:Process)-[:PARENT_OF]->(p) } AS child "
    "RETURN h.jobid AS jobid, count(p) AS processes, "
    "count(CASE WHEN child THEN null ELSE 1 END) AS roots, max(p.depth) AS depth"
)
_VERSIONS = "MATCH (j:Job) RETURN j.jobid AS jobid, count(*) AS versions"
_STRAYS = (
    "MATCH (p:Process) WHERE NOT EXISTS { (:JobHead {jobid: p.jobid, version: p.version}) } "
    "RETURN count(p) AS n"
)
_UNPUBLISHED = (
    "MATCH (j:Job {jobid: $jobid}) "
    "WHERE NOT EXISTS { (:JobHead {jobid: $jobid, version: j.version}) } RETURN count(j) AS n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Connection]:
    """A Neo4j server of this module's own (the watcher loads sample jobs the shared one has)."""
    with throwaway_server(tmp_path_factory.mktemp("watch-server")) as connection:
        yield connection


@pytest.fixture
def own_graph(server: Connection) -> Iterator[Graph]:
    """The module's server, emptied for each test."""
    with Graph(server) as graph:
        graph.driver.execute_query("MATCH (n) DETACH DELETE n")
        graph.ensure_schema()
        yield graph


def shape(path: Path) -> tuple[str, int, int, int]:
    """The oracle's jobid, processes, roots and deepest level of an archive."""
    df = oracle.raw_processes(path)
    tree = oracle.process_tree(df)
    return str(df["jobid"][0]), len(df), len(oracle.roots(tree)), max(oracle.depths(tree).values())


def published(graph: Graph) -> dict[str, tuple[int, int, int]]:
    """Per published job: processes, roots and deepest level of its published version."""
    records = graph.driver.execute_query(_PUBLISHED).records
    return {r["jobid"]: (r["processes"], r["roots"], r["depth"]) for r in records}


def count(graph: Graph, query: str, **params: Any) -> int:
    return int(graph.driver.execute_query(query, params).records[0]["n"])


def wait_until(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


class Folder:
    """The watched folder and the ways archives arrive in it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.writers: list[threading.Thread] = []

    def copy(self, source: Path, name: str) -> None:
        """Written in place in one go."""
        shutil.copyfile(source, self.path / name)

    def rename(self, source: Path, name: str) -> None:
        """Written under a hidden name, then renamed: complete when it appears."""
        shutil.copyfile(source, self.path / f".{name}.part")
        os.replace(self.path / f".{name}.part", self.path / name)

    def slowly(self, source: Path, name: str, pieces: int) -> None:
        """Written in place in ``pieces``, :data:`PAUSE` apart, by a thread."""
        data = source.read_bytes()
        step = -(-len(data) // pieces)

        def write() -> None:
            with (self.path / name).open("wb") as handle:
                for at in range(0, len(data), step):
                    handle.write(data[at : at + step])
                    handle.flush()
                    time.sleep(PAUSE)

        writer = threading.Thread(target=write)
        writer.start()
        self.writers.append(writer)

    def waiting(self) -> list[str]:
        return sorted(p.name for p in self.path.glob("*.tgz"))

    def filed(self, where: str) -> list[str]:
        return sorted(p.name for p in (self.path / where).glob("*.tgz"))

    def intent(self) -> Intent | None:
        return Inbox(self.path, settle=0).intent()


def start_watcher(connection: Connection, folder: Path, log: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NEO4J_URI": connection.uri}
    env.pop("NEO4J_PASSWORD", None)
    args = ["watch", str(folder), "--settle", str(SETTLE), "--interval", "0.1"]
    with (
        (folder.parent / f"{log}.out").open("wb") as out,
        (folder.parent / f"{log}.err").open("wb") as err,
    ):
        return subprocess.Popen(
            [sys.executable, "-c", _RUNNER, *args], stdout=out, stderr=err, env=env
        )


def log_lines(folder: Path, *logs: str) -> list[str]:
    return [
        line
        for log in logs
        for kind in ("out", "err")
        for line in (folder.parent / f"{log}.{kind}").read_text().splitlines()
    ]


def stop(process: subprocess.Popen[bytes], how: signal.Signals, timeout: float = 120) -> int:
    process.send_signal(how)
    return process.wait(timeout=timeout)


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, Path]:
    """What is dropped, by archive name in the watched folder (20 archives)."""
    made = tmp_path / "sources"
    made.mkdir()
    cut = made / "cut-685016.tgz"
    data = (SAMPLES / "query/685016.tgz").read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    notes = made / "notes.tgz"
    notes.write_text("not an archive\n" * 20)
    archives = {
        "685000.tgz": SAMPLES / "query/685000.tgz",
        "685003.tgz": SAMPLES / "query/685003.tgz",
        "691201.tgz": SAMPLES / "daemon/ingest/691201.tgz",
        "collated-tsv-2220.tgz": SAMPLES / "tsv/collated-tsv-2220.tgz",
        "685000-again.tgz": SAMPLES / "misc/685000.tgz",  # the same bytes as query/'s
        "corrupted-csv.tgz": SAMPLES / "misc/corrupted-csv.tgz",
        "cut-685016.tgz": cut,
        "notes.tgz": notes,
        "dup-a.tgz": write_archive(made / "dup-a.tgz", 40, seed=1, jobid="w-dup"),
        "dup-b.tgz": write_archive(made / "dup-b.tgz", 30, seed=2, jobid="w-dup"),
        "slow.tgz": write_archive(made / "slow.tgz", 2000, seed=5, jobid="w-slow"),
    }
    for n in range(1, 10):
        archives[f"t{n}.tgz"] = write_archive(made / f"t{n}.tgz", 30, seed=10 + n, jobid=f"w-t{n}")
    return archives


#: What fails, and the words its reason file must hold.
FAILS = {
    "685000-again.tgz": r"^job 685000 already loaded \(from .*/685000\.tgz\); --replace swaps it$",
    "corrupted-csv.tgz": r"corrupted-csv\.tgz/perftools\.org-papiex-6477-0\.csv, line 2: corrupted",
    "cut-685016.tgz": r"cut-685016\.tgz: corrupt or truncated archive",
    "notes.tgz": r"notes\.tgz: corrupt or truncated archive",
    "dup-b.tgz": r"^job w-dup already loaded \(from .*/dup-a\.tgz\); --replace swaps it$",
}


def test_twenty_archives_a_kill_and_a_restart(
    server: Connection, own_graph: Graph, sources: dict[str, Path], tmp_path: Path
) -> None:
    folder = Folder(tmp_path / "in")
    folder.path.mkdir()
    first = start_watcher(server, folder.path, "first")
    try:
        folder.copy(sources["685003.tgz"], "685003.tgz")
        folder.rename(sources["685000.tgz"], "685000.tgz")
        for name in ("corrupted-csv.tgz", "cut-685016.tgz", "dup-a.tgz", "t1.tgz", "t2.tgz"):
            folder.copy(sources[name], name)
        folder.slowly(sources["collated-tsv-2220.tgz"], "collated-tsv-2220.tgz", pieces=4)
        for name in ("t3.tgz", "t4.tgz"):
            folder.rename(sources[name], name)
        # SIGKILL once 685003 is being written: a version of it committed but not published
        # (or, if we are too late, published but not moved yet)
        wait_until(
            lambda: (i := folder.intent()) is not None and i.archive == "685003.tgz",
            120,
            "the first watcher to start writing 685003",
        )
        wait_until(
            lambda: (
                count(own_graph, _UNPUBLISHED, jobid="685003")
                or not (folder.path / "685003.tgz").exists()
            ),
            120,
            "an unpublished version of 685003",
        )
        first.kill()
        first.wait(timeout=30)
    finally:
        first.kill()
    assert "685003.tgz" in folder.waiting()

    second = start_watcher(server, folder.path, "second")
    try:
        folder.copy(sources["685000-again.tgz"], "685000-again.tgz")
        folder.copy(sources["notes.tgz"], "notes.tgz")
        folder.rename(sources["dup-b.tgz"], "dup-b.tgz")
        folder.slowly(sources["slow.tgz"], "slow.tgz", pieces=6)
        folder.rename(sources["691201.tgz"], "691201.tgz")
        for n in range(5, 10):
            folder.copy(sources[f"t{n}.tgz"], f"t{n}.tgz")
        for writer in folder.writers:
            writer.join()
        wait_until(lambda: not folder.waiting(), 240, "every archive to be filed")
        # the restarted watcher removes what the killed one left, once its lease is over
        wait_until(lambda: count(own_graph, _STRAYS) == 0, 60, "no unpublished process left")
        assert stop(second, signal.SIGTERM) == 0
    finally:
        second.kill()

    assert set(folder.filed("failed")) == set(FAILS)
    assert set(folder.filed("done")) == set(sources) - set(FAILS)
    for name, words in FAILS.items():
        reason = (folder.path / "failed" / f"{name}.reason").read_text()
        assert reason.endswith("\n") and reason.count("\n") == 1, reason
        assert re.search(words, reason.strip()), reason

    expected = {jobid: rest for jobid, *rest in (shape(sources[n]) for n in folder.filed("done"))}
    assert expected["w-dup"][0] == 40  # dup-a's, the first dropped
    graph_jobs = published(own_graph)
    assert {jobid: list(values) for jobid, values in graph_jobs.items()} == expected
    versions = own_graph.driver.execute_query(_VERSIONS).records
    assert {r["jobid"]: r["versions"] for r in versions} == dict.fromkeys(expected, 1)
    assert count(own_graph, _STRAYS) == 0

    lines = log_lines(folder.path, "first", "second")
    done = Counter(
        m[1] for line in lines if (m := re.search(r" job (\S+): (?:already )?loaded, ", line))
    )
    assert done == dict.fromkeys(expected, 1)  # each good job loaded exactly once
    assert any(
        line.endswith(
            "job 685003: 685003.tgz was being loaded when the watcher stopped; loading it first"
        )
        for line in lines
    )
    assert (tmp_path / "second.out").read_text().endswith(" stopped by SIGTERM\n")


def test_sigterm_finishes_the_job_being_loaded(
    server: Connection, own_graph: Graph, sources: dict[str, Path], tmp_path: Path
) -> None:
    folder = Folder(tmp_path / "in")
    folder.path.mkdir()
    watcher = start_watcher(server, folder.path, "watcher")
    try:
        folder.rename(sources["691201.tgz"], "691201.tgz")
        wait_until(
            lambda: count(own_graph, _UNPUBLISHED, jobid="691201"),
            120,
            "691201 to be written",
        )
        folder.rename(sources["t1.tgz"], "t1.tgz")  # complete, but after the signal
        assert stop(watcher, signal.SIGTERM) == 0
    finally:
        watcher.kill()
    assert folder.filed("done") == ["691201.tgz"]
    assert folder.waiting() == ["t1.tgz"]
    jobid, *rest = shape(sources["691201.tgz"])
    assert {k: list(v) for k, v in published(own_graph).items()} == {jobid: rest}
    lines = log_lines(folder.path, "watcher")
    assert any(" job 691201: loaded, 3412 processes, " in line for line in lines)
    assert (tmp_path / "watcher.out").read_text().endswith(" stopped by SIGTERM\n")


def test_published_but_not_moved_is_already_loaded(
    own_graph: Graph, sources: dict[str, Path], tmp_path: Path
) -> None:
    """The state a kill between the publish and the move leaves: the job published from the
    archive still in the folder, the intent naming it."""
    folder = tmp_path / "in"
    folder.mkdir()
    archive = shutil.copyfile(sources["t1.tgz"], folder / "t1.tgz")
    loaded = load_job(archive, graph=own_graph)
    rows = read_job(archive)
    Inbox(folder, settle=0).record_intent(Intent("t1.tgz", rows.jobid, rows.job["digest"]))
    before = own_graph.driver.execute_query("MATCH (j:Job) RETURN j.version AS v").records
    lines: list[str] = []
    with Watcher(folder, graph=own_graph, log=lambda line, _: lines.append(line)) as watcher:
        (outcome,) = watcher.run_once()
    assert (outcome.status, outcome.processes, outcome.moved_to) == (
        "already loaded",
        loaded.processes,
        "done/t1.tgz",
    )
    after = own_graph.driver.execute_query("MATCH (j:Job) RETURN j.version AS v").records
    assert after == before  # nothing written
    assert Inbox(folder, settle=0).intent() is None
    assert (
        lines[1] == "job w-t1: t1.tgz was being loaded when the watcher stopped; loading it first"
    )


def test_the_same_archive_again_fails_without_the_intent(
    own_graph: Graph, sources: dict[str, Path], tmp_path: Path
) -> None:
    """EPMT refuses a job id it has; so does the watcher, whatever the content."""
    folder = tmp_path / "in"
    folder.mkdir()
    load_job(sources["t1.tgz"], graph=own_graph)
    shutil.copyfile(sources["t1.tgz"], folder / "t1.tgz")
    with Watcher(folder, graph=own_graph, settle=0, log=lambda *_: None) as watcher:
        (outcome,) = watcher.run_once()
    assert outcome.failed and outcome.moved_to == "failed/t1.tgz"
    assert (
        outcome.reason == f"job w-t1 already loaded (from {sources['t1.tgz']}); --replace swaps it"
    )


def test_replace_swaps_a_job_and_keeps_the_same_content(
    own_graph: Graph, sources: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    load_job(sources["dup-a.tgz"], graph=own_graph)
    shutil.copyfile(sources["dup-b.tgz"], folder / "b.tgz")
    with Watcher(folder, graph=own_graph, settle=0, replace=True, log=lambda *_: None) as w:
        (replaced,) = w.run_once()
        shutil.copyfile(sources["dup-b.tgz"], folder / "b.tgz")
        (unchanged,) = w.run_once()
    assert (replaced.status, replaced.processes, replaced.moved_to) == (
        "replaced",
        30,
        "done/b.tgz",
    )
    assert (unchanged.status, unchanged.moved_to) == ("unchanged", "done/b.1.tgz")
    _, *rest = shape(sources["dup-b.tgz"])
    assert {k: list(v) for k, v in published(own_graph).items()} == {"w-dup": rest}


def test_an_archive_is_read_only_once_complete(tmp_path: Path, sources: dict[str, Path]) -> None:
    inbox = Inbox(tmp_path, settle=0.5)
    data = sources["t1.tgz"].read_bytes()
    (tmp_path / "t1.tgz").write_bytes(data[:100])
    assert inbox.complete() == []
    time.sleep(0.3)
    with (tmp_path / "t1.tgz").open("ab") as handle:
        handle.write(data[100:])
    assert inbox.complete() == []  # written to 0.3 s ago
    time.sleep(0.6)
    assert [name for name, _ in inbox.complete()] == ["t1.tgz"]
    # renamed in whole, written long ago: complete at once
    shutil.copyfile(sources["t2.tgz"], tmp_path / ".t2.part")
    os.utime(tmp_path / ".t2.part", (time.time() - 60, time.time() - 60))
    os.replace(tmp_path / ".t2.part", tmp_path / "t2.tgz")
    assert [name for name, _ in inbox.complete()] == ["t2.tgz", "t1.tgz"]


def test_an_archive_still_written_waits_instead_of_failing(
    own_graph: Graph, sources: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that paused longer than the settle time: the archive is read half-written,
    but it changed meanwhile, so it waits again instead of going to failed/."""
    data = sources["t1.tgz"].read_bytes()
    (tmp_path / "t1.tgz").write_bytes(data[:200])
    real = watch.read_job

    def resumed_writer(path: Path) -> Any:
        try:
            return real(path)
        finally:
            with Path(path).open("ab") as handle:
                handle.write(data[200:])

    monkeypatch.setattr(watch, "read_job", resumed_writer)
    with Watcher(tmp_path, graph=own_graph, settle=0, log=lambda *_: None) as watcher:
        assert watcher.run_once() == []
        monkeypatch.setattr(watch, "read_job", real)
        (outcome,) = watcher.run_once()
    assert (outcome.status, outcome.processes) == ("loaded", 30)


def test_one_watcher_per_folder(own_graph: Graph, tmp_path: Path) -> None:
    with (
        Watcher(tmp_path, graph=own_graph),
        pytest.raises(ConfigError, match="another epmt-graph watch runs on it"),
        Watcher(tmp_path, graph=own_graph),
    ):
        pass
    with pytest.raises(ConfigError, match="not a directory"):
        Watcher(tmp_path / "absent", graph=own_graph)


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--settle", "-1", "must be at least 0 s, not -1"),
        ("--settle", "nan", "must be at least 0 s, not nan"),
        ("--interval", "0", "must be at least 0.01 s, not 0"),
        ("--interval", "soon", "not a number of seconds: 'soon'"),
    ],
)
def test_bad_times_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, words: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["watch", str(tmp_path), option, value])
    assert exited.value.code == 2
    assert words in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # not even done/ and failed/
