"""The columnar reader's three ways (typed, text, csv) and its first-bad-line rule.

A sample job rewritten in forms that :mod:`csv` reads to the same rows (checked here first:
CRLF line ends, quoted fields, integers with blanks, chunks of a few lines) must read to
the same job as the original, whose values ``test_reader`` checks against pandas; and of
two faults in a file, the one a row-at-a-time reader meets first is the one reported.
"""

from __future__ import annotations

import csv
import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from constants import SAMPLES
from test_reader import HEADER, T0, S, csv_job, make_job, proc, thread

from epmt_graph.errors import ArchiveError
from epmt_graph.loader import archive
from epmt_graph.loader.reader import read_job

ORIGINAL = SAMPLES / "query/685000.tgz"
Rows = list[list[str]]


def _members() -> dict[str, bytes]:
    with tarfile.open(ORIGINAL) as tar:
        return {
            Path(m.name).name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def _rows(data: bytes) -> Rows:
    return list(csv.reader(io.StringIO(data.decode(), newline=""), escapechar="\\"))


def _rewrite(tmp_path: Path, change: Callable[[Rows], bytes]) -> Path:
    """The sample job as a directory, its CSV rewritten by ``change`` (checked to read, with
    :mod:`csv`, to the same rows with the same integers)."""
    job = tmp_path / "job"
    job.mkdir()
    for name, data in _members().items():
        if name.endswith(".csv"):
            rows = _rows(data)
            data = change(rows)
            again = _rows(data)
            assert [_strip(r, rows[0]) for r in again if r] == [r for r in rows if r]
        (job / name).write_bytes(data)
    return job


TEXT = {"tags", "hostname", "exename", "path", "args"}


def _strip(row: list[str], header: list[str]) -> list[str]:
    """``row`` with blanks around its integers removed, as ``int()`` ignores them."""
    return [v if name in TEXT else v.strip() for name, v in zip(header, row, strict=True)]


def _write(rows: Rows, **dialect: object) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, escapechar="\\", **dialect).writerows(rows)  # type: ignore[arg-type]
    return out.getvalue().encode()


def _blank_integers(rows: Rows) -> bytes:
    header = rows[0]
    spaced = [
        [v if header[i] in TEXT or not v else f" {v}" for i, v in enumerate(row)]
        for row in rows[1:]
    ]
    return _write([header, *spaced], quoting=csv.QUOTE_NONE)


REWRITES: dict[str, Callable[[Rows], bytes]] = {
    "crlf": lambda rows: _write(rows, quoting=csv.QUOTE_NONE, lineterminator="\r\n"),
    "quoted": lambda rows: _write(rows, quoting=csv.QUOTE_ALL),
    "blank-integers": _blank_integers,
}


@pytest.fixture(scope="module")
def original() -> tuple[dict[str, object], list[dict[str, object]]]:
    rows = read_job(ORIGINAL)
    return rows.job, list(rows.processes)


@pytest.mark.parametrize("kind", REWRITES)
def test_rewritten_job_reads_the_same(
    tmp_path: Path, kind: str, original: tuple[dict[str, object], list[dict[str, object]]]
) -> None:
    job = read_job(_rewrite(tmp_path, REWRITES[kind]))
    assert job.job == original[0]
    assert list(job.processes) == original[1]


@pytest.mark.parametrize("chunk", [700, 4096])
def test_processes_across_small_chunks(
    monkeypatch: pytest.MonkeyPatch,
    chunk: int,
    original: tuple[dict[str, object], list[dict[str, object]]],
) -> None:
    """A few lines a chunk: multi-threaded processes begin in one chunk and end in another."""
    monkeypatch.setattr(archive, "_CHUNK", chunk)
    job = read_job(ORIGINAL)
    assert job.job == original[0]
    assert list(job.processes) == original[1]


def test_hexadecimal_is_not_an_integer(tmp_path: Path) -> None:
    row = proc(1, 0, 1, 2).replace(",10,5,", ",0x10,5,")
    with pytest.raises(ArchiveError, match=r"line 2: non-numeric value '0x10' in column usertime"):
        read_job(csv_job(tmp_path, row))


def test_integers_as_int_reads_them(tmp_path: Path) -> None:
    row = proc(1, 0, 1, 2).replace(",10,5,", ", 1_0,5 ,")
    (p,) = read_job(csv_job(tmp_path, row)).processes
    assert (p["usertime"], p["systemtime"]) == (10, 5)


def test_a_metric_beyond_64_bits(tmp_path: Path) -> None:
    row = proc(2, 1, 5, 6).replace(",10,5,", f",10,{2**64},")
    path = csv_job(tmp_path, proc(1, 0, 5, 6), row)
    with pytest.raises(ArchiveError, match=r"line 3: an id, time or CPU time does not fit 64 bits"):
        read_job(path)


def test_summed_cpu_beyond_64_bits(tmp_path: Path) -> None:
    big = 2**62 + 1
    path = csv_job(
        tmp_path,
        proc(1, 0, 5, 6, numtids=2, user=big),
        thread(2, 5, 6, user=big),
    )
    with pytest.raises(ArchiveError, match=r"line 2: an id, time or CPU time does not fit 64 bits"):
        read_job(path)


def test_a_process_outside_the_job_before_a_bad_value(tmp_path: Path) -> None:
    """Read a row at a time, the process of line 3 is refused before line 5 is read."""
    bad = proc(4, 1, 1, 2).replace(",10,5,", ",abc,5,")
    path = csv_job(tmp_path, proc(1, 0, 1, 9), proc(2, 1, -1, 2), proc(3, 1, 1, 2), bad)
    with pytest.raises(ArchiveError, match=r"line 3: corrupted file"):
        read_job(path)


def test_a_bad_value_inside_a_process_outside_the_job(tmp_path: Path) -> None:
    """The process of lines 2-3 is whole only after line 3, whose bad value comes first."""
    bad = thread(3, 1, 2).replace(",1,2,", ",x,2,", 1)
    path = csv_job(tmp_path, proc(2, 1, -1, 2, numtids=2), bad)
    with pytest.raises(ArchiveError, match=r"line 3: non-numeric value 'x' in column usertime"):
        read_job(path)


def test_an_unreadable_record_after_quoted_ones(tmp_path: Path) -> None:
    quoted = proc(1, 0, 1, 2).replace(",arg,", ',"a, b",')
    text = "\n".join([HEADER, quoted, proc(2, 1, 1, 2) + ",extra"]) + "\n"
    with pytest.raises(ArchiveError, match=r"line 3: 42 fields, expected 41"):
        read_job(make_job(tmp_path, {"h1-papiex-77-0.csv": text}))


def test_quoted_field_across_lines(tmp_path: Path) -> None:
    quoted = proc(1, 0, 1, 2).replace(",arg,", ',"two\nlines",')
    job = read_job(make_job(tmp_path, {"h1-papiex-77-0.csv": f"{HEADER}\n{quoted}\n"}))
    (p,) = job.processes
    assert p["args"] == "two\nlines"
    assert (p["start"], p["end"]) == (T0 + S, T0 + 2 * S)
