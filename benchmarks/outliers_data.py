"""The outlier benchmark's jobs: seeded synthetic archives of one experiment, a few out of line.

``epmt_graph.synthetic.write_archive`` writes each job; then its collated CSV is rewritten:

- every process tag ``op:X;op_instance:I;op_sequence:S`` becomes ``op:X``, so that the jobs
  share one set of operation tags (the 10 op values of the generator: ``hsmget`` and the
  nine of a simulated year), which ``detect_outlier_ops`` compares job by job;
- the ``heavy`` outliers have the user and system CPU time of every ``op:fregrid`` process
  multiplied by :data:`HEAVY_FACTOR` (cpu_time out of line, for the job and for that op);
- the ``big`` outliers are generated with :data:`BIG_FACTOR` times the processes (duration,
  cpu_time, num_procs and every op's sums out of line).

All jobs come from seeds whose experiment component is :data:`COMPONENT`, so they carry the
same ``exp_name`` and ``exp_component`` tags (comparable jobs). The set is written into a
temporary directory, then moved into the cache, ``$EPMT_GRAPH_CACHE/bench-outliers/<key>/``
(``~/.cache/epmt_graph`` by default), keyed by the parameters and the generator's source:
``archives/*.tgz`` and ``manifest.json``; EPMT's side keeps its SQLite database there too
(``epmt.sqlite``), so a rerun re-ingests nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tarfile
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import epmt_graph.synthetic as synthetic
from epmt_graph.config import cache_dir
from epmt_graph.synthetic import generate_job, write_archive

__all__ = [
    "BIG_FACTOR",
    "COMPONENT",
    "HEAVY_FACTOR",
    "HEAVY_OP",
    "JobSet",
    "Spec",
    "prepare",
]

#: The experiment component every job of the set has.
COMPONENT = "ocean_annual"
#: The operation whose processes the ``heavy`` outliers make CPU-heavy, and by how much.
HEAVY_OP, HEAVY_FACTOR = "op:fregrid", 10
#: How many times the processes a ``big`` outlier has.
BIG_FACTOR = 2
#: Bump when the rewrite below changes (part of the cache key).
FORMAT = 1
#: The CSV's trailing numeric columns (``exitcode`` .. the last): the text columns before
#: them (``tags,hostname,exename,path,args``) may hold escaped commas, these never do.
_NUMERIC = 36
_USER, _SYSTEM = 15 - 5, 16 - 5  # usertime, systemtime among the numeric columns


@dataclass(frozen=True)
class Spec:
    """The parameters of a job set (the cache key is made from them).

    Attributes
    ----------
    jobs, procs, seed : int
        How many jobs, the processes of a normal one, the first seed tried.
    heavy, big : tuple of int
        Positions (0-based, in job order) of the outliers of each kind.
    model_jobs : int
        How many of the normal jobs, first ones first, a reference model is built on.
    """

    jobs: int = 100
    procs: int = 5000
    seed: int = 0
    heavy: tuple[int, ...] = (11, 47, 83)
    big: tuple[int, ...] = (29, 68)
    model_jobs: int = 50

    def kind(self, position: int) -> str:
        """``heavy``, ``big`` or ``normal``: what the job at ``position`` is."""
        if position in self.heavy:
            return "heavy"
        return "big" if position in self.big else "normal"

    def key(self) -> str:
        """A short digest of the parameters, :data:`FORMAT` and the generator's source."""
        digest = hashlib.sha256(json.dumps([asdict(self), FORMAT]).encode())
        for source in sorted(Path(synthetic.__file__).parent.glob("*.py")):
            digest.update(source.read_bytes())
        return digest.hexdigest()[:16]


@dataclass(frozen=True)
class JobSet:
    """A prepared job set: where it is cached, and what it holds.

    Attributes
    ----------
    root : Path
        The cache directory of the set.
    manifest : dict
        ``spec``, ``jobs`` (one entry per job: ``jobid``, ``seed``, ``kind``,
        ``processes``, ``archive``), ``model_jobs`` and ``outliers`` (jobids by kind).
    cached : bool
        Whether the archives were there already (nothing was generated).
    """

    root: Path
    manifest: dict[str, Any]
    cached: bool

    @property
    def archives(self) -> list[Path]:
        """The archives, in job order."""
        return [self.root / "archives" / job["archive"] for job in self.manifest["jobs"]]

    @property
    def jobids(self) -> list[str]:
        """The job ids, in job order."""
        return [job["jobid"] for job in self.manifest["jobs"]]

    @property
    def epmt_db(self) -> Path:
        """Where EPMT's side keeps its SQLite database of the set."""
        return self.root / "epmt.sqlite"


