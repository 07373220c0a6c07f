"""Safe opening of job archives and job directories (no Neo4j needed)."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
from constants import SAMPLES

from epmt_graph.errors import ArchiveError
from epmt_graph.loader import archive
from epmt_graph.loader.archive import MAX_MEMBER_BYTES, MAX_TOTAL_BYTES, iter_members, text_lines
from epmt_graph.loader.reader import read_job

ARCHIVES = sorted(p.relative_to(SAMPLES) for p in SAMPLES.rglob("*.tgz"))


@dataclass
class Files:
    source: str
    metadata: bytes | None = None
    papiex: dict[str, str] = field(default_factory=dict)


def read_job_files(path: Path, **limits: int) -> Files:
    """Every member of a job, read whole through the streaming API."""
    files = Files(str(path))
    for name, stream in iter_members(path, **limits):
        if name == "job_metadata":
            files.metadata = stream.read()
        else:
            files.papiex[name] = "".join(text_lines(stream, name))
    return files


def _tar(
    path: Path,
    members: list[tarfile.TarInfo | tuple[str, bytes]],
    mode: Literal["w:gz", "w"] = "w:gz",
) -> Path:
    """Write a tar whose members are TarInfo headers or ``(name, data)`` regular files."""
    with tarfile.open(path, mode) as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                tar.addfile(info, io.BytesIO(member[1]))
    return path


def _special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info


def test_limits_are_the_documented_defaults() -> None:
    assert (MAX_TOTAL_BYTES, MAX_MEMBER_BYTES) == (4 * 1024**3, 2 * 1024**3)


@pytest.mark.parametrize("rel", ARCHIVES, ids=[str(a) for a in ARCHIVES])
def test_sample_archives_match_tarfile(rel: Path) -> None:
    path = SAMPLES / rel
    files = read_job_files(path)
    with tarfile.open(path) as tar:
        expected = {
            m.name.removeprefix("./"): tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }
    assert files.source == str(path)
    assert files.metadata == expected.pop("job_metadata")
    assert {k: v.encode() for k, v in files.papiex.items()} == expected


def test_v2_archive_has_data_and_header() -> None:
    files = read_job_files(SAMPLES / "tsv/collated-tsv-2220.tgz")
    assert sorted(files.papiex) == ["perftools.org-papiex-header.tsv", "perftools.org-papiex.tsv"]


@pytest.mark.parametrize("folder", ["submit/3455", "tsv/12340", "corrupted_csv"])
def test_job_directories(folder: str) -> None:
    path = SAMPLES / folder
    files = read_job_files(path)
    assert files.metadata == (path / "job_metadata").read_bytes()
    on_disk = sorted(p.name for p in path.iterdir() if p.name != "job_metadata")
    assert sorted(files.papiex) == on_disk
    for name, text in files.papiex.items():
        assert text == (path / name).read_text()


def test_directory_without_metadata() -> None:
    with pytest.raises(ArchiveError, match=r"epmt-samples/csv: missing job_metadata"):
        read_job(SAMPLES / "csv")


def test_archive_without_metadata(tmp_path: Path) -> None:
    path = _tar(tmp_path / "no-meta.tgz", [("./h-papiex-1-0.csv", b"tags\n")])
    with pytest.raises(ArchiveError, match=r"no-meta\.tgz: missing job_metadata"):
        read_job(path)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="no such archive"):
        read_job_files(tmp_path / "nope.tgz")


def test_other_members_are_ignored(tmp_path: Path) -> None:
    path = _tar(
        tmp_path / "job.tgz",
        [
            ("./job_metadata", b"meta"),
            ("./notes.txt", b"ignored"),
            ("./sub/h-papiex-1-0.csv", b"nested, ignored"),
            _special("./sub", tarfile.DIRTYPE),
        ],
    )
    assert {name for name, _ in iter_members(path)} == {"job_metadata"}


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (("../x", b"evil"), r"unsafe member path '\.\./x'"),
        (("./a/../../job_metadata", b"evil"), "unsafe member path"),
        (("/etc/job_metadata", b"evil"), r"unsafe member path '/etc/job_metadata'"),
        (_special("./job_metadata", tarfile.SYMTYPE, "/etc/passwd"), "is a link"),
        (_special("./h-papiex-1-0.csv", tarfile.LNKTYPE, "job_metadata"), "is a link"),
        (_special("./dev", tarfile.CHRTYPE), "device file or FIFO"),
        (_special("./disk", tarfile.BLKTYPE), "device file or FIFO"),
        (_special("./fifo", tarfile.FIFOTYPE), "device file or FIFO"),
    ],
    ids=["dotdot", "dotdot-inside", "absolute", "symlink", "hardlink", "chr", "blk", "fifo"],
)
def test_unsafe_members_are_refused(
    tmp_path: Path, member: tarfile.TarInfo | tuple[str, bytes], message: str
) -> None:
    path = _tar(tmp_path / "evil.tgz", [("./job_metadata", b"meta"), member])
    with pytest.raises(ArchiveError, match=message) as info:
        read_job_files(path)
    assert str(path) in str(info.value)
    assert not (tmp_path / "x").exists()


def test_duplicate_member_is_refused(tmp_path: Path) -> None:
    path = _tar(tmp_path / "dup.tgz", [("./job_metadata", b"a"), ("job_metadata", b"b")])
    with pytest.raises(ArchiveError, match="appears twice"):
        read_job_files(path)


def test_gzip_bomb_member_is_stopped(tmp_path: Path) -> None:
    path = _tar(tmp_path / "bomb.tgz", [("./job_metadata", bytes(64 * 1024**2))])
    assert path.stat().st_size < 200 * 1024  # tiny compressed, 64 MiB uncompressed
    with pytest.raises(ArchiveError, match=r"bomb\.tgz: member 'job_metadata' is 67108864 bytes"):
        read_job_files(path, max_member_bytes=1024**2)


def test_gzip_bomb_total_is_stopped(tmp_path: Path) -> None:
    members = [(f"./h{i}-papiex-{i}-0.csv", bytes(600 * 1024)) for i in range(4)]
    path = _tar(tmp_path / "bomb.tgz", [("./job_metadata", b"m"), *members])
    with pytest.raises(ArchiveError, match=r"bomb\.tgz: more than 1048576 bytes uncompressed"):
        read_job_files(path, max_total_bytes=1024**2)


def test_bomb_after_the_tar_end_is_stopped(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w") as tar:
        info = tarfile.TarInfo("./job_metadata")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"meta"))
    path = tmp_path / "trailing.tgz"
    path.write_bytes(gzip.compress(inner.getvalue() + bytes(32 * 1024**2)))
    with pytest.raises(ArchiveError, match="more than 1048576 bytes uncompressed"):
        read_job_files(path, max_total_bytes=1024**2)


@pytest.mark.parametrize("keep", [0.5, 0.999])
def test_truncated_archive(tmp_path: Path, keep: float) -> None:
    data = (SAMPLES / "query/685000.tgz").read_bytes()
    path = tmp_path / "cut.tgz"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ArchiveError, match=r"cut\.tgz: corrupt or truncated archive"):
        read_job_files(path)


def test_gzip_trailer_damage_is_noticed(tmp_path: Path) -> None:
    data = bytearray((SAMPLES / "query/685000.tgz").read_bytes())
    data[-6] ^= 0xFF  # CRC32 of the uncompressed data
    path = tmp_path / "crc.tgz"
    path.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match=r"crc\.tgz: corrupt or truncated archive"):
        read_job_files(path)


def test_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "job.tgz"
    path.write_text("just some text, not a tar\n" * 50)
    with pytest.raises(ArchiveError, match=r"job\.tgz: corrupt or truncated archive"):
        read_job_files(path)


def test_plain_tar_is_accepted(tmp_path: Path) -> None:
    path = _tar(tmp_path / "job.tar", [("./job_metadata", b"m"), ("./h-papiex.tsv", b"x")], "w")
    assert read_job_files(path).papiex == {"h-papiex.tsv": "x"}


def test_non_utf8_papiex_file(tmp_path: Path) -> None:
    path = _tar(
        tmp_path / "job.tgz", [("./job_metadata", b"m"), ("./h-papiex-1-0.csv", b"a\nb\n\xff\n")]
    )
    with pytest.raises(ArchiveError, match=r"h-papiex-1-0\.csv: line 3: not valid UTF-8"):
        read_job_files(path)


def test_directory_refuses_symlinks_and_fifos(tmp_path: Path) -> None:
    job = tmp_path / "job"
    shutil.copytree(SAMPLES / "submit/3455", job)
    (job / "h-papiex-1-0.csv").symlink_to("/etc/passwd")
    with pytest.raises(ArchiveError, match=r"h-papiex-1-0\.csv: not a regular file"):
        read_job_files(job)
    (job / "h-papiex-1-0.csv").unlink()
    os.mkfifo(job / "h-papiex-2-0.csv")
    with pytest.raises(ArchiveError, match="not a regular file"):
        read_job_files(job)


def test_directory_size_limits(tmp_path: Path) -> None:
    job = tmp_path / "job"
    shutil.copytree(SAMPLES / "tsv/12340", job)
    with pytest.raises(ArchiveError, match="max_member_bytes"):
        read_job_files(job, max_member_bytes=1000)
    with pytest.raises(ArchiveError, match="exceed the size limits"):
        read_job_files(job, max_total_bytes=5000)


@pytest.mark.parametrize("chunk", [1, 2, 7, 64])
def test_text_lines_across_chunks(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    text = "a,b\r\nc\u00e9,\u4e2d\n\nlone\rcr\n\u00e9\u00e9\u00e9 no end"
    monkeypatch.setattr(archive, "_CHUNK", chunk)
    lines = list(text_lines(io.BytesIO(text.encode()), "f.csv"))
    assert lines == list(io.StringIO(text, newline=""))


@pytest.mark.parametrize("chunk", [3, 1024])
def test_text_lines_names_the_bad_line(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(archive, "_CHUNK", chunk)
    data = b"one\ntwo\nthree\nfo\xffur\nfive\n"
    with pytest.raises(ArchiveError, match=r"f\.csv: line 4: not valid UTF-8"):
        list(text_lines(io.BytesIO(data), "f.csv"))


def test_directory_yields_metadata_first() -> None:
    names = [name for name, _ in iter_members(SAMPLES / "tsv/12340")]
    assert names[0] == "job_metadata" and names[1:] == sorted(names[1:])
