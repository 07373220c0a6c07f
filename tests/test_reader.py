"""read_job on every sample job and on hostile or odd jobs built here (no Neo4j needed).

Expectations come from outside the code under test: the counts and sums EPMT 5.0.1's own
test suite publishes for these jobs, and values computed here with pandas from the raw
papiex files.
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import json
import os
import pickle
import shutil
import tarfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from constants import SAMPLES

from epmt_graph.errors import ArchiveError, UnsafePickleError
from epmt_graph.loader.model import JobRows
from epmt_graph.loader.papiex import parse_csv
from epmt_graph.loader.reader import read_job
from epmt_graph.schema import PROCESS_METRICS, thread_rows

# papiex's CSV header (test_synthetic checks it is the one in the 685000 archive)
from epmt_graph.synthetic import HEADER

CSV_ARCHIVES = [
    "query/685000.tgz",
    "query/685003.tgz",
    "query/685016.tgz",
    "submit/692500.tgz",
    "submit/804268.tgz",
    "submit/804280.tgz",
    "daemon/627919.tgz",
    "daemon/ingest/691201.tgz",
    "daemon/ingest/692544.tgz",
    "misc/685000.tgz",
    "misc/685016.tgz",
]
TSV_JOBS = ["tsv/collated-tsv-2220.tgz", "tsv/12340", "submit/3455"]
EASTERN = ZoneInfo("US/Eastern")


def us(stamp: dt.datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    return (stamp - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


@pytest.fixture(scope="module")
def jobs() -> dict[str, JobRows]:
    """Every good sample job, read once."""
    return {rel: read_job(SAMPLES / rel) for rel in CSV_ARCHIVES + TSV_JOBS}


def raw_csv(rel: str) -> pd.DataFrame:
    """The papiex CSV of a sample archive, read with pandas."""
    with tarfile.open(SAMPLES / rel) as tar:
        (name,) = [n for n in tar.getnames() if n.endswith(".csv")]
        data = tar.extractfile(name).read()  # type: ignore[union-attr]
    return pd.read_csv(io.BytesIO(data), escapechar="\\", dtype={"tags": str, "args": str})


def raw_processes(df: pd.DataFrame) -> pd.DataFrame:
    """One row per process: the rows that set numtids, with the thread sums."""
    block = df["numtids"].notna().cumsum()
    sums = df.groupby(block)[["usertime", "systemtime"]].sum()
    procs = df[df["numtids"].notna()].copy()
    procs["cpu"] = (sums["usertime"] + sums["systemtime"]).to_numpy()
    procs["threads"] = df.groupby(block).size().to_numpy()
    for col in ("pid", "ppid", "numtids", "exitcode"):
        procs[col] = procs[col].astype("int64")
    procs["key"] = procs["hostname"] + ":" + procs["pid"].astype(str) + ":"
    procs["key"] += procs["start"].astype(str)
    return procs.reset_index(drop=True)


def expected_parents(procs: pd.DataFrame) -> dict[str, str | None]:
    """EPMT's rule, with pandas: among the processes of the same host whose pid is the
    ppid, the earliest-starting one whose end is after the child's start."""
    cand = procs[["hostname", "pid", "start", "end", "key"]]
    pairs = procs[["hostname", "ppid", "start", "key"]].merge(
        cand, left_on=["hostname", "ppid"], right_on=["hostname", "pid"], suffixes=("", "_p")
    )
    pairs = pairs[pairs["end"] > pairs["start"]].sort_values(["key", "start_p"], kind="stable")
    found = pairs.groupby("key")["key_p"].first().to_dict()
    return {k: found.get(k) for k in procs["key"]}


def key(proc: dict[str, Any]) -> str:
    return f"{proc['host']}:{proc['pid']}:{proc['start']}"


def parent_keys(job: JobRows) -> dict[str, str | None]:
    procs = job.processes
    return {
        key(p): None if job.parents[i] is None else key(procs[job.parents[i]])  # type: ignore[index]
        for i, p in enumerate(procs)
    }


# ---------------------------------------------------------------- EPMT's published values


def test_epmt_published_process_counts(jobs: dict[str, JobRows]) -> None:
    assert len(jobs["query/685016.tgz"].processes) == 3412
    assert len(jobs["query/685000.tgz"].processes) == 3480
    both = [*jobs["query/685000.tgz"].processes, *jobs["query/685003.tgz"].processes]
    assert sum(p["host"] in {"pp208", "pp212"} for p in both) == 7265


