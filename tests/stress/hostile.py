"""Every hostile input the test-suite builds, rebuilt as files for ``epmt-graph load``.

The unit tests (``tests/test_archive.py``, ``test_reader.py``, ``test_safe_pickle.py``) feed
these to the reader in-process; here each becomes a job archive or job directory on disk, so
the command line can be fed them too. Where a test is parametrized, its parameters are read
from its ``parametrize`` mark, so a case added there is tried here as well; the error message
each test expects must also be the one the command line prints.

Each hostile part sits in an otherwise valid one-process job (``control``), so a refusal is
owed to it. The decompression bombs (gigabytes of zeros) are built only on request.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import test_archive
import test_reader
import test_safe_pickle
from constants import SAMPLES

from epmt_graph.config import Connection
from epmt_graph.db import Graph
from epmt_graph.loader.archive import MAX_MEMBER_BYTES, MAX_TOTAL_BYTES

__all__ = ["BadInput", "Outcome", "build", "control", "try_input", "try_together"]


CONTROL_JOBID = "77"
_CHUNK = 16 * 1024**2
_COUNT_NODES = "MATCH (n) RETURN count(n) AS n"


@dataclass(frozen=True)
class BadInput:
    """One hostile input.

    Attributes
    ----------
    kind : str
        Its family (``unsafe tar member``, ``hostile pickle``, ...).
    label : str
        Which one (the unit test's parametrize id, or a name).
    path : Path
        What is given to ``epmt-graph load``.
    message : str
        A regular expression the one error line must match (the unit test's, mostly).
    sentinel : Path, optional
        A file a payload would create if it ran.
    """

    kind: str
    label: str
    path: Path
    message: str
    sentinel: Path | None = field(default=None)


@dataclass(frozen=True)
class Outcome:
    """What ``epmt-graph load`` did with one bad input."""

    bad: BadInput
    returncode: int
    error: str
    wrote: int

    @property
    def rejected(self) -> bool:
        """Exit 1, one ``epmt-graph: error:`` line for the right reason, nothing written,
        no payload run."""
        ran = self.bad.sentinel is not None and self.bad.sentinel.exists()
        return (
            self.returncode == 1
            and self.error.startswith("epmt-graph: error: ")
            and re.search(self.bad.message, self.error) is not None
            and self.wrote == 0
            and not ran
        )


# ---------------------------------------------------------------- building blocks


def _params(test: Callable[..., Any]) -> list[tuple[str, tuple[Any, ...]]]:
    """``(id, values)`` of each case of a parametrized test function."""
    (mark,) = [m for m in getattr(test, "pytestmark", []) if m.name == "parametrize"]
    values = [v if isinstance(v, tuple) else (v,) for v in mark.args[1]]
    ids = mark.kwargs.get("ids") or [str(i) for i in range(len(values))]
    return list(zip(ids, values, strict=True))


def _slot(root: Path, label: str) -> Path:
    folder = root / re.sub(r"[^\w.-]+", "_", label)
    folder.mkdir(parents=True)
    return folder


def _job(folder: Path, **meta: Any) -> Path:
    """The control job as a directory in ``folder`` (``job/``), with metadata overrides."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(test_reader.csv_job(folder, test_reader.proc(1, 0, 1, 2), **meta))


def _members(job: Path) -> list[tuple[str, bytes]]:
    return [(f"./{p.name}", p.read_bytes()) for p in sorted(job.iterdir())]


def _archive(folder: Path, extra: list[Any]) -> Path:
    """The control job as ``folder/job.tgz``, followed by the ``extra`` members."""
    members = _members(_job(folder / "src"))
    return Path(test_archive._tar(folder / "job.tgz", [*members, *extra]))


def _with_metadata(folder: Path, raw: bytes) -> Path:
    job = _job(folder)
    (job / "job_metadata").write_bytes(raw)
    return job


def control(root: Path) -> list[Path]:
    """The valid job every bad input is built on, as a directory and as an archive."""
    folder = _slot(root, "control")
    return [_job(folder), _archive(folder, [])]


# ---------------------------------------------------------------- the families


def _tar_members(root: Path) -> Iterator[BadInput]:
    kind = "unsafe tar member"
    for label, (member, message) in _params(test_archive.test_unsafe_members_are_refused):
        yield BadInput(kind, label, _archive(_slot(root, f"tar-{label}"), [member]), message)
    dup = _archive(_slot(root, "tar-duplicate"), [("job_metadata", b"again")])
    yield BadInput(kind, "duplicate", dup, "appears twice")
    folder = _slot(root, "tar-no-metadata")
    csv = [m for m in _members(_job(folder / "src")) if m[0].endswith(".csv")]
    no_meta = test_archive._tar(folder / "job.tgz", csv)
    yield BadInput("missing part", "archive-without-metadata", no_meta, "missing job_metadata")


def _damaged_archives(root: Path) -> Iterator[BadInput]:
    kind, corrupt = "damaged archive", "corrupt or truncated archive"
    data = (SAMPLES / "query/685000.tgz").read_bytes()
    for label, (keep,) in _params(test_archive.test_truncated_archive):
        path = _slot(root, f"cut-{label}") / "cut.tgz"
        path.write_bytes(data[: int(len(data) * keep)])
        yield BadInput(kind, f"truncated-{keep}", path, corrupt)
    crc = bytearray(data)
    crc[-6] ^= 0xFF
    path = _slot(root, "crc") / "crc.tgz"
    path.write_bytes(bytes(crc))
    yield BadInput(kind, "gzip-crc", path, corrupt)
    path = _slot(root, "not-tar") / "job.tgz"
    path.write_text("just some text, not a tar\n" * 50)
    yield BadInput(kind, "not-a-tar", path, corrupt)
    utf8 = _archive(_slot(root, "utf8"), [("./h1-papiex-77-1.csv", b"a\nb\n\xff\n")])
    yield BadInput(kind, "non-utf8", utf8, r"h1-papiex-77-1\.csv: line 3: not valid UTF-8")


def _directories(root: Path) -> Iterator[BadInput]:
    kind = "unsafe job directory"
    link = _job(_slot(root, "dir-symlink"))
    (link / "h1-papiex-77-1.csv").symlink_to("/etc/passwd")
    yield BadInput(kind, "symlink", link, r"h1-papiex-77-1\.csv: not a regular file")
    fifo = _job(_slot(root, "dir-fifo"))
    os.mkfifo(fifo / "h1-papiex-77-1.csv")
    yield BadInput(kind, "fifo", fifo, "not a regular file")
    sparse = _job(_slot(root, "dir-oversized"))
    with (sparse / "h1-papiex-77-1.csv").open("wb") as fh:
        fh.truncate(MAX_MEMBER_BYTES + 1)  # sparse: no disk used
    yield BadInput(kind, "oversized-file", sparse, f"{MAX_MEMBER_BYTES + 1} bytes, over the")


def _not_jobs(root: Path) -> Iterator[BadInput]:
    kind = "not a job"
    yield BadInput(kind, "missing-path", root / "nope.tgz", "no such file or directory")
    text = _slot(root, "text") / "notes.txt"
    text.write_text("hello\n")
    yield BadInput(kind, "not-an-archive-name", text, "not an EPMT job")
    empty = _slot(root, "empty-folder")
    yield BadInput(kind, "empty-folder", empty, "holds no EPMT job archive or job directory")
    yield BadInput(kind, "sample-csv-folder", SAMPLES / "csv", "holds no EPMT job archive")


def _bad_samples() -> Iterator[BadInput]:
    kind = "corrupted sample"
    yield BadInput(kind, "misc/corrupted-csv.tgz", SAMPLES / "misc/corrupted-csv.tgz", "corrupted")
    yield BadInput(kind, "corrupted_csv", SAMPLES / "corrupted_csv", "40 fields, expected 41")
    path = SAMPLES / "misc/failed-exitcode.tgz"  # naive Indian times read as US/Eastern
    yield BadInput(kind, "misc/failed-exitcode.tgz", path, "line 2: corrupted file")


def _rows(root: Path) -> Iterator[BadInput]:
    kind, r = "malformed rows", test_reader
    for label, (start, end) in _params(r.test_process_outside_the_job_is_a_corrupted_file):
        rows = r.proc(1, 0, 5, 6), r.proc(2, 1, start, end)
        path = r.csv_job(_slot(root, f"outside-{label}"), *rows)
        yield BadInput(kind, f"process-outside-job-{label}", path, "line 3: corrupted file")
    dup = r.proc(1, 0, 5, 6), r.proc(2, 1, 5, 6), r.proc(1, 0, 5, 6)
    path = r.csv_job(_slot(root, "duplicated"), *dup)
    yield BadInput(kind, "duplicated-process", path, r"line 4: duplicated process")
    cycle = r.proc(10, 20, 1, 30), r.proc(20, 10, 2, 40)
    path = r.csv_job(_slot(root, "cycle"), *cycle)
    yield BadInput(kind, "ppid-cycle", path, "the ppid links form a cycle")
    yield BadInput(kind, "empty-job", r.csv_job(_slot(root, "empty")), "the job has no processes")
    bare = r.make_job(_slot(root, "no-papiex"))
    yield BadInput(kind, "no-papiex-files", bare, "the job has no processes")
    for label, (text, message) in _params(r.test_malformed_csv):
        path = r.make_job(_slot(root, f"csv-{label}"), {"h1-papiex-77-0.csv": text})
        yield BadInput(kind, f"csv-{label}", path, message)
    for label, (files, message) in _params(r.test_malformed_tsv):
        path = r.make_job(_slot(root, f"tsv-{label}"), files)
        yield BadInput(kind, f"tsv-{label}", path, message)


def _metadata(root: Path) -> Iterator[BadInput]:
    kind = "bad metadata"
    for label, (meta, message) in _params(test_reader.test_bad_metadata):
        name = f"{label}-{'-'.join(meta)}"
        yield BadInput(kind, name, _job(_slot(root, f"meta-{name}"), **meta), message)


def _pickles(root: Path) -> Iterator[BadInput]:
    kind, sp = "hostile pickle", test_safe_pickle
    folder = _slot(root, "pickle-text")
    sentinel = folder / "pwned"
    raw = f"cos\nsystem\n(S'touch {sentinel}'\ntR.".encode()
    yield BadInput(kind, "os.system-text", _with_metadata(folder, raw), r"os\.system", sentinel)
    for label, (protocol,) in _params(sp.test_os_system_never_runs):
        folder = _slot(root, f"pickle-system-{label}")
        sentinel = folder / "pwned"
        payload = {"job_pl_id": "77", "job_pl_env": sp._RunsCommand(f"touch {sentinel}")}
        raw = sp.pickle.dumps(payload, protocol=protocol)
        path = _with_metadata(folder, raw)
        yield BadInput(kind, f"os.system-protocol-{protocol}", path, r"system", sentinel)
    for label, (protocol,) in _params(sp.test_subprocess_never_runs):
        folder = _slot(root, f"pickle-popen-{label}")
        sentinel = folder / "pwned"
        raw = sp.pickle.dumps(sp._Spawns(str(sentinel)), protocol=protocol)
        path = _with_metadata(folder, raw)
        yield BadInput(kind, f"Popen-protocol-{protocol}", path, r"\.Popen", sentinel)
    for i, (raw, named) in enumerate(v for _, v in _params(sp.test_forbidden_globals)):
        path = _with_metadata(_slot(root, f"pickle-global-{i}"), raw)
        yield BadInput(kind, f"global-{named}-{i}", path, re.escape(named))
    persistent = _with_metadata(_slot(root, "pickle-persistent"), b"Pfoo\n.")
    yield BadInput(kind, "persistent-id", persistent, "persistent id")
    yield from _odd_pickles(root)


def _odd_pickles(root: Path) -> Iterator[BadInput]:
    kind, sp = "unreadable pickle", test_safe_pickle
    for label, (raw,) in _params(sp.test_corrupt_pickle_is_an_archive_error):
        path = _with_metadata(_slot(root, f"pickle-corrupt-{label}"), raw)
        yield BadInput(kind, label, path, "job_metadata is not a readable pickle")
    sample = dict(sp.SAMPLE_METADATA)["query/685000.tgz"]
    path = _with_metadata(_slot(root, "pickle-cut"), sample[: len(sample) // 2])
    yield BadInput(kind, "truncated-sample", path, "job_metadata")
    raw = sp.pickle.dumps([1, 2], protocol=0)
    path = _with_metadata(_slot(root, "pickle-list"), raw)
    yield BadInput(kind, "not-a-dict", path, "holds a list, not a dict")
    deep: Any = "leaf"
    for _ in range(100):
        deep = [deep]
    path = _with_metadata(_slot(root, "pickle-deep"), sp.pickle.dumps({"k": deep}, protocol=0))
    yield BadInput(kind, "deep-nesting", path, "too deep or too large")
    shared: Any = ["x"]
    for _ in range(30):
        shared = [shared, shared]
    raw = sp.pickle.dumps({"k": shared}, protocol=2)
    path = _with_metadata(_slot(root, "pickle-shared"), raw)
    yield BadInput(kind, "shared-reference-blowup", path, "too deep or too large")


class _Zeros(io.RawIOBase):
    """``size`` zero bytes, read in chunks (a bomb's payload, never held in memory)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def _bombs(root: Path) -> Iterator[BadInput]:
    kind = "decompression bomb"
    folder = _slot(root, "bomb-member")
    path = folder / "job.tgz"
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, data in _members(_job(folder / "src")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("./h1-papiex-77-1.csv")
        info.size = MAX_MEMBER_BYTES + 1
        tar.addfile(info, _Zeros(info.size))
    yield BadInput(kind, "member-over-2GiB", path, f"is {MAX_MEMBER_BYTES + 1} bytes")
    folder = _slot(root, "bomb-trailing")
    inner = test_archive._tar(folder / "inner.tar", _members(_job(folder / "src")), "w")
    path = folder / "job.tgz"
    with gzip.open(path, "wb", compresslevel=1) as gz:
        gz.write(inner.read_bytes())
        shutil.copyfileobj(_Zeros(MAX_TOTAL_BYTES), gz, _CHUNK)
    yield BadInput(kind, "over-4GiB-after-tar-end", path, f"more than {MAX_TOTAL_BYTES} bytes")


def build(root: Path, *, bombs: bool = False) -> list[BadInput]:
    """Every hostile input, built under ``root`` (bombs: about 28 MB on disk, 6 GiB unpacked)."""
    families = [
        _tar_members(root),
        _damaged_archives(root),
        _directories(root),
        _not_jobs(root),
        _bad_samples(),
        _rows(root),
        _metadata(root),
        _pickles(root),
    ]
    if bombs:
        families.append(_bombs(root))
    return [bad for family in families for bad in family]


# ---------------------------------------------------------------- through the command line


def _env(connection: Connection) -> dict[str, str]:
    from campaign import cli_env

    env = cli_env(connection)
    env.pop("EPMT_TZ", None)  # the failed-exitcode sample is refused in the default zone
    return env


def _count_nodes(graph: Graph) -> int:
    return int(graph.driver.execute_query(_COUNT_NODES).records[0]["n"])


def try_input(graph: Graph, bad: BadInput, timeout: float = 600.0) -> Outcome:
    """``epmt-graph load BAD`` alone: its exit code, its error line, nodes it added."""
    before = _count_nodes(graph)
    result = subprocess.run(
        [sys.executable, "-m", "epmt_graph.cli", "load", str(bad.path)],
        capture_output=True,
        text=True,
        env=_env(graph.connection),
        timeout=timeout,
        check=False,
    )
    lines = result.stderr.strip().splitlines()
    error = lines[0] if len(lines) == 1 else result.stderr.strip()
    return Outcome(bad, result.returncode, error, _count_nodes(graph) - before)


def try_together(graph: Graph, bads: list[BadInput], timeout: float = 600.0) -> list[Outcome]:
    """All of ``bads`` (job archives and directories only) in one ``epmt-graph load``.

    The command goes on after a refused job, printing one error line each, in order; the
    exit code is shared, and so is the count of nodes written (attributed to every input).
    """
    before = _count_nodes(graph)
    result = subprocess.run(
        [sys.executable, "-m", "epmt_graph.cli", "load", *(str(b.path) for b in bads)],
        capture_output=True,
        text=True,
        env=_env(graph.connection),
        timeout=timeout,
        check=False,
    )
    wrote = _count_nodes(graph) - before
    lines = result.stderr.strip().splitlines()
    if len(lines) != len(bads):
        lines = [result.stderr.strip()] * len(bads)
    return [Outcome(b, result.returncode, e, wrote) for b, e in zip(bads, lines, strict=True)]
