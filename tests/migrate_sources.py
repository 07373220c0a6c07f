"""EPMT databases to migrate from, filled by the real EPMT 5.0.1, and PostgreSQL servers.

The source databases are EPMT's own doing: ``benchmarks/epmt_ref/fill_db.py`` runs in
EPMT's venv (``benchmarks/epmt_ref/setup_venv.sh`` makes it) and ``epmt submit``s every
loadable sample job, then makes EPMT's changes through its API (post-processing some jobs,
annotations, analyses, a tag, two reference models). A SQLite database is kept in
``$EPMT_GRAPH_CACHE/migrate-sources/KEY/`` (KEY: the sha256 of the archives, the fill script
and the venv script), as it takes a minute to fill; a PostgreSQL one is filled in a
throwaway cluster: Debian's ``initdb``/``pg_ctl`` (on ``PATH`` or in
``/usr/lib/postgresql/*/bin``), a temporary data directory, a free loopback port, trust
authentication; as root, the server runs as the ``postgres`` user (it refuses root).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from constants import SAMPLES
from graph_fixtures import free_port
from oracle import sample_jobs

from epmt_graph.config import cache_dir

__all__ = [
    "EpmtSource",
    "copies",
    "epmt_python",
    "filled",
    "pg_bin",
    "sqlite_source",
    "throwaway_postgres",
]

REPO = Path(__file__).resolve().parents[1]
FILL = REPO / "benchmarks" / "epmt_ref" / "fill_db.py"
SETUP = REPO / "benchmarks" / "epmt_ref" / "setup_venv.sh"
#: Seconds EPMT may take to fill a database (it is slow on a loaded machine).
FILL_TIMEOUT = 1800


@dataclass(frozen=True)
class EpmtSource:
    """A database EPMT filled: its URL, the jobs it submitted, the changes it made (each
    ``[function, args, kwargs]`` of ``epmt_query``) and the zone EPMT's machine was in
    (``TZ``; None: this machine's), which ``migrate --server-tz`` is told."""

    url: str
    submitted: list[str]
    changes: list[list[Any]]
    server_tz: str | None = None

    @property
    def options(self) -> list[str]:
        """The ``migrate`` options this source needs."""
        return [] if self.server_tz is None else ["--server-tz", self.server_tz]


def epmt_python() -> Path:
    """The python of EPMT 5.0.1's own venv (made on first use)."""
    done = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"EPMT's venv could not be made: {done.stderr[-2000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


def copies(dest: Path) -> list[str]:
    """Copies of the loadable sample jobs in ``dest`` (EPMT reads them; shared/ is read-only)."""
    paths = []
    for rel in sample_jobs():
        src, dst = SAMPLES / rel, dest / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
            paths.append(f"{dst}/")
        else:
            shutil.copyfile(src, dst)
            paths.append(str(dst))
    return paths


def filled(url: str, workdir: Path, server_tz: str | None = None) -> EpmtSource:
    """Fill the database at ``url`` with EPMT (``fill_db.py --changes``) from the samples,
    EPMT running in the zone ``server_tz`` (None: this machine's)."""
    paths = copies(workdir / "in")
    env = {**os.environ, "EPMT_DB_URL": url}
    if server_tz is not None:
        env["TZ"] = server_tz
    done = subprocess.run(
        [str(epmt_python()), str(FILL), "--changes", *paths],
        capture_output=True,
        text=True,
        env=env,
        cwd=workdir,
        timeout=FILL_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"EPMT could not fill {url}: {done.stderr[-3000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return EpmtSource(url, report["submitted"], report["changes"], server_tz)


def _key() -> str:
    digest = hashlib.sha256()
    for rel in sample_jobs():
        path = SAMPLES / rel
        for file in sorted(p for p in [path, *path.rglob("*")] if p.is_file()):
            digest.update(file.relative_to(SAMPLES).as_posix().encode() + file.read_bytes())
    for script in (FILL, SETUP):
        digest.update(script.read_bytes())
    return digest.hexdigest()[:16]


def sqlite_source() -> EpmtSource:
    """A SQLite database EPMT filled, from the cache or filled now (then kept)."""
    folder = cache_dir() / "migrate-sources" / _key()
    report = folder / "report.json"
    if not report.is_file():
        work = Path(tempfile.mkdtemp(prefix="epmt_graph_fill_"))
        try:
            source = filled(f"sqlite:///{work / 'epmt.db'}", work)
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / "epmt.db", folder / "epmt.db")
            report.write_text(
                json.dumps({"submitted": source.submitted, "changes": source.changes})
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
    saved = json.loads(report.read_text())
    return EpmtSource(f"sqlite:///{folder / 'epmt.db'}", saved["submitted"], saved["changes"])


def pg_bin() -> Path | None:
    """The folder of PostgreSQL's ``initdb`` and ``pg_ctl`` (None: not installed)."""
    found = shutil.which("pg_ctl")
    if found and (Path(found).resolve().parent / "initdb").exists():
        return Path(found).resolve().parent  # a link on PATH: the folder of the real one
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True
    )
    return next((p for p in versions if (p / "pg_ctl").exists() and (p / "initdb").exists()), None)


def _as_owner(owner: str | None, command: list[str]) -> list[str]:
    return command if owner is None else ["runuser", "-u", owner, "--", *command]


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL server of its own on a free loopback port, stopped and removed on exit;
    yields the URL of its empty database ``epmt`` (user ``epmt``, no password)."""
    bin_dir = pg_bin()
    if bin_dir is None:
        pytest.skip(
            "missing optional tool: PostgreSQL (initdb, pg_ctl); apt-get install postgresql"
        )
    owner = None
    if os.geteuid() == 0:  # the server refuses to run as root
        owner = next((u for u in ("postgres", "nobody") if _user(u)), None)
        if owner is None:
            pytest.fail("running as root and no postgres or nobody user to run PostgreSQL as")
    home = Path(tempfile.mkdtemp(prefix="epmt_graph_pg_"))
    if owner is not None:
        shutil.chown(home, owner)
    data, port = home / "data", free_port()
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"

    def run(*command: str) -> None:
        subprocess.run(_as_owner(owner, list(command)), check=True, capture_output=True, cwd=home)

    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", "epmt", "-A", "trust", "-E", "UTF8")
        run(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(home / "log"),
            "-w",
            "-o",
            options,
            "start",
        )
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "epmt", "epmt")
        yield f"postgresql://epmt@127.0.0.1:{port}/epmt"
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(home, ignore_errors=True)


def _user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
