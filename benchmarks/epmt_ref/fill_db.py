"""Fill an EPMT 5.0.1 database the way a site's is filled: `epmt submit`, then EPMT's API.

Run with the EPMT venv's python (see setup_venv.sh); the database is EPMT_DB_URL's
(`sqlite:///path/epmt.db` or `postgresql://user@host:port/db`, which EPMT's settings read):

    EPMT_DB_URL=sqlite:////tmp/epmt.db $(bash benchmarks/epmt_ref/setup_venv.sh) \\
        benchmarks/epmt_ref/fill_db.py [--changes] ARCHIVE_OR_JOBDIR...

1. `epmt submit ARCHIVE...` (EPMT's own command, in a subprocess of this venv): jobs are
   staged unprocessed, as EPMT leaves them (post_process_job_on_ingest=False); on
   PostgreSQL, CSV v2 (TSV) jobs stay in the processes_staging table.
2. With --changes, through EPMT's query API, the changes a site makes (CHANGES below):
   post-processing and process trees of some jobs (others stay unprocessed), annotations,
   analyses, a job tag, and reference models; each change applies only to jobs submitted.

Prints one JSON object on stdout: the jobs submitted and the changes made, each change as
[function name, positional arguments, keyword arguments], so that a test can make the same
calls on another backend. EPMT's chatter goes to stderr.
"""

import argparse
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

#: (function of epmt.epmt_query, args, kwargs) applied in order, when all their jobs are there.
CHANGES = [
    ("post_process_jobs", [["685000", "685003", "804268", "3455"]], {}),
    ("compute_process_trees", [["685000", "804268"]], {}),
    ("annotate_job", ["685000", {"reviewed": "yes", "score": 3}], {}),
    ("annotate_job", ["685016", {"note": "reran: disk full"}], {"replace": True}),
    ("set_job_analyses", ["685003", {"outlier_detection": {"status": "ok", "n": 2}}], {}),
    ("tag_job", ["692500", {"site": "gfdl"}], {}),
    (
        "create_refmodel",
        [["685000", "685003", "685016"]],
        {"name": "query-jobs", "tag": "exp_name:ESM4_historical_D151", "sanity_check": False},
    ),
    (
        "create_refmodel",
        [["685000", "685003", "685016"]],
        {"op_tags": ["op:hsmget", "op:cp"], "features": ["duration", "cpu_time"]},
    ),
]


def _jobs_in(value):
    """The job ids a change's first argument names."""
    return set(value) if isinstance(value, list) else {value}


def submit(paths):
    """`epmt submit PATH...` with this venv's epmt; returns the job ids EPMT reports."""
    epmt = Path(sys.executable).with_name("epmt")
    done = subprocess.run(
        [str(epmt), "submit", *paths], capture_output=True, text=True, check=False
    )
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        sys.stderr.write(done.stdout)
        raise SystemExit(f"epmt submit failed with exit code {done.returncode}")
    return [
        line.split("job:")[1].split()[0]
        for line in done.stdout.splitlines()
        if line.startswith("Imported successfully")
    ]


def change(submitted):
    """Apply CHANGES (those whose jobs were submitted) through EPMT's query API."""
    import epmt.epmt_settings as settings

    # EPMT's models pick JSONB for PostgreSQL from the settings' URL when they are imported,
    # before EPMT_DB_URL is read: without this, its JSON queries fail on PostgreSQL (astext)
    settings.db_params["url"] = os.environ["EPMT_DB_URL"]
    sys.modules["epmt_settings"] = settings  # the module EPMT's alembic env.py imports
    with contextlib.redirect_stdout(sys.stderr):
        import epmt.epmt_query as eq  # init_settings, setup_db

    made = []
    for name, args, kwargs in CHANGES:
        if not _jobs_in(args[0]) <= set(submitted):
            continue
        with contextlib.redirect_stdout(sys.stderr):
            answer = getattr(eq, name)(*args, **kwargs)
        if answer is False:
            raise SystemExit(f"EPMT's {name}{tuple(args)} failed: {answer!r}")
        made.append([name, args, kwargs])
    return made


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", help=".tgz archives or job directories")
    parser.add_argument("--changes", action="store_true", help="also make CHANGES")
    args = parser.parse_args(argv)
    if not os.environ.get("EPMT_DB_URL"):
        raise SystemExit("set EPMT_DB_URL to the database to fill")
    submitted = submit(args.paths)
    made = change(submitted) if args.changes else []
    json.dump({"submitted": submitted, "changes": made}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