def test_685000_matches_epmt_reference(jobs: dict[str, JobRows]) -> None:
    """EPMT 5.0.1 test_submit.test_all_job_data's reference dict for job 685000."""
    job = jobs["query/685000.tgz"].job
    reference = {
        "majflt": 8, "systemtime": 41980075, "invol_ctxsw": 20900, "inblock": 13672,
        "vol_ctxsw": 770843, "read_bytes": 7000064, "PERF_COUNT_SW_CPU_CLOCK": 86903088007,
        "cancelled_write_bytes": 8925798400, "timeslices": 795433, "wchar": 15066048420,
        "guest_time": 0, "rssmax": 31621528, "num_threads": 3668, "write_bytes": 12254015488,
        "minflt": 4972187, "rdtsc_duration": -1, "usertime": 71155254,
        "time_oncpu": 115330986461, "outblock": 23933624, "delayacct_blkio_time": 0,
        "num_procs": 3480, "time_waiting": 10152666725, "syscr": 2182175,
        "rchar": 15458131996, "syscw": 897834, "processor": 0,
        "cpu_time": 113135329, "duration": 6460243317, "exitcode": 0,
        "jobname": "ESM4_historical_D151_ocean_annual_rho2_1x1deg_18840101",
        "user": "Jeffrey.Durachta", "tz": "US/Eastern",
    }  # fmt: skip
    assert {k: job[k] for k in reference} == reference
    assert job["start"] == us(dt.datetime(2019, 6, 15, 7, 52, 4, 73965, tzinfo=EASTERN))
    assert job["end"] == us(dt.datetime(2019, 6, 15, 9, 39, 44, 317282, tzinfo=EASTERN))
    assert job["submit"] == job["start"]
    assert job["tags"] == (
        "atm_res:c96l49;exp_component:ocean_annual_rho2_1x1deg;exp_name:ESM4_historical_D151;"
        "exp_time:18840101;ocn_res:0.5l75;"
        "script_name:ESM4_historical_D151_ocean_annual_rho2_1x1deg_18840101"
    )
    assert job["tag_pairs"] == job["tags"].split(";")
    annotations = json.loads(job["annotations_json"])
    assert annotations["EPMT_JOB_TAGS"] == job["tags"]
    assert annotations["papiex-error-process-ids"] == [22121, 23756, 24562, 26138]
    assert annotations["papiex-error"] == (
        "PAPI failed or misbehaved process closed a descriptor it did not own "
        "(rdtsc_duration < 0). 4 processes have potentially erroneous PAPI metric counts"
    )
    info = json.loads(job["info_json"])
    assert info["tz"] == "US/Eastern"
    assert info["status"] == {
        "exit_code": 0,
        "exit_reason": "none",
        "script_name": "ESM4_historical_D151_ocean_annual_rho2_1x1deg_18840101",
        "script_path": "/home/Jeffrey.Durachta/ESM4/DECK/ESM4_historical_D151/"
        "gfdl.ncrc4-intel16-prod-openmp/scripts/postProcess/"
        "ESM4_historical_D151_ocean_annual_rho2_1x1deg_18840101.tags",
    }
    assert info["metric_names"].split(",") == sorted(set(PROCESS_METRICS))
    assert json.loads(job["env_changes_json"]) == {}
    assert json.loads(job["env_json"])["SLURM_JOB_ID"] == "685000"
    assert job["analyses_json"] == "{}"
    assert sum(p["duration"] for p in jobs["query/685000.tgz"].processes) == 24717624686


def test_tsv_jobs_match_epmt_published_values(jobs: dict[str, JobRows]) -> None:
    collated = jobs["tsv/collated-tsv-2220.tgz"]
    assert len(collated.processes) == 2 and collated.job["rssmax"] == 9952
    assert jobs["submit/3455"].job["duration"] == 28111
    assert jobs["tsv/12340"].job["num_procs"] == 18
    # aware timestamps (+05:30, "IST"): EPMT records tz "IST"; we need a zone name
    assert json.loads(collated.job["info_json"])["tz"] == "IST"
    assert ZoneInfo(collated.job["tz"]).utcoffset(dt.datetime(2020, 6, 8)) == dt.timedelta(
        hours=5, minutes=30
    )


# ---------------------------------------------------------------- against the raw files


@pytest.mark.parametrize("rel", CSV_ARCHIVES)
def test_csv_jobs_against_pandas(jobs: dict[str, JobRows], rel: str) -> None:
    job = jobs[rel]
    df = raw_csv(rel)
    procs = raw_processes(df)
    assert job.job["num_procs"] == len(job.processes) == len(procs)
    assert job.job["num_threads"] == len(df) == procs["numtids"].sum()
    assert job.job["cpu_time"] == df["usertime"].sum() + df["systemtime"].sum()
    for metric in PROCESS_METRICS:
        if metric != "rdtsc_duration":  # EPMT's -1 rule, checked separately
            assert job.job[metric] == df[metric].sum(), metric
    mine = {key(p): p for p in job.processes}
    assert set(mine) == set(procs["key"])
    for row in procs.itertuples():
        p = mine[str(row.key)]
        assert (p["cpu_time"], p["numtids"], p["exitcode"]) == (row.cpu, row.threads, row.exitcode)
        assert (p["ppid"], p["exename"], p["end"]) == (row.ppid, row.exename, row.end)
    assert parent_keys(job) == expected_parents(procs)
    roots = sum(p is None for p in job.parents)
    assert roots == sum(v is None for v in expected_parents(procs).values())
    assert len(job.edges) == len(job.processes) - roots


