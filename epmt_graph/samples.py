"""The EPMT sample job archives, taken from the ``epmt`` 5.0.1 wheel on PyPI.

The wheel ships EPMT's test data; :func:`epmt_wheel` downloads it once with
``pip download --no-deps`` (never installed) and checks its sha256, and :func:`sample_dir`
unpacks the job archives into the cache. ``EPMT_SAMPLES`` names
a folder with the same layout to use instead (CI points it at its shared copy).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from epmt_graph.config import cache_dir
from epmt_graph.errors import ConfigError

__all__ = ["EPMT_WHEEL", "EPMT_WHEEL_SHA256", "SAMPLE_FOLDERS", "epmt_wheel", "sample_dir"]

EPMT_WHEEL = "epmt==5.0.1"
#: The sha256 of ``epmt-5.0.1-py3-none-any.whl`` as PyPI serves it.
EPMT_WHEEL_SHA256 = "790953872163362acea9b57bca2552d2483bc453848d514d4b6643fbe3a08364"
#: The folders of EPMT's test data that hold jobs of the query workbook's series.
SAMPLE_FOLDERS = ("query", "submit", "daemon", "misc", "tsv", "csv", "corrupted_csv")
_PREFIX = "epmt/test/data/"


def sample_dir() -> Path:
    """A folder holding the sample jobs (``query/``, ``submit/``, ...), fetched if needed.

    Raises
    ------
    ConfigError
        If ``EPMT_SAMPLES`` names a missing folder, or the wheel cannot be downloaded.
    """
    if env := os.environ.get("EPMT_SAMPLES"):
        path = Path(env)
        if not (path / "query").is_dir():
            raise ConfigError(f"EPMT_SAMPLES={env} has no query/ folder of job archives")
        return path
    target = cache_dir() / "epmt-samples"
    if (target / ".complete").exists():
        return target
    wheel = epmt_wheel()
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            relative = member.filename.removeprefix(_PREFIX)
            if member.is_dir() or relative == member.filename:
                continue
            if relative.split("/")[0] not in SAMPLE_FOLDERS or ".." in relative.split("/"):
                continue
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.read(member))
    (target / ".complete").write_text(EPMT_WHEEL + "\n")
    return target


def epmt_wheel() -> Path:
    """The ``epmt`` 5.0.1 wheel, downloaded once into the cache's ``wheels/`` folder.

    Raises
    ------
    ConfigError
        If it cannot be downloaded, or its sha256 is not :data:`EPMT_WHEEL_SHA256`.
    """
    wheel = _download_wheel(cache_dir() / "wheels")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != EPMT_WHEEL_SHA256:
        raise ConfigError(f"{wheel}: sha256 {digest}, expected {EPMT_WHEEL_SHA256}")
    return wheel


def _download_wheel(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    found = sorted(folder.glob("epmt-5.0.1-*.whl"))
    if found:
        return found[0]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder)]
    result = subprocess.run([*command, EPMT_WHEEL], capture_output=True, text=True, check=False)
    found = sorted(folder.glob("epmt-5.0.1-*.whl"))
    if result.returncode != 0 or not found:
        raise ConfigError(f"could not download {EPMT_WHEEL} from PyPI: {result.stderr[-500:]}")
    return found[0]
