"""Memory of ``epmt-graph watch`` over many archives: it must stay flat.

    .venv/bin/python benchmarks/watch_memory.py [--archives 1000] [--procs 20]

On its own throwaway Neo4j, ``epmt-graph watch DIR --settle 0`` runs as a subprocess while
seeded synthetic archives (``--procs`` processes each, jobids ``mem-N``) are renamed into DIR
in batches of 50, each batch once the watcher has filed the one before. The watcher's resident
memory (``VmRSS`` from ``/proc/PID/status``) is read each time another 100 archives have been
filed, and its peak (``VmHWM``) at the end. The target: the resident memory after the last
archive within 10% of the one after the first 100 (nothing accumulates per archive).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_util import git_state, load_average, throwaway_server

from epmt_graph.synthetic import write_archive

BATCH = 50
STEP = 100


def status_kb(pid: int, field: str) -> int:
    """A ``/proc/PID/status`` field in kB (``VmRSS``, ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archives", type=int, default=1000)
    parser.add_argument("--procs", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="epmt_graph_watch_memory_"))
    staging, folder = work / "staging", work / "in"
    staging.mkdir()
    folder.mkdir()
    names = [
        write_archive(staging / f"mem-{n}.tgz", args.procs, seed=n, jobid=f"mem-{n}").name
        for n in range(args.archives)
    ]
    print(f"# watch memory: {args.archives} archives of {args.procs} processes")
    print(f"commit {git_state()['commit']}, load average {load_average()}")
    with throwaway_server(heap="1g", pagecache="256m") as (connection, _):
        env = {**os.environ, "NEO4J_URI": connection.uri}
        with (work / "watch.log").open("wb") as log:
            watcher = subprocess.Popen(
                [sys.executable, "-m", "epmt_graph.cli", "watch", str(folder), "--settle", "0"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        try:
            rows = run(watcher.pid, staging, folder, names)
            peak = status_kb(watcher.pid, "VmHWM")
        finally:
            watcher.terminate()
            watcher.wait(timeout=120)
    failed = list((folder / "failed").iterdir())
    print("\n| archives filed | seconds | RSS MB |\n|---|---|---|")
    for filed, seconds, rss in rows:
        print(f"| {filed:,} | {seconds:.0f} | {rss / 1024:.1f} |")
    ratio = rows[-1][2] / rows[0][2]
    print(f"\npeak RSS {peak / 1024:.1f} MB; last / first {ratio:.3f} (target <= 1.10)")
    print(f"failed archives: {len(failed)}; watcher exit {watcher.returncode}")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if ratio <= 1.10 and not failed and watcher.returncode == 0 else 1


def run(pid: int, staging: Path, folder: Path, names: list[str]) -> list[tuple[int, float, int]]:
    """Drop the archives batch by batch; (filed, seconds, RSS kB) at every :data:`STEP` filed."""
    rows: list[tuple[int, float, int]] = []
    started = time.monotonic()
    for at in range(0, len(names), BATCH):
        for name in names[at : at + BATCH]:
            os.replace(staging / name, folder / name)
        while (filed := len([*folder.glob("done/*.tgz"), *folder.glob("failed/*.tgz")])) < min(
            at + BATCH, len(names)
        ):
            time.sleep(0.05)
        if filed % STEP == 0 or filed == len(names):
            rows.append((filed, time.monotonic() - started, status_kb(pid, "VmRSS")))
    return rows


if __name__ == "__main__":
    sys.exit(main())