@pytest.mark.parametrize("rel", CSV_ARCHIVES)
def test_tags_and_rdtsc_against_pandas(jobs: dict[str, JobRows], rel: str) -> None:
    job = jobs[rel]
    procs = raw_processes(raw_csv(rel))
    raw_tags = procs["tags"].fillna("")
    distinct = [dict(pair.split(":") for pair in t.split(";")) for t in set(raw_tags) if t]
    assert json.loads(job.job["all_proc_tags_json"]) == sorted(
        distinct, key=lambda d: json.dumps(d, sort_keys=True)
    )
    by_key = {key(p): p for p in job.processes}
    for k, tags in zip(procs["key"], raw_tags, strict=True):
        assert by_key[k]["tag_pairs"] == (sorted(tags.split(";")) if tags else [])
        assert by_key[k]["tags"] == ";".join(by_key[k]["tag_pairs"])
    df = raw_csv(rel)
    block = df["numtids"].notna().cumsum()
    bad = (df.groupby(block)["rdtsc_duration"].sum() <= 0).to_numpy()
    assert sum(p["rdtsc_duration"] == -1 for p in job.processes) == bad.sum()
    assert (job.job["rdtsc_duration"] == -1) == bad.any()


def test_parent_links_spot_checks(jobs: dict[str, JobRows]) -> None:
    job = jobs["query/685000.tgz"]
    links = parent_keys(job)
    first = job.processes[0]  # the job script, written last in the file (papiex: at its end)
    assert (first["exename"], first["pid"], first["ppid"]) == ("tcsh", 6098, 6097)
    assert links[key(first)] is None
    for pid in (6099, 6100, 6101):  # file lines 2-4: tcsh -f ..., mkdir, modulecmd
        child = next(p for p in job.processes if p["pid"] == pid)
        assert links[key(child)] == key(first)
    tcsh = next(p for p in job.processes if p["pid"] == 9961)
    host = next(p for p in job.processes if p["pid"] == 9963)  # host cdtn..., 4 threads
    assert host["numtids"] == 4 and len(thread_rows(host)) == 4
    assert links[key(host)] == key(tcsh)


@pytest.mark.parametrize("rel", CSV_ARCHIVES + TSV_JOBS)
def test_rows_follow_the_contract(jobs: dict[str, JobRows], rel: str) -> None:
    job = jobs[rel]
    procs = job.processes
    assert [p["idx"] for p in procs] == list(range(len(procs)))
    assert all(p["uid"] == f"{job.jobid}:{p['idx']}" for p in procs)
    assert [(p["start"], p["pid"]) for p in procs] == sorted((p["start"], p["pid"]) for p in procs)
    for parent, child in job.edges:
        assert procs[parent]["pid"] == procs[child]["ppid"]
        assert procs[parent]["host"] == procs[child]["host"]
        assert procs[parent]["end"] > procs[child]["start"]
    for p in procs:
        assert job.job["start"] <= p["start"] <= p["end"] <= job.job["end"]
        assert p["duration"] == p["end"] - p["start"]
        assert p["cpu_time"] == p["usertime"] + p["systemtime"]
        assert set(PROCESS_METRICS) <= set(p)
        threads = thread_rows(p)
        assert len(threads) == p["numtids"]
        assert sum(t["usertime"] for t in threads) == p["usertime"]
    earliest = min(procs, key=lambda p: p["start"])
    assert job.job["exitcode"] == earliest["exitcode"]
    assert len(job.job["digest"]) == 64


def test_digest_is_stable_and_content_based(jobs: dict[str, JobRows], tmp_path: Path) -> None:
    again = read_job(SAMPLES / "query/685000.tgz")
    assert again.job == jobs["query/685000.tgz"].job
    copy = shutil.copy(SAMPLES / "query/685000.tgz", tmp_path / "renamed.tgz")
    assert read_job(copy).job["digest"] == again.job["digest"]
    assert jobs["misc/685000.tgz"].job["digest"] == again.job["digest"]  # same bytes
    assert jobs["query/685016.tgz"].job["digest"] != again.job["digest"]


# ---------------------------------------------------------------- the bad samples


def test_corrupted_csv_archive() -> None:
    where = r"corrupted-csv\.tgz/perftools\.org-papiex-6477-0\.csv, line 2: corrupted file"
    with pytest.raises(ArchiveError, match=where):
        read_job(SAMPLES / "misc/corrupted-csv.tgz")


def test_corrupted_csv_directory() -> None:
    with pytest.raises(ArchiveError, match=r"pp053-papiex-615503-0\.csv, line 2: 40 fields"):
        read_job(SAMPLES / "corrupted_csv")


