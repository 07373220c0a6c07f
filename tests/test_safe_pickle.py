"""The restricted ``job_metadata`` unpickler: every sample loads, nothing else runs."""

from __future__ import annotations

import datetime as dt
import os
import pickle
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
from constants import SAMPLES

from epmt_graph.errors import ArchiveError, UnsafePickleError
from epmt_graph.loader.safe_pickle import load_metadata


def _sample_metadata() -> list[tuple[str, bytes]]:
    """``(label, raw job_metadata)`` of every sample archive and job directory."""
    found = []
    for path in sorted(SAMPLES.rglob("*")):
        if path.suffix == ".tgz":
            with tarfile.open(path) as tar:
                member = tar.extractfile("./job_metadata")
                assert member is not None
                found.append((str(path.relative_to(SAMPLES)), member.read()))
        elif path.name == "job_metadata":
            found.append((str(path.relative_to(SAMPLES)), path.read_bytes()))
    return found


SAMPLE_METADATA = _sample_metadata()


def test_every_sample_is_found() -> None:
    # 14 archives + submit/3455, tsv/12340, corrupted_csv (csv/ has no job_metadata)
    assert len(SAMPLE_METADATA) == 17


@pytest.mark.parametrize(("label", "raw"), SAMPLE_METADATA, ids=[s[0] for s in SAMPLE_METADATA])
def test_every_sample_loads(label: str, raw: bytes) -> None:
    meta = load_metadata(raw, source=label)
    assert all(isinstance(k, str) for k in meta)
    for key in ("job_pl_id", "job_pl_start_ts", "job_el_stop_ts", "job_pl_env", "job_el_env"):
        assert key in meta
    assert isinstance(meta["job_pl_start_ts"], dt.datetime)
    assert meta["job_pl_start_ts"] <= meta["job_el_stop_ts"]
    env = meta["job_pl_env"]
    assert env and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())


def test_python2_metadata_values() -> None:
    # Values EPMT's own test suite expects for job 685000 (test_submit.test_all_job_data).
    raw = dict(SAMPLE_METADATA)["query/685000.tgz"]
    assert raw.startswith(b"(dp0\n")  # protocol 0, written by Python 2
    meta = load_metadata(raw, source="685000")
    assert meta["job_pl_id"] == "685000"
    assert meta["job_pl_start_ts"] == dt.datetime(2019, 6, 15, 7, 52, 4, 73965)
    assert meta["job_el_stop_ts"] == dt.datetime(2019, 6, 15, 9, 39, 44, 317282)
    assert meta["job_el_exitcode"] == 0 and meta["job_el_reason"] == "none"
    assert meta["job_pl_env"]["SLURM_JOB_NAME"] == (
        "ESM4_historical_D151_ocean_annual_rho2_1x1deg_18840101"
    )
    assert meta["job_el_env"]["EPMT_JOB_TAGS"].startswith("exp_name:ESM4_historical_D151;")


def test_python3_metadata_with_aware_times() -> None:
    meta = load_metadata(dict(SAMPLE_METADATA)["tsv/collated-tsv-2220.tgz"], source="2220")
    ist = dt.timezone(dt.timedelta(hours=5, minutes=30), "IST")
    assert meta["job_pl_start_ts"] == dt.datetime(2020, 6, 8, 10, 33, 54, 355139, tzinfo=ist)
    assert meta["job_tags"] is None and meta["checked"] is True
    assert meta["job_env_changes"] == {}


def test_python2_utf8_str_is_decoded() -> None:
    raw = b"(dp0\nS'name'\np1\nS'caf\\xc3\\xa9'\np2\ns."
    assert load_metadata(raw, source="x") == {"name": "café"}
    latin1 = b"(dp0\nS'name'\np1\nS'caf\\xe9'\np2\ns."
    assert load_metadata(latin1, source="x") == {"name": "café"}