def _component(seed: int) -> str:
    """The experiment component the generator gives the job of ``seed`` (cheap: one process)."""
    tags = str(generate_job(1, io.StringIO(), seed=seed).metadata["job_el_env"]["EPMT_JOB_TAGS"])
    return dict(t.split(":", 1) for t in tags.split(";"))["exp_component"]


def _rewrite_row(line: str, heavy: bool) -> str:
    """One CSV row with its tags folded to the op value, and made heavy if asked."""
    tags, rest = line.split(",", 1)
    op = next((t for t in tags.split(";") if t.startswith("op:")), "")
    if not (heavy and op == HEAVY_OP):
        return f"{op},{rest}"
    text, *numbers = rest.rsplit(",", _NUMERIC)
    for column in (_USER, _SYSTEM):
        numbers[column] = str(int(numbers[column]) * HEAVY_FACTOR)
    return ",".join([op, text, *numbers])


def _rewrite(archive: Path, heavy: bool) -> None:
    """Rewrite the collated CSV inside ``archive`` (:func:`_rewrite_row`), keeping the rest."""
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m)) for m in tar.getmembers()]
        payload = {m.name: f.read() if f else b"" for m, f in members}
    with (
        archive.open("wb") as fh,
        gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as out,
    ):
        for member, _ in members:
            data = payload[member.name]
            if member.name.endswith(".csv"):
                header, *rows = data.decode().splitlines()
                text = "\n".join([header, *(_rewrite_row(r, heavy) for r in rows)]) + "\n"
                data = text.encode()
                member.size = len(data)
            out.addfile(member, io.BytesIO(data) if member.isfile() else None)


def _generate(spec: Spec, into: Path) -> dict[str, Any]:
    """Write the set's archives into ``into/archives``; return the manifest."""
    (into / "archives").mkdir(parents=True)
    jobs: list[dict[str, Any]] = []
    seed = spec.seed
    while len(jobs) < spec.jobs:
        if _component(seed) == COMPONENT:
            kind = spec.kind(len(jobs))
            procs = spec.procs * (BIG_FACTOR if kind == "big" else 1)
            name = f"{900_000 + seed}.tgz"
            write_archive(into / "archives" / name, procs, seed=seed)
            _rewrite(into / "archives" / name, kind == "heavy")
            jobs.append(
                {
                    "jobid": str(900_000 + seed),
                    "seed": seed,
                    "kind": kind,
                    "processes": procs,
                    "archive": name,
                }
            )
        seed += 1
    normal = [job["jobid"] for job in jobs if job["kind"] == "normal"]
    return {
        "spec": asdict(spec),
        "key": spec.key(),
        "component": COMPONENT,
        "jobs": jobs,
        "model_jobs": normal[: spec.model_jobs],
        "outliers": {
            kind: [job["jobid"] for job in jobs if job["kind"] == kind] for kind in ("heavy", "big")
        },
        "processes": sum(job["processes"] for job in jobs),
    }


def prepare(spec: Spec, cache: Path | None = None) -> JobSet:
    """The job set of ``spec``: from the cache, else generated (in a temp dir) and cached.

    Parameters
    ----------
    spec : Spec
        The set's parameters.
    cache : Path, optional
        The cache's root; default ``$EPMT_GRAPH_CACHE/bench-outliers``.

    Returns
    -------
    JobSet
        Where the set is, its manifest, and whether it came from the cache.
    """
    root = (cache or cache_dir() / "bench-outliers") / spec.key()
    manifest = root / "manifest.json"
    if manifest.exists():
        return JobSet(root, json.loads(manifest.read_text()), cached=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench_outliers_", dir=root.parent))
    try:
        content = _generate(spec, work)
        (work / "manifest.json").write_text(json.dumps(content, indent=1) + "\n")
        work.rename(root)  # whole or not at all: the manifest is there only if all is
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return JobSet(root, content, cached=False)