def test_csv_directory_has_no_metadata() -> None:
    with pytest.raises(ArchiveError, match="missing job_metadata"):
        read_job(SAMPLES / "csv")
    for name in ("pp053-papiex-615503-0.csv", "pp053-papiex-615503-1.csv"):
        path = SAMPLES / "csv" / name
        with path.open(newline="") as lines:
            rows = list(parse_csv(lines, source=str(path)).rows)
        df = pd.read_csv(path, escapechar="\\")
        assert [r.process["pid"] for r in rows if r.process] == df["pid"].tolist()
        assert [r.process["tags"] for r in rows if r.process] == df["tags"].tolist()


def test_failed_exitcode_was_recorded_in_india(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its naive times are Indian: EPMT (default US/Eastern) calls it a corrupted CSV too."""
    monkeypatch.delenv("EPMT_TZ", raising=False)
    with pytest.raises(ArchiveError, match=r"perftools\.org-papiex-700-0\.csv, line 2: corrupted"):
        read_job(SAMPLES / "misc/failed-exitcode.tgz")
    monkeypatch.setenv("EPMT_TZ", "Asia/Kolkata")
    job = read_job(SAMPLES / "misc/failed-exitcode.tgz")
    (proc,) = job.processes
    assert (proc["exename"], proc["args"], proc["exitcode"]) == ("ls", "/etc/XYZ", 2)
    assert job.job["exitcode"] == 2  # the earliest process's, as EPMT
    assert json.loads(job.job["info_json"])["status"]["exit_code"] == 0  # the metadata's
    assert job.job["tz"] == "Asia/Kolkata"
    start = dt.datetime(2019, 6, 28, 15, 28, 13, 831832, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert job.job["start"] == us(start)


# ---------------------------------------------------------------- jobs built here

JOB_START = dt.datetime(2020, 1, 1, 12, 0, 0)
T0 = us(JOB_START.replace(tzinfo=dt.UTC))  # the job's start, with TZ=UTC below
S = 1_000_000  # one second in microseconds
DROP = object()  # a make_job() metadata value: leave the key out


def proc(
    pid: int,
    ppid: int,
    start: float,
    end: float,
    *,
    host: str = "h1",
    tags: str = "",
    numtids: int = 1,
    user: int = 10,
    rdtsc: int = 100,
    exitcode: int = 0,
) -> str:
    """A papiex v1 process row; ``start``/``end`` in seconds after the job's start."""
    times = f"{T0 + int(start * S)},{T0 + int(end * S)}"
    metrics = ",".join(["1"] * 22)
    return (
        f"{tags},{host},exe{pid},/bin/exe{pid},arg,{exitcode},{pid},0,{ppid},1,1,{numtids},"
        f"{pid},{times},{user},5,{metrics},{rdtsc},7"
    )


def thread(tid: int, start: float, end: float, *, user: int = 1, rdtsc: int = 100) -> str:
    """A papiex v1 row of a process's extra thread: the per-process fields left empty."""
    times = f"{T0 + int(start * S)},{T0 + int(end * S)}"
    return f",,,,,,,,,,,,{tid},{times},{user},2,{','.join(['1'] * 22)},{rdtsc},7"


def make_job(
    tmp_path: Path, files: dict[str, str] | None = None, rows: list[str] | None = None, **meta: Any
) -> Path:
    """A job directory: ``job_metadata`` (1 h from JOB_START, TZ=UTC) and papiex files."""
    job = tmp_path / "job"
    job.mkdir()
    env = {"TZ": "UTC", "USER": "alice", "SLURM_JOB_NAME": "name", "EPMT_JOB_TAGS": "b:2;a:1"}
    metadata: dict[str, Any] = {
        "job_pl_id": "77",
        "job_pl_submit_ts": JOB_START,
        "job_pl_start_ts": JOB_START,
        "job_el_stop_ts": JOB_START + dt.timedelta(hours=1),
        "job_el_exitcode": 0,
        "job_el_reason": "none",
        "job_pl_env": env,
        "job_el_env": env,
    }
    metadata.update(meta)
    metadata = {k: v for k, v in metadata.items() if v is not DROP}
    (job / "job_metadata").write_bytes(pickle.dumps(metadata, protocol=3))
    if rows is not None:
        files = {"h1-papiex-77-0.csv": "\n".join([HEADER, *rows]) + "\n"}
    for name, text in (files or {}).items():
        (job / name).write_text(text)
    return job


def csv_job(tmp_path: Path, *rows: str, **meta: Any) -> Path:
    return make_job(tmp_path, rows=list(rows), **meta)


def test_threads_merge_into_one_process(tmp_path: Path) -> None:
    job = read_job(
        csv_job(
            tmp_path,
            proc(10, 1, 0, 9, numtids=3, user=100),
            thread(11, 1, 8, user=20),
            thread(12, 2, 7, user=30, rdtsc=-5),
            proc(13, 10, 3, 4),
        )
    )
    first, _ = job.processes
    assert (first["pid"], first["numtids"], first["start"], first["end"]) == (10, 3, T0, T0 + 9 * S)
    assert first["usertime"] == 150 and first["systemtime"] == 9 and first["cpu_time"] == 159
    assert first["rdtsc_duration"] == 195  # summed; positive, so no EPMT error
    threads = thread_rows(first)
    assert [t["tid"] for t in threads] == [10, 11, 12]
    assert [t["rdtsc_duration"] for t in threads] == [100, 100, -5]
    assert threads[1]["num_threads"] == 1 and threads[1]["start"] == T0 + S
    assert job.parents == [None, 0]
    assert job.job["num_threads"] == 4 and job.job["num_procs"] == 2


def test_pid_reuse_takes_the_earliest_candidate_still_running(tmp_path: Path) -> None:
    rows = [
        proc(100, 1, 10, 20),  # pid 100, first life
        proc(100, 1, 30, 40),  # pid 100 reused
        proc(201, 100, 15, 16),  # during the first life
        proc(202, 100, 35, 36),  # during the second
        proc(203, 100, 25, 26),  # between: the first ended, so the second (EPMT's rule)
        proc(204, 100, 45, 46),  # after both: a root
        proc(205, 100, 20, 21),  # starts when the first ends: end must be after start
    ]
    job = read_job(csv_job(tmp_path, *rows))
    by_pid = {(p["pid"], p["start"]): i for i, p in enumerate(job.processes)}
    first, second = by_pid[100, T0 + 10 * S], by_pid[100, T0 + 30 * S]
    parent = {job.processes[i]["pid"]: job.parents[i] for i in range(len(job.processes))}
    assert (parent[201], parent[202], parent[203], parent[204], parent[205]) == (
        first,
        second,
        second,
        None,
        second,
    )


def test_hosts_are_separate_trees(tmp_path: Path) -> None:
    files = {
        "h1-papiex-77-0.csv": "\n".join([HEADER, proc(5, 1, 0, 9), proc(6, 5, 1, 2)]),
        "h2-papiex-77-0.csv": "\n".join(
            [HEADER, proc(5, 1, 0, 9, host="h2"), proc(7, 5, 1, 2, host="h2")]
        ),
        "h3-papiex-77-0.csv": "\n".join([HEADER, proc(8, 5, 1, 2, host="")]),  # host from name
    }
    job = read_job(make_job(tmp_path, files))
    hosts = {p["pid"]: p["host"] for p in job.processes}
    assert hosts == {5: "h2", 6: "h1", 7: "h2", 8: "h3"}
    for child, parent in {6: "h1", 7: "h2"}.items():
        i = next(i for i, p in enumerate(job.processes) if p["pid"] == child)
        j = job.parents[i]
        assert j is not None and job.processes[j]["host"] == parent
    i8 = next(i for i, p in enumerate(job.processes) if p["pid"] == 8)
    assert job.parents[i8] is None  # no pid 5 on h3


def test_process_and_job_tags(tmp_path: Path) -> None:
    job = read_job(
        csv_job(
            tmp_path,
            proc(1, 0, 0, 1, tags="op_sequence:2;op:hsmget;op_instance:1"),
            proc(2, 0, 1, 2, tags=" op : cp ; flag"),
            proc(3, 0, 2, 3),
        )
    )
    first, second, third = job.processes
    assert first["tags"] == "op:hsmget;op_instance:1;op_sequence:2"
    assert first["tag_pairs"] == ["op:hsmget", "op_instance:1", "op_sequence:2"]
    assert (second["tags"], second["tag_pairs"]) == ("flag:1;op:cp", ["flag:1", "op:cp"])
    assert (third["tags"], third["tag_pairs"]) == ("", [])
    assert json.loads(job.job["all_proc_tags_json"]) == [
        {"flag": "1", "op": "cp"},
        {"op": "hsmget", "op_instance": "1", "op_sequence": "2"},
    ]
    assert (job.job["tags"], job.job["tag_pairs"]) == ("a:1;b:2", ["a:1", "b:2"])
    assert json.loads(job.job["annotations_json"]) == {"EPMT_JOB_TAGS": "a:1;b:2"}


def test_metadata_fallbacks_and_env_changes(tmp_path: Path) -> None:
    start_env = {"TZ": "UTC", "SLURM_JOB_USER": "bob", "KEPT": "1", "GONE": "x", "CHANGED": "a"}
    stop_env = {"TZ": "UTC", "KEPT": "1", "CHANGED": "b", "NEW": "n", "SLURM_JOB_USER": "bob"}
    job = read_job(
        csv_job(
            tmp_path,
            proc(1, 0, 0, 1),
            job_pl_env=start_env,
            job_el_env=stop_env,
            job_pl_scriptname="run.sh",
            annotations={"note": "hi"},
        )
    ).job
    assert (job["user"], job["jobname"], job["tags"]) == ("bob", "unknown", "")
    assert json.loads(job["env_changes_json"]) == {"CHANGED": "b", "GONE": "x", "NEW": "n"}
    assert json.loads(job["env_json"]) == start_env
    assert json.loads(job["annotations_json"]) == {"note": "hi"}
    assert json.loads(job["info_json"])["status"] == {
        "exit_code": 0,
        "exit_reason": "none",
        "script_name": "run.sh",
    }


def test_job_tags_in_metadata_win(tmp_path: Path) -> None:
    job = read_job(csv_job(tmp_path, proc(1, 0, 0, 1), job_tags={"z": "9"})).job
    assert job["tags"] == "z:9"


@pytest.mark.parametrize(
    ("env", "epmt_tz", "zone"),
    [
        ({"TZ": "Asia/Kolkata", "TIMEZONE": "UTC"}, "Europe/Paris", "Asia/Kolkata"),
        ({"TIMEZONE": "Asia/Tokyo"}, "Europe/Paris", "Asia/Tokyo"),
        ({}, "Europe/Paris", "Europe/Paris"),
        ({}, None, "US/Eastern"),
    ],
)
def test_time_zone_precedence(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    epmt_tz: str | None,
    zone: str,
) -> None:
    if epmt_tz is None:
        monkeypatch.delenv("EPMT_TZ", raising=False)
    else:
        monkeypatch.setenv("EPMT_TZ", epmt_tz)
    env = {"USER": "u", **env}
    path = make_job(tmp_path, job_pl_env=env, job_el_env=env)
    start = us(JOB_START.replace(tzinfo=ZoneInfo(zone)))
    t = f"{start + S},{start + 2 * S}"
    (path / "h1-papiex-77-0.csv").write_text(
        f"{HEADER}\n,h1,x,/x,,0,1,0,0,1,1,1,1,{t},1,1,{','.join(['1'] * 22)},1,1\n"
    )
    job = read_job(path).job
    assert (job["tz"], json.loads(job["info_json"])["tz"]) == (zone, zone)
    assert job["start"] == start and job["end"] == start + 3600 * S


@pytest.mark.parametrize(
    ("offset", "name", "zone"),
    [(0, "UTC", "UTC"), (-4 * 60, "EDT", "Etc/GMT+4"), (330, "IST", "Asia/Calcutta")],
)
def test_aware_metadata_times(tmp_path: Path, offset: int, name: str, zone: str) -> None:
    tz = dt.timezone(dt.timedelta(minutes=offset), name)
    start = (JOB_START + dt.timedelta(minutes=offset)).replace(tzinfo=tz)  # = T0
    path = csv_job(
        tmp_path,
        proc(1, 0, 1, 2),
        job_pl_start_ts=start,
        job_pl_submit_ts=start,
        job_el_stop_ts=start + dt.timedelta(hours=1),
    )
    job = read_job(path).job
    assert (job["start"], job["tz"], json.loads(job["info_json"])["tz"]) == (T0, zone, name)


def test_ambiguous_local_time_is_standard_time(tmp_path: Path) -> None:
    """pytz's localize() default (is_dst=False), as EPMT: 01:30 on 2019-11-03 is EST."""
    env = {"TZ": "US/Eastern", "USER": "u"}
    naive = dt.datetime(2019, 11, 3, 1, 30)
    path = make_job(
        tmp_path,
        job_pl_env=env,
        job_el_env=env,
        job_pl_start_ts=naive,
        job_pl_submit_ts=naive,
        job_el_stop_ts=naive + dt.timedelta(hours=3),
    )
    est = us(dt.datetime(2019, 11, 3, 6, 30, tzinfo=dt.UTC))
    (path / "h1-papiex-77-0.csv").write_text(
        f"{HEADER}\n,h1,x,/x,,0,1,0,0,1,1,1,1,{est},{est + S},1,1,{','.join(['1'] * 22)},1,1\n"
    )
    job = read_job(path).job
    assert job["start"] == est
    assert job["end"] == us(dt.datetime(2019, 11, 3, 9, 30, tzinfo=dt.UTC))  # 04:30 EST


def test_processes_may_touch_the_job_window(tmp_path: Path) -> None:
    job = read_job(csv_job(tmp_path, proc(1, 0, 0, 3600)))
    assert job.processes[0]["start"] == job.job["start"]
    assert job.processes[0]["end"] == job.job["end"]


@pytest.mark.parametrize(("start", "end"), [(-0.000001, 10), (10, 3600.000001)])
def test_process_outside_the_job_is_a_corrupted_file(
    tmp_path: Path, start: float, end: float
) -> None:
    path = csv_job(tmp_path, proc(1, 0, 5, 6), proc(2, 1, start, end))
    with pytest.raises(ArchiveError, match=r"h1-papiex-77-0\.csv, line 3: corrupted file"):
        read_job(path)


def test_duplicated_process(tmp_path: Path) -> None:
    path = csv_job(tmp_path, proc(1, 0, 5, 6), proc(2, 1, 5, 6), proc(1, 0, 5, 6))
    with pytest.raises(ArchiveError, match=r"line 4: duplicated process \(as at .*, line 2\)"):
        read_job(path)


def test_a_pid_beyond_64_bits(tmp_path: Path) -> None:
    path = csv_job(tmp_path, proc(1, 0, 5, 6), proc(2**63, 1, 5, 6))
    with pytest.raises(ArchiveError, match=r"line 3: an id, time or CPU time does not fit 64 bits"):
        read_job(path)


def test_ppid_cycle(tmp_path: Path) -> None:
    # overlapping processes that name each other as parent
    path = csv_job(tmp_path, proc(10, 20, 1, 30), proc(20, 10, 2, 40))
    with pytest.raises(ArchiveError, match="the ppid links form a cycle"):
        read_job(path)


def test_empty_job(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="the job has no processes"):
        read_job(csv_job(tmp_path))


def test_job_without_papiex_files(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="the job has no processes"):
        read_job(make_job(tmp_path))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tags,hostname,pid\n", r"line 1: missing columns exename, path"),
        (HEADER.replace(",usertime", "") + "\n", r"line 1: missing columns usertime"),
        (HEADER + ",pid\n", r"line 1: duplicated columns pid"),
        ("", r"line 1: empty file"),
        (HEADER + "\n" + proc(1, 0, 1, 2).replace(",10,5,", ",abc,5,") + "\n",
         r"line 2: non-numeric value 'abc' in column usertime"),
        (HEADER + "\n" + proc(1, 0, 1, 2).replace(",1,0,0,1,1,1,", ",x,0,0,1,1,1,") + "\n",
         r"line 2: non-numeric value 'x' in column pid"),
        (HEADER + "\n" + proc(1, 0, 1, 2) + "\n" + proc(2, 0, 1, 2)[1:] + "\n",
         r"line 3: 40 fields, expected 41"),
        (HEADER + "\n" + proc(1, 0, 1, 2, numtids=3) + "\n" + thread(2, 1, 2) + "\n",
         r"line 2: process 1 declares numtids=3 but the file ends after 2 thread rows"),
        (HEADER + "\n" + thread(2, 1, 2) + "\n", r"line 2: thread row without a process"),
        (HEADER + "\n" + proc(1, 0, 1, 2, numtids=0) + "\n", r"line 2: numtids is 0"),
        (HEADER + "\n" + proc(1, 0, 1, 2, numtids=2) + "\n" + proc(2, 0, 1, 2) + "\n",
         r"line 3: pid 2 inside the 2 thread rows of pid 1 \(line 2\)"),
        (HEADER + "\n" + proc(1, 0, 1, 2).replace(",arg,", "," + "a" * 200_000 + ",") + "\n",
         r"line 2: unreadable record: field larger than field limit"),
    ],
    ids=["few-columns", "no-usertime", "dup-column", "empty", "bad-metric", "bad-pid",
         "field-count", "short-threads", "orphan-thread", "zero-threads", "foreign-thread",
         "huge-field"],
)  # fmt: skip
def test_malformed_csv(tmp_path: Path, text: str, message: str) -> None:
    path = make_job(tmp_path, {"h1-papiex-77-0.csv": text})
    with pytest.raises(ArchiveError, match=r"job/h1-papiex-77-0\.csv, " + message):
        read_job(path)


