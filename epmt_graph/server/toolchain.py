"""Find Java and Maven, and fetch Neo4j Community's jars from Maven Central.

The jars of one Neo4j version go to ``<cache>/neo4j-<version>/lib`` once; every local
server (the user's, the tests') shares them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from epmt_graph.config import NEO4J_VERSION, cache_dir
from epmt_graph.errors import ServerError
from epmt_graph.server.maven import Fetch, run_mvn

__all__ = ["find_java", "java_major_version", "provision"]

_SUPPORTED_JAVA = (17, 21)
#: Where Debian-style systems install JDKs; searched after JAVA_HOME and PATH.
JVM_FOLDER = Path("/usr/lib/jvm")
_MARKER = ".complete"


def java_major_version(java: str) -> int:
    """The major version of the ``java`` executable at ``java``.

    Raises
    ------
    ServerError
        If it does not run or its version cannot be read.
    """
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=True
        ).stderr
    except (OSError, subprocess.SubprocessError) as exc:
        raise ServerError(f"cannot run {java!r}: {exc}") from exc
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise ServerError(f"cannot read the version of {java!r} from: {out.strip()[:200]}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def find_java() -> str:
    """The path of a Java 17 or 21 runtime, which Neo4j 5.26 needs.

    ``JAVA_HOME`` is tried first, then ``java`` on ``PATH``, then the usual Debian folders.

    Raises
    ------
    ServerError
        If no supported Java is found.
    """
    candidates: list[str] = []
    if home := os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(home) / "bin" / "java"))
    if on_path := shutil.which("java"):
        candidates.append(on_path)
    for major in _SUPPORTED_JAVA:
        candidates += sorted(str(p) for p in JVM_FOLDER.glob(f"*-{major}-*/bin/java"))
    seen: list[str] = []
    for java in candidates:
        if not Path(java).exists():
            continue
        major = java_major_version(java)
        if major in _SUPPORTED_JAVA:
            return java
        seen.append(f"{java} (Java {major})")
    found = "; found: " + ", ".join(seen) if seen else ""
    raise ServerError(
        "Neo4j 5.26 needs Java 17 or 21 and none was found"
        + found
        + ". Install one (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME."
    )


def provision(
    version: str = NEO4J_VERSION,
    *,
    cache: Path | None = None,
    progress: Callable[[Fetch], None] | None = None,
) -> Path:
    """Download Neo4j Community ``version`` and the Neo4j Browser with Maven.

    Parameters
    ----------
    version : str
        A Neo4j 5.x version published on Maven Central.
    cache : Path, optional
        Where jars are kept; default :func:`epmt_graph.config.cache_dir`.
    progress : callable, optional
        Called with what Maven has fetched so far (a :class:`~epmt_graph.server.maven.Fetch`)
        while it runs, at least twice a second; never called when the jars are there.

    Returns
    -------
    Path
        The folder holding every jar of the server's classpath. A second call returns at once.

    Raises
    ------
    ServerError
        If ``mvn`` is missing or Maven cannot resolve the artifacts (its output is included).
    """
    lib = (cache or cache_dir()) / f"neo4j-{version}" / "lib"
    if (lib / _MARKER).exists():
        return lib
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServerError(
            "Maven (mvn) is needed to fetch Neo4j from Maven Central and was not found on PATH"
            " (Debian: apt-get install maven)."
        )
    lib.mkdir(parents=True, exist_ok=True)
    pom = lib.parent / "pom.xml"
    pom.write_text(resources.files("epmt_graph.server").joinpath("pom.xml").read_text())
    command = [mvn, "-B", "-f", str(pom), f"-Dneo4j.version={version}", f"-Dlib.dir={lib}"]
    try:
        code, fetch, tail = run_mvn([*command, "package"], progress)
    except OSError as exc:
        raise ServerError(f"cannot run {mvn!r}: {exc}") from exc
    if code != 0:
        output = "\n".join(fetch.problems) or tail
        raise ServerError(f"Maven could not fetch Neo4j {version}:\n{output[-2000:]}")
    if not any(lib.glob(f"neo4j-{version}.jar")):
        raise ServerError(f"Maven finished but {lib} holds no neo4j-{version}.jar")
    (lib / _MARKER).write_text(version + "\n")
    return lib
