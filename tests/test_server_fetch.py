"""The Maven fetch of the server shows what it fetches.

``mvn-neo4j-5.26.30.log.gz`` is the output of ``mvn -B ... package`` with the project's
``pom.xml`` into an empty local repository (``-Dmaven.repo.local``) on 2026-12-05: it took
38 s. That repository then held :data:`FILES` jars and poms of :data:`BYTES` bytes in all
(``find m2 -name '*.jar' -o -name '*.pom'``): the oracle for the count. ``mvn-missing-browser.log``
is the output of the same command asking for a Neo4j Browser version that does not exist.
A fake ``mvn`` replays them, so the tests run in a second and offline.
"""

from __future__ import annotations

import gzip
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from epmt_graph.config import NEO4J_VERSION
from epmt_graph.errors import ServerError
from epmt_graph.server import provision
from epmt_graph.server.maven import Fetch

FIXTURES = Path(__file__).parent / "fixtures" / "maven"
RECORDING = FIXTURES / f"mvn-neo4j-{NEO4J_VERSION}.log.gz"
FAILURE = FIXTURES / "mvn-missing-browser.log"
#: What the recorded run left in the empty local repository.
FILES = 777
BYTES = 164_572_556

#: Replays $FAKE_MVN_LOG, pausing $FAKE_MVN_PAUSE seconds halfway; on success (no
#: $FAKE_MVN_FAIL) leaves the jar provision() looks for in -Dlib.dir.
FAKE_MVN = """#!/bin/sh
for arg; do
    case $arg in
        -Dlib.dir=*) lib=${arg#-Dlib.dir=} ;;
        -Dneo4j.version=*) version=${arg#-Dneo4j.version=} ;;
    esac
done
gzip -dcf "$FAKE_MVN_LOG" > "$lib/replay"
half=$(( $(wc -l < "$lib/replay") / 2 ))
head -n "$half" "$lib/replay"
sleep "${FAKE_MVN_PAUSE:-0}"
tail -n "+$(( half + 1 ))" "$lib/replay"
rm "$lib/replay"
[ -n "$FAKE_MVN_FAIL" ] && exit 1
touch "$lib/neo4j-$version.jar"
"""


@pytest.fixture
def fake_mvn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fake ``mvn`` first on PATH replaying the recording; returns the environment."""
    folder = tmp_path / "bin"
    folder.mkdir()
    mvn = folder / "mvn"
    mvn.write_text(FAKE_MVN)
    mvn.chmod(mvn.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_MVN_LOG", str(RECORDING))
    monkeypatch.setenv("EPMT_GRAPH_CACHE", str(tmp_path / "cache"))
    return dict(os.environ)


def test_a_recorded_first_fetch_counts_every_file() -> None:
    fetch = Fetch()
    with gzip.open(RECORDING, "rt") as lines:
        for line in lines:
            fetch.feed(line)
    assert fetch.files == FILES
    # Maven rounds each size to two or three digits
    assert fetch.size == pytest.approx(BYTES, rel=0.005)
    assert fetch.problems == []


def test_provision_reports_while_maven_runs_and_while_it_is_silent(
    fake_mvn: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_MVN_PAUSE", "1.6")
    seen: list[tuple[int, float]] = []
    lib = provision(progress=lambda fetch: seen.append((fetch.files, fetch.elapsed)))
    assert lib == tmp_path / "cache" / f"neo4j-{NEO4J_VERSION}" / "lib"
    files = [count for count, _ in seen]
    assert files[0] == 0
    assert files[-1] == FILES
    assert files == sorted(files)
    # the pause: reports at least every half second, with the same count, the clock running
    paused = [elapsed for count, elapsed in seen if count == files[len(files) // 2]]
    assert len(paused) >= 3
    assert paused[-1] - paused[0] >= 1.0
    calls = len(seen)
    provision(progress=lambda fetch: seen.append((fetch.files, fetch.elapsed)))
    assert len(seen) == calls  # the jars are there: Maven does not run, nothing is reported


def test_the_command_says_what_it_fetches(fake_mvn: dict[str, str], tmp_path: Path) -> None:
    command = [sys.executable, "-m", "epmt_graph.cli", "server", "provision"]
    first = subprocess.run(command, capture_output=True, text=True, env=fake_mvn, check=False)
    assert first.returncode == 0, first.stderr
    lib = tmp_path / "cache" / f"neo4j-{NEO4J_VERSION}" / "lib"
    assert first.stdout == f"Neo4j {NEO4J_VERSION} jars in {lib}\n"
    # not a terminal: the line saying what is fetched and the total, no counting line
    header, total = first.stderr.splitlines()
    assert header.startswith(f"fetching Neo4j {NEO4J_VERSION} and the Neo4j Browser from Maven")
    assert total.startswith(f"fetched {FILES} files, 164.1 MB in ")
    again = subprocess.run(command, capture_output=True, text=True, env=fake_mvn, check=False)
    assert (again.returncode, again.stdout, again.stderr) == (0, first.stdout, "")


def test_a_failed_fetch_says_why(fake_mvn: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_MVN_LOG", str(FAILURE))
    monkeypatch.setenv("FAKE_MVN_FAIL", "1")
    with pytest.raises(ServerError) as caught:
        provision()
    message = str(caught.value)
    assert message.startswith(f"Maven could not fetch Neo4j {NEO4J_VERSION}:\n[WARNING] The POM")
    assert (
        "Could not resolve dependencies for project org.epmt_graph:neo4j-server-classpath:pom:1:"
        " org.neo4j.client:neo4j-browser:jar:0.0.0-nope was not found in"
        " https://repo.maven.apache.org/maven2" in message
    )
    assert "\n[ERROR] \n" not in message
    assert "[INFO]" not in message
    assert "\x1b" not in message