def test_repeated_header_rows_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    job = read_job(csv_job(tmp_path, proc(1, 0, 1, 2), "", HEADER, proc(2, 1, 1, 2)))
    assert [p["pid"] for p in job.processes] == [1, 2]


def test_rdtsc_zero_is_a_papiex_error(tmp_path: Path) -> None:
    job = read_job(csv_job(tmp_path, proc(1, 0, 1, 2, rdtsc=0), proc(2, 1, 1, 2)))
    assert [p["rdtsc_duration"] for p in job.processes] == [-1, 100]
    assert job.job["rdtsc_duration"] == -1
    annotations = json.loads(job.job["annotations_json"])
    assert annotations["papiex-error"] == (
        "papiex / PAPI library could not be preloaded (rdtsc_duration = 0). "
        "1 processes have potentially erroneous PAPI metric counts"
    )
    assert annotations["papiex-error-process-ids"] == [1]


TSV_HEADER = (
    "{usertime,systemtime,rssmax,minflt,majflt,inblock,outblock,vol_ctxsw,invol_ctxsw,"
    "num_threads,starttime,processor,delayacct_blkio_time,guest_time,rchar,wchar,syscr,syscw,"
    "read_bytes,write_bytes,cancelled_write_bytes,time_oncpu,time_waiting,timeslices,"
    "rdtsc_duration,PERF_COUNT_SW_CPU_CLOCK,cutime}\ttags\thostname\texename\tpath\texitcode\t"
    "exitsignal\tpid\tgeneration\tppid\tpgid\tsid\tnumtids\tstart\tfinish\targs"
)


