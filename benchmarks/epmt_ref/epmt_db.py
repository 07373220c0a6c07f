"""EPMT 5.0.1 on a database of its own, for the recorders and timers of this folder.

Run in EPMT's venv (see setup_venv.sh), never the project's. :func:`open_epmt` points
EPMT's settings at a SQLite file and imports its query API; :func:`scratch_epmt` does it
in a new temporary folder, removed at the end. :func:`submit_one` loads an archive the way
``epmt submit`` does, :func:`submit_samples` copies of sample archives, and
:func:`post_process_all` runs EPMT's deferred post-processing. The user's EPMT database
is never touched.
"""

import contextlib
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

__all__ = [
    "SAMPLES",
    "open_epmt",
    "post_process_all",
    "scratch_epmt",
    "stage_copy",
    "submit_one",
    "submit_samples",
]

#: The shared sample archives (``EPMT_SAMPLES`` overrides).
SAMPLES = Path(os.environ.get("EPMT_SAMPLES", "/work/shared/data/epmt-samples"))


def open_epmt(db, verbose=-1, fresh=False):
    """Point EPMT at the SQLite file ``db`` (created if missing, deleted first if
    ``fresh``) and import its query API; its log goes beside it (``<db>.log``).

    EPMT reads settings from epmt.epmt_settings (defaults + the package's settings.py);
    init_settings() lets EPMT_DB_URL override db_params['url']. We keep EPMT's defaults
    otherwise: bulk_insert=True, post_process_job_on_ingest=False,
    lazy_compute_process_tree=True. Returns (eq, settings).
    """
    db = Path(db)
    if fresh and db.exists():
        db.unlink()
    os.environ["EPMT_DB_URL"] = f"sqlite:///{db}"
    import epmt.epmt_settings as settings

    settings.logfile = str(db.with_suffix(".log"))
    settings.verbose = verbose
    # mutate in place: EPMT's alembic env.py re-imports the same default dict
    settings.db_params["url"] = f"sqlite:///{db}"
    import epmt.epmt_query as eq  # runs init_settings() + setup_db()

    return eq, settings


@contextlib.contextmanager
def scratch_epmt(keep=False, prefix="epmt_ref_", verbose=-1):
    """A new temporary folder with EPMT pointed at a fresh ``epmt.sqlite`` in it: yields
    (eq, settings, folder); the folder is removed at the end, or kept (and named on
    stderr) if ``keep``."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        eq, settings = open_epmt(tmp / "epmt.sqlite", verbose, fresh=True)
        yield eq, settings, tmp
    finally:
        if keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def stage_copy(rel, dest_root):
    """Copy one sample (file or dir) into dest_root; return the path EPMT gets."""
    src = SAMPLES / rel.rstrip("/")
    dst = Path(dest_root) / rel.rstrip("/")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst)
        return str(dst) + "/"
    shutil.copy2(src, dst)
    return str(dst)


def submit_one(path, settings):
    """Submit one archive/dir the way `epmt submit` does (epmt_submit ->
    submit_dir_or_tgz_to_db), but one at a time so we see each refusal.
    Returns dict(ok, message, jobid, processes, error)."""
    from epmt.epmt_cmds import submit_dir_or_tgz_to_db
    from epmt.orm.sqlalchemy.general import Session

    out = {}
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # EPMT prints "Imported successfully"
            status, msg, details = submit_dir_or_tgz_to_db(
                path,
                pattern=settings.input_pattern,
                dry_run=False,
                keep_going=False,
                remove_on_success=False,
                destdir_on_failure=False,
            )
        out["ok"] = bool(status and details)
        out["message"] = (
            msg.replace(str(Path(path).parent), "<dir>") if isinstance(msg, str) else msg
        )
        if details:
            out["jobid"], out["processes"] = details[0], int(details[1])
    except Exception as e:  # EPMT raises on corrupted input
        out["ok"] = False
        # submit_dir_or_tgz_to_db prefixes args with "submit_dir_or_tgz_to_db(<path>): ";
        # keep EPMT's own message (the last arg)
        msg = e.args[-1] if e.args else str(e)
        out["error"] = f"{type(e).__name__}: {msg}"
        with contextlib.suppress(Exception):
            Session.rollback()
    return out


def submit_samples(archives, tmp, settings):
    """Submit a copy (in ``tmp/samples``) of each sample archive named (relative to
    :data:`SAMPLES`): each one's :func:`submit_one` answer, by name."""
    return {rel: submit_one(stage_copy(rel, Path(tmp) / "samples"), settings) for rel in archives}


def post_process_all():
    """EPMT's deferred post-processing (proc_sums, hosts, all_proc_tags)."""
    from epmt.epmt_job import post_process_pending_jobs

    return post_process_pending_jobs()
