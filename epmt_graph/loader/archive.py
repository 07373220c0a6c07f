"""Open an EPMT job archive (``.tgz``/``.tar.gz``/``.tar``) or job directory safely.

Only two kinds of member matter to the loader: ``job_metadata`` and the papiex files
(EPMT's ``*-papiex*.[ct]sv`` pattern, which also matches the v2 ``*-papiex-header.tsv``).
Both must sit at the top level of the archive, as EPMT looks them up there.

Nothing is ever extracted to disk. A tar member is refused (:class:`ArchiveError`) if
its name is absolute or has a ``..`` component, or if it is a symlink, hardlink, device
file, FIFO or sparse file, wherever it sits in the archive. Decompression bombs are
stopped by counting every decompressed byte against ``max_total_bytes`` and refusing any
member larger than ``max_member_bytes``; the whole compressed stream is read to its end
so that a truncated or corrupt gzip is always noticed.
"""

from __future__ import annotations

import fnmatch
import gzip
import io
import os
import stat
import tarfile
import zlib
from collections.abc import Iterator
from typing import Protocol

from epmt_graph.errors import ArchiveError

__all__ = [
    "ARCHIVE_SUFFIXES",
    "MAX_MEMBER_BYTES",
    "MAX_TOTAL_BYTES",
    "METADATA_NAME",
    "PAPIEX_PATTERN",
    "Readable",
    "iter_members",
    "text_chunks",
    "text_lines",
]

#: The names of job archives (as opposed to job directories), as found in folders.
ARCHIVE_SUFFIXES = (".tgz", ".tar.gz")
#: Cap on the uncompressed size of a whole archive (or the relevant files of a directory).
MAX_TOTAL_BYTES = 4 * 1024**3
#: Cap on one member's uncompressed size.
MAX_MEMBER_BYTES = 2 * 1024**3
#: Name of the pickled job metadata member.
METADATA_NAME = "job_metadata"
#: EPMT's ``settings.input_pattern`` for papiex data (and v2 header) files.
PAPIEX_PATTERN = "*-papiex*.[ct]sv"

_GZIP_MAGIC = b"\x1f\x8b"
#: What reading a damaged archive raises.
_BROKEN = (tarfile.TarError, EOFError, zlib.error, OSError)
_CHUNK = 1024 * 1024


def _wanted(name: str) -> bool:
    return name == METADATA_NAME or fnmatch.fnmatchcase(name, PAPIEX_PATTERN)


class Readable(Protocol):
    """A binary stream, as much as the loader needs of one."""

    def read(self, size: int = -1, /) -> bytes:
        """At most ``size`` bytes (all that are left for -1); ``b""`` at the end."""
        ...


class _LimitedReader:
    """A read-only file wrapper that fails once more than ``limit`` bytes were read."""

    def __init__(self, raw: Readable, limit: int, source: str) -> None:
        self._raw = raw
        self._limit = limit
        self._source = source
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        want = self._limit - self.count + 1 if size < 0 else size
        data = self._raw.read(min(want, self._limit - self.count + 1))
        self.count += len(data)
        if self.count > self._limit:
            raise ArchiveError(
                f"{self._source}: more than {self._limit} bytes uncompressed "
                "(max_total_bytes); refusing a possible decompression bomb"
            )
        return data

    def drain(self) -> None:
        """Read to the end of the stream (so gzip checks its CRC and length)."""
        while self.read(_CHUNK):
            pass


class _Guarded:
    """A tar member's stream whose read errors name the archive as corrupt or truncated."""

    def __init__(self, raw: Readable, path: str) -> None:
        self._raw = raw
        self._path = path

    def read(self, size: int = -1) -> bytes:
        try:
            return self._raw.read(size)
        except _BROKEN as exc:
            raise ArchiveError(f"{self._path}: corrupt or truncated archive: {exc}") from exc


def _member_name(info: tarfile.TarInfo, source: str) -> str:
    name = info.name
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") or ".." in parts or "\\" in name or "\x00" in name:
        raise ArchiveError(f"{source}: unsafe member path {name!r}")
    if info.issym() or info.islnk():
        raise ArchiveError(f"{source}: member {name!r} is a link (to {info.linkname!r})")
    if info.isdev():
        raise ArchiveError(f"{source}: member {name!r} is a device file or FIFO")
    if info.issparse():
        raise ArchiveError(f"{source}: member {name!r} is a sparse file")
    if not (info.isfile() or info.isdir()):
        raise ArchiveError(f"{source}: member {name!r} has unsupported type {info.type!r}")
    return "/".join(parts)