def tsv_row(pid: int, numtids: int, values: list[int], *, tags: str = "") -> str:
    array = "{" + ",".join(map(str, values)) + "}"
    ids = f"{pid}\t0\t1\t1\t1\t{numtids}"
    return f"{array}\t{tags}\th1\tx\t/x\t0\t0\t{ids}\t{T0 + S}\t{T0 + 2 * S}\ta b"


def test_tsv_threads_and_extra_metrics(tmp_path: Path) -> None:
    two_threads = list(range(1, 28)) + list(range(101, 128))
    files = {
        "h1-papiex-header.tsv": TSV_HEADER + "\n",
        "h1-papiex.tsv": tsv_row(5, 2, two_threads, tags="op:cp") + "\n",
    }
    job = read_job(make_job(tmp_path, files))
    (p,) = job.processes
    assert (p["numtids"], p["usertime"], p["systemtime"], p["args"]) == (2, 102, 104, "a b")
    assert p["cutime"] == 27 + 127  # a metric beyond PROCESS_METRICS is summed too, as EPMT
    assert "num_threads" not in p and "starttime" not in p
    threads = thread_rows(p)
    assert [t["cutime"] for t in threads] == [27, 127]
    assert (
        job.job["cutime"] == 154
        and json.loads(job.job["info_json"])["metric_names"] == (TSV_HEADER.split("\t")[0][1:-1])
    )


