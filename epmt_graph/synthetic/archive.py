"""Synthetic jobs as EPMT archives (``.tgz``), and the command line that writes them."""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import io
import pickle
import tarfile
import tempfile
import time
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from epmt_graph.errors import ConfigError
from epmt_graph.synthetic.catalog import GID, UID, USER
from epmt_graph.synthetic.generate import generate_job

__all__ = ["main", "write_archive"]


class _Protocol0Pickler(pickle.Pickler):
    """Pickles datetimes as ``datetime(y, m, d, ...)`` calls, not via ``_codecs.encode``."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, dt.datetime):
            t = (obj.year, obj.month, obj.day, obj.hour, obj.minute, obj.second, obj.microsecond)
            return dt.datetime, t
        return NotImplemented


def write_archive(
    path: str | PathLike[str],
    n_procs: int,
    *,
    seed: int = 0,
    jobid: str | None = None,
    max_depth: int | None = None,
    chain: int = 0,
) -> Path:
    """Write a synthetic job as an EPMT archive: a ``.tgz`` of ``job_metadata`` and the CSV.

    The arguments are those of :func:`generate_job`. The CSV streams through a temporary
    file; tar and gzip headers carry fixed times and owners, so the bytes depend only on the
    arguments.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tarfile, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     archive = write_archive(Path(d) / "job.tgz", 300, seed=2, jobid="42")
    ...     names = tarfile.open(archive).getnames()
    >>> names
    ['.', './job_metadata', './pp029-collated-papiex-42-0.csv']
    """
    path = Path(path)
    with tempfile.TemporaryFile() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        job = generate_job(n_procs, text, seed=seed, jobid=jobid, max_depth=max_depth, chain=chain)
        text.flush()
        text.detach()
        meta = io.BytesIO()
        _Protocol0Pickler(meta, protocol=0).dump(job.metadata)
        mtime = job.stop // 1_000_000
        with (
            path.open("wb") as fh,
            gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=6) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar,
        ):
            for name, size, data in (
                ("./", 0, None),
                ("./job_metadata", meta.tell(), meta),
                (f"./{job.csv_name}", raw.tell(), raw),
            ):
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.uid, info.gid = size, mtime, UID, GID
                info.uname, info.gname, info.mode = USER, "f", 0o644
                if data is None:
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                else:
                    data.seek(0)
                tar.addfile(info, data)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m epmt_graph.synthetic OUT.tgz --procs N [options]``."""
    parser = argparse.ArgumentParser(
        prog="python -m epmt_graph.synthetic", description="Write a synthetic EPMT job."
    )
    parser.add_argument("out", type=Path, help="the .tgz archive to write")
    parser.add_argument("--procs", type=int, default=50_000, help="processes (default 50000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--chain", type=int, default=0, help="add a chain this deep")
    parser.add_argument("--jobid", help="job id (default 900000 + seed)")
    parser.add_argument("--max-depth", type=int, help="deepest level of the operations")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    opts = {name: getattr(args, name) for name in ("seed", "jobid", "max_depth", "chain")}
    try:
        path = write_archive(args.out, args.procs, **opts)
    except ConfigError as exc:
        parser.error(str(exc))
    took = time.perf_counter() - began
    print(f"{path}: {args.procs} processes, {path.stat().st_size} bytes, {took:.1f} s")
    return 0
