"""EPMT 5.0.1's side of the one-archive benchmark, in its own venv: in process
(``epmt_ref/archive_timing.py``) and as its own commands, ``epmt submit ARCHIVE`` and then
its post-processing.

EPMT 5.0.1 has two commands that post-process: ``epmt dbcare --post-process``, whose query
is PostgreSQL's (``(info_dict -> '...')::int``: SQLite refuses it), and ``epmt daemon
--post-process``, which loops (a pass, then a minute's sleep) and runs its pass inside a
python-daemon context that closes every file it did not open itself. When its output is not
a terminal, EPMT also logs to a file; that file's descriptor is closed, SQLite's file gets
its number, and the log lines go into the database ("file is not a database"). So the
daemon runs here in the foreground (``-D``) on a pseudo-terminal, as from a shell, and its
time is taken from its start to the line it logs after its first pass
(``N jobs post-processed, M errors``); it is then killed (it would sleep a minute). Analysis
is left out (``--no-analyze``): ours does none.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_archive_ours import ArchiveJob

__all__ = ["epmt_cli", "epmt_in_process", "epmt_python"]

REF = Path(__file__).resolve().parent / "epmt_ref"
#: What EPMT's daemon logs at the end of a post-processing pass.
PASS_DONE = re.compile(rb"(\d+) jobs post-processed, (\d+) errors")


def epmt_python() -> Path:
    """The python of the EPMT 5.0.1 venv (``epmt_ref/setup_venv.sh`` makes it if missing)."""
    done = subprocess.run(
        ["bash", str(REF / "setup_venv.sh")], capture_output=True, text=True, check=True
    )
    return Path(done.stdout.strip().splitlines()[-1])


def epmt_in_process(
    python: Path, job: ArchiveJob, warmup: ArchiveJob | None = None
) -> dict[str, Any]:
    """One run of ``archive_timing.py`` on ``job`` (a fresh process and SQLite): its JSON."""
    command = [
        str(python),
        str(REF / "archive_timing.py"),
        str(job.path),
        "--ops",
        ",".join(job.ops),
    ]
    if warmup is not None:
        command += ["--warmup", str(warmup.path), "--warmup-ops", ",".join(warmup.ops)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"archive_timing.py {job.path}: {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _until_pass_done(command: list[str], env: dict[str, str], timeout: float) -> float:
    """Run ``command`` on a pseudo-terminal until it prints :data:`PASS_DONE`, then kill it;
    the seconds from its start to that line."""
    master, slave = pty.openpty()
    t0 = time.perf_counter()
    child = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env,
        start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    seen = b""
    try:
        while (left := timeout - (time.perf_counter() - t0)) > 0:
            ready, _, _ = select.select([master], [], [], left)
            chunk = os.read(master, 65536) if ready else b""
            if not chunk:
                break
            seen += chunk
            found = PASS_DONE.search(seen)
            if found:
                seconds = time.perf_counter() - t0
                if found.group(1) != b"1" or found.group(2) != b"0":
                    raise RuntimeError(f"EPMT's daemon: {found.group(0).decode()}")
                return seconds
        raise RuntimeError(f"EPMT's daemon did not finish a pass: {seen[-3000:].decode()}")
    finally:
        child.kill()
        child.wait()
        os.close(master)


def _stored(db: Path, jobid: str) -> tuple[int, int]:
    """Processes of ``jobid`` in EPMT's ``processes`` table, and rows left in staging."""
    with sqlite3.connect(db) as conn:
        done = conn.execute("SELECT count(*) FROM processes WHERE jobid = ?", (jobid,)).fetchone()
        staged = conn.execute("SELECT count(*) FROM processes_staging").fetchone()
    return int(done[0]), int(staged[0])


def epmt_cli(python: Path, job: ArchiveJob) -> dict[str, float]:
    """``epmt submit ARCHIVE``, then ``epmt daemon -D --post-process --no-analyze`` to the end
    of its first pass, as child processes on a fresh SQLite file (made, with its schema, by
    an untimed ``epmt migrate``); seconds of each.

    Raises
    ------
    RuntimeError
        If a command fails or the job's processes are not all post-processed afterwards.
    """
    epmt = str(python.parent / "epmt")
    work = Path(tempfile.mkdtemp(prefix="epmt_graph_bench_archive_epmt_"))
    try:
        db = work / "epmt.db"
        env = {**os.environ, "EPMT_DB_URL": f"sqlite:///{db}"}
        archive = work / job.path.name
        shutil.copy2(job.path, archive)
        subprocess.run([epmt, "migrate"], env=env, cwd=work, capture_output=True, check=True)
        t0 = time.perf_counter()
        done = subprocess.run(
            [epmt, "submit", str(archive)], env=env, cwd=work, capture_output=True, text=True
        )
        submit = time.perf_counter() - t0
        if done.returncode != 0:
            raise RuntimeError(f"epmt submit {archive}: {done.stderr[-3000:]}")
        daemon = [epmt, "daemon", "-D", "--post-process", "--no-analyze"]
        post = _until_pass_done(daemon, env, timeout=3600)
        stored, staged = _stored(db, job.jobid)
        if stored != job.processes or staged:
            raise RuntimeError(f"EPMT post-processed {stored} of {job.processes}, {staged} staged")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"submit": submit, "post_process": post, "total": submit + post}