def tsv_files(row: str, header: str = TSV_HEADER) -> dict[str, str]:
    return {"h1-papiex-header.tsv": header, "h1-papiex.tsv": row}


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"h1-papiex.tsv": tsv_row(5, 1, [1] * 27)},
            r"h1-papiex\.tsv: .* without its h1-papiex-header\.tsv",
        ),
        (
            tsv_files(tsv_row(5, 2, [1] * 27)),
            r"h1-papiex\.tsv, line 1: 27 metric values, expected numtids \(2\) x 27 metrics",
        ),
        (
            tsv_files(tsv_row(5, 1, [1] * 27).replace("{1,", "{z,")),
            r"h1-papiex\.tsv, line 1: non-numeric value 'z' in column the metrics array",
        ),
        (
            tsv_files("", TSV_HEADER.replace("\tpid", "")),
            r"h1-papiex-header\.tsv, line 1: missing columns pid",
        ),
        (
            tsv_files("", TSV_HEADER.replace("{", "")),
            r"h1-papiex-header\.tsv, line 1: expected exactly one \{metric,...\} column",
        ),
        (tsv_files("\t".join(["1"] * 5)), r"h1-papiex\.tsv, line 1: 5 fields, expected 16"),
    ],
    ids=["no-header-file", "array-length", "bad-array", "no-pid", "no-array", "field-count"],
)
def test_malformed_tsv(tmp_path: Path, files: dict[str, str], message: str) -> None:
    with pytest.raises(ArchiveError, match=message):
        read_job(make_job(tmp_path, files))