def _iter_tar(path: str, max_total: int, max_member: int) -> Iterator[tuple[str, Readable]]:
    with open(path, "rb") as fh:
        compressed = fh.read(2) == _GZIP_MAGIC
        fh.seek(0)
        raw: Readable = gzip.GzipFile(fileobj=fh, mode="rb") if compressed else fh
        limited = _LimitedReader(raw, max_total, path)
        seen: set[str] = set()
        try:
            # Stream mode: members are read in order, never seeked, never extracted.
            with tarfile.open(fileobj=limited, mode="r|") as tar:  # type: ignore[call-overload]
                for info in tar:
                    name = _member_name(info, path)
                    if info.isdir() or "/" in name or not _wanted(name):
                        continue
                    if info.size > max_member:
                        raise ArchiveError(
                            f"{path}: member {name!r} is {info.size} bytes uncompressed, over "
                            f"the {max_member}-byte limit (max_member_bytes)"
                        )
                    if name in seen:
                        raise ArchiveError(f"{path}: member {name!r} appears twice")
                    seen.add(name)
                    member = tar.extractfile(info)
                    if member is None:  # pragma: no cover - regular files always have data
                        raise ArchiveError(f"{path}: cannot read member {name!r}")
                    yield name, _Guarded(member, path)
            limited.drain()
        except ArchiveError:
            raise
        except _BROKEN as exc:
            raise ArchiveError(f"{path}: corrupt or truncated archive: {exc}") from exc


def _iter_dir(path: str, max_total: int, max_member: int) -> Iterator[tuple[str, Readable]]:
    names = _dir_names(path)
    sizes = {}
    for name in names:
        full = os.path.join(path, name)
        st = os.lstat(full)
        if not stat.S_ISREG(st.st_mode):
            raise ArchiveError(f"{full}: not a regular file (symlink, FIFO, device or directory)")
        if st.st_size > max_member:
            raise ArchiveError(
                f"{full}: {st.st_size} bytes, over the {max_member}-byte limit (max_member_bytes)"
            )
        sizes[name] = st.st_size
    if sum(sizes.values()) > max_total:
        raise ArchiveError(f"{path}: the job's files exceed the size limits (max_total_bytes)")
    for name in names:
        full = os.path.join(path, name)
        fd = os.open(full, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as fh:
            yield name, _LimitedReader(fh, sizes[name], full)


def _dir_names(path: str) -> list[str]:
    """The wanted files of a job directory: ``job_metadata`` first, then by name."""
    with os.scandir(path) as entries:
        names = sorted(e.name for e in entries if _wanted(e.name))
    return sorted(names, key=lambda name: name != METADATA_NAME)


def iter_members(
    path: str | os.PathLike[str],
    *,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_member_bytes: int = MAX_MEMBER_BYTES,
) -> Iterator[tuple[str, Readable]]:
    """Yield ``(name, stream)`` for each loader-relevant top-level file of a job.

    Parameters
    ----------
    path : str or os.PathLike
        A tar archive (gzip-compressed or not) or a job directory.
    max_total_bytes : int, optional
        Cap on all uncompressed bytes read (the whole tar stream for archives).
    max_member_bytes : int, optional
        Cap on one member's size.

    Yields
    ------
    tuple of (str, file)
        The member's file name and a binary stream of its content, for ``job_metadata``
        and papiex files. A stream can be read only until the next member is asked for
        (tar archives are read in one pass). A directory yields ``job_metadata`` first, an
        archive its members in their order.

    Raises
    ------
    ArchiveError
        If the path is missing, a member is unsafe, a limit is exceeded, or the archive
        is corrupt or truncated. The message names the archive.
    """
    src = os.fspath(path)
    if os.path.isdir(src):
        yield from _iter_dir(src, max_total_bytes, max_member_bytes)
    elif os.path.isfile(src):
        yield from _iter_tar(src, max_total_bytes, max_member_bytes)
    else:
        raise ArchiveError(f"{src}: no such archive or job directory")


def text_chunks(stream: Readable, label: str) -> Iterator[bytes]:
    """The bytes of a UTF-8 member, a chunk of whole lines at a time.

    Each chunk ends at a ``\n`` (the last one where the member ends); a line longer than a
    chunk comes whole in a larger one. Nothing is decoded but checked.

    Raises
    ------
    ArchiveError
        If the text is not UTF-8; the message names ``label`` and the line.
    """
    lines, rest = 0, b""
    while True:
        chunk = stream.read(_CHUNK)
        data = rest + chunk
        cut = data.rfind(b"\n") + 1 if chunk else len(data)
        data, rest = data[:cut], data[cut:]
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = lines + data.count(b"\n", 0, exc.start) + 1
            raise ArchiveError(f"{label}: line {line}: not valid UTF-8") from exc
        lines += data.count(b"\n")
        if data:
            yield data
        if not chunk:
            return


def text_lines(stream: Readable, label: str) -> Iterator[str]:
    """The lines of a UTF-8 member, with their endings, read a chunk at a time.

    Lines end as in ``open(..., newline="")``: at ``\n``, ``\r\n`` or a lone ``\r``,
    which is what :mod:`csv` expects.

    Raises
    ------
    ArchiveError
        If the text is not UTF-8; the message names ``label`` and the line.
    """
    for chunk in text_chunks(stream, label):
        yield from io.StringIO(chunk.decode("utf-8"), newline="")