class _RunsCommand:
    """Pickles to a call of ``os.system(command)``, as a hostile archive would."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, (self.command,))


class _Spawns:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, tuple[list[str]]]:
        return (subprocess.Popen, (["touch", self.command],))


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_os_system_never_runs(tmp_path: Path, protocol: int) -> None:
    sentinel = tmp_path / "pwned"
    payload = {"job_pl_id": "1", "job_pl_env": _RunsCommand(f"touch {sentinel}")}
    raw = pickle.dumps(payload, protocol=protocol)
    with pytest.raises(UnsafePickleError, match=r"posix\.system|os\.system") as info:
        load_metadata(raw, source="evil/job_metadata")
    assert "evil/job_metadata" in str(info.value)
    assert not sentinel.exists()


@pytest.mark.parametrize("protocol", [0, 4])
def test_subprocess_never_runs(tmp_path: Path, protocol: int) -> None:
    sentinel = tmp_path / "pwned"
    raw = pickle.dumps(_Spawns(str(sentinel)), protocol=protocol)
    # protocols < 3 write Python 2 names: subprocess.Popen becomes commands.Popen
    with pytest.raises(UnsafePickleError, match=r"(subprocess|commands)\.Popen"):
        load_metadata(raw, source="x")
    assert not sentinel.exists()


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        (b"cos\nsystem\n(S'true'\ntR.", "os.system"),
        (b"cbuiltins\neval\n(S'1+1'\ntR.", "builtins.eval"),
        (b"c__builtin__\neval\n(S'1+1'\ntR.", "__builtin__.eval"),
        (b"ccopy_reg\n_reconstructor\n(c__builtin__\nobject\nNtR.", "copy_reg._reconstructor"),
        (b"c__builtin__\nset\n((lp0\nI1\natR.", "__builtin__.set"),
        (b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x8c\x06system\x93.", "os.system"),
        (b"(cos\nsystem\nS'true'\no.", "os.system"),  # OBJ opcode
        (b"(ios\nsystem\nS'true'\n.", "os.system"),  # INST opcode
    ],
)
def test_forbidden_globals(raw: bytes, named: str) -> None:
    with pytest.raises(UnsafePickleError, match=named.replace(".", r"\.")):
        load_metadata(raw, source="x")


def test_persistent_id_is_refused() -> None:
    with pytest.raises(UnsafePickleError, match="persistent id"):
        load_metadata(b"Pfoo\n.", source="x")


@pytest.mark.parametrize(
    "raw",
    [b"", b"(dp0\nS'job_pl_id'\np1\n", b"not a pickle at all", b"\x80\x05\xff"],
    ids=["empty", "truncated", "garbage", "bad-opcode"],
)
def test_corrupt_pickle_is_an_archive_error(raw: bytes) -> None:
    with pytest.raises(ArchiveError, match="x: job_metadata is not a readable pickle") as info:
        load_metadata(raw, source="x")
    assert not isinstance(info.value, UnsafePickleError)
    assert info.value.__cause__ is not None


def test_truncated_sample_is_an_archive_error() -> None:
    raw = dict(SAMPLE_METADATA)["query/685000.tgz"]
    with pytest.raises(ArchiveError):
        load_metadata(raw[: len(raw) // 2], source="x")


def test_not_a_dict() -> None:
    with pytest.raises(ArchiveError, match="holds a list, not a dict"):
        load_metadata(pickle.dumps([1, 2], protocol=0), source="x")


def test_deep_nesting_is_refused() -> None:
    value: Any = "leaf"
    for _ in range(100):
        value = [value]
    with pytest.raises(ArchiveError, match="too deep or too large"):
        load_metadata(pickle.dumps({"k": value}, protocol=0), source="x")


def test_shared_reference_blowup_is_refused() -> None:
    # 2**40 leaves reachable through 40 levels of shared references, in a few hundred bytes
    value: Any = ["x"]
    for _ in range(30):
        value = [value, value]
    raw = pickle.dumps({"k": value}, protocol=2)
    assert len(raw) < 1000
    with pytest.raises(ArchiveError, match="too deep or too large"):
        load_metadata(raw, source="x")