def test_hostile_pickle_in_a_job(tmp_path: Path) -> None:
    path = csv_job(tmp_path, proc(1, 0, 1, 2))
    sentinel = tmp_path / "pwned"
    (path / "job_metadata").write_bytes(f"cos\nsystem\n(S'touch {sentinel}'\ntR.".encode())
    with pytest.raises(UnsafePickleError, match=r"job/job_metadata: .* os\.system"):
        read_job(path)
    assert not sentinel.exists()


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"job_el_stop_ts": DROP}, "missing or empty job_el_stop_ts"),
        ({"job_el_stop_ts": None}, "not datetimes"),
        ({"job_pl_id": ""}, "missing or empty job_pl_id"),
        ({"job_pl_env": {"TZ": "UTC"}, "job_el_env": {}}, "no job_pl_username, SLURM_JOB_USER"),
        ({"job_pl_env": {"TZ": "Mars/Olympus", "USER": "u"}}, "unknown time zone 'Mars/Olympus'"),
        ({"job_pl_start_ts": "yesterday"}, "not datetimes"),
        ({"job_tags": {"a": "1"}, "annotations": {"EPMT_JOB_TAGS": "a:2"}}, "job tags differ"),
        ({"job_tags": ["a:1"]}, r"job tags \['a:1'\] are neither a string nor a dict"),
        ({"annotations": "note"}, "annotations is not a dict with string keys"),
        ({"job_el_env": {1: "x"}}, "job_el_env is not a dict with string keys"),
    ],
)
def test_bad_metadata(tmp_path: Path, meta: dict[str, Any], message: str) -> None:
    path = csv_job(tmp_path, proc(1, 0, 1, 2), **meta)
    with pytest.raises(ArchiveError, match=message):
        read_job(path)


def test_garbage_collector_is_restored(tmp_path: Path) -> None:
    assert gc.isenabled()
    read_job(csv_job(tmp_path, proc(1, 0, 1, 2)))
    assert gc.isenabled()
    with pytest.raises(ArchiveError):
        read_job(tmp_path / "missing.tgz")
    assert gc.isenabled()


def test_sample_archive_repacked_as_directory(tmp_path: Path) -> None:
    with tarfile.open(SAMPLES / "query/685016.tgz") as tar:
        tar.extractall(tmp_path / "job", filter="data")
    assert (
        read_job(tmp_path / "job").job["digest"]
        == read_job(SAMPLES / "query/685016.tgz").job["digest"]
    )
    assert os.listdir(tmp_path / "job")
