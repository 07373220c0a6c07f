"""An EPMT 5.x database, read through SQLAlchemy 2 Core: never written, streamed a job at a time.

The URL is EPMT's (``sqlite:///path/epmt.db``, ``postgresql://user@host/db``). A SQLite file
is opened read-only (and must exist: SQLite would otherwise make an empty one); PostgreSQL,
through psycopg 3, in read-only transactions. The tables are reflected, and the database
must have EPMT's ``jobs`` and ``processes`` with the columns read (:data:`REQUIRED`).

Reading never holds more than one job: job ids come a page at a time, in id order (keyset
paging, no long-lived cursor), and a job's processes in id order as a stream of chunks of
rows (``stream_results``: a server-side cursor on PostgreSQL), only the columns the reader
uses (:data:`COLUMNS`), their JSON as text, parsed by the reader in one go (:mod:`.stored`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from epmt_graph.errors import SourceError

__all__ = ["CHUNK", "COLUMNS", "JSON_TEXT", "PAGE", "RAW", "REQUIRED", "Source", "StoredRow"]

#: A row read, by column name.
StoredRow = Mapping[Any, Any]

#: Job ids read per query.
PAGE = 1000
#: Rows fetched at a time from a job's processes (a chunk).
CHUNK = 2000
#: The tables and columns read, by table (``processes_staging`` and the models' are optional).
REQUIRED: dict[str, tuple[str, ...]] = {
    "jobs": (
        "jobid",
        "user_id",
        "jobname",
        "start",
        "end",
        "submit",
        "created_at",
        "info_dict",
        "annotations",
        "analyses",
        "env_dict",
        "env_changes_dict",
        "tags",
    ),
    "processes": (
        "id",
        "jobid",
        "host_id",
        "start",
        "end",
        "tags",
        "threads_df",
        "numtids",
        "exename",
        "path",
        "args",
        "pid",
        "ppid",
        "pgid",
        "sid",
        "gen",
        "exitcode",
    ),
}
#: The ``processes`` columns :meth:`Source.processes` reads, in its rows' order.
COLUMNS = (
    *("id", "host_id", "tags", "exename", "path", "args", "exitcode", "pid", "ppid", "pgid"),
    *("sid", "gen", "start", "end", "threads_df"),
)
_OPTIONAL = ("processes_staging", "refmodels", "refmodel_job_associations")
#: The ``processes`` columns read without SQLAlchemy's conversion (JSON, times).
RAW = frozenset({"threads_df", "tags", "start", "end"})
#: Those read as their JSON text (PostgreSQL's ``jsonb`` cast to text: its driver would
#: parse them a row at a time).
JSON_TEXT = frozenset({"threads_df", "tags"})


def _engine(url: str) -> sa.Engine:
    """A read-only engine for EPMT's ``url``.

    Raises
    ------
    SourceError
        A URL SQLAlchemy cannot read, another database kind, or a SQLite file that is not there.
    """
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise SourceError(
            f"{url!r} is not a database URL (sqlite:///PATH or postgresql://...)"
        ) from exc
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
        options = {"options": "-c default_transaction_read_only=on"}
        return sa.create_engine(parsed, connect_args=options, pool_pre_ping=True)
    if backend != "sqlite":
        raise SourceError(f"{label(url)}: not an SQLite or PostgreSQL URL")
    path = parsed.database or ""
    if not path or path == ":memory:" or not os.path.isfile(path):
        raise SourceError(f"{label(url)}: no such SQLite database file {path!r}")
    uri = Path(path).resolve().as_uri()  # percent-encoded: spaces, '?' and '#' stay the name's
    return sa.create_engine(
        sa.URL.create("sqlite", database=uri, query={"mode": "ro", "uri": "true"})
    )


def label(url: str) -> str:
    """``url`` as shown in messages and as a migrated job's ``source``: no password.

    Examples
    --------
    >>> label("postgresql://epmt:secret@db.example/epmt")
    'postgresql://epmt:***@db.example/epmt'
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "the URL given"


class Source:
    """An EPMT database, reflected and checked (close it, or use it as a context manager).

    Parameters
    ----------
    url : str
        EPMT's database URL.

    Raises
    ------
    SourceError
        The URL is malformed, the database cannot be reached, or it is not an EPMT database.
    """

    def __init__(self, url: str) -> None:
        self.label = label(url)
        self.engine = _engine(url)
        metadata = sa.MetaData()
        try:
            metadata.reflect(self.engine, only=lambda name, _: name in (*REQUIRED, *_OPTIONAL))
        except sa.exc.SQLAlchemyError as exc:
            self.engine.dispose()
            raise SourceError(
                f"{self.label}: cannot read the database: {_first_line(exc)}"
            ) from exc
        self.tables = metadata.tables
        for table, columns in REQUIRED.items():
            missing = [] if table in self.tables else [table]
            missing += [
                f"{table}.{c}"
                for c in columns
                if table in self.tables and c not in self.tables[table].c
            ]
            if missing:
                self.engine.dispose()
                raise SourceError(f"{self.label}: not an EPMT database (no {', '.join(missing)})")

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection to the database."""
        self.engine.dispose()

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.connect() as connection:
                yield connection
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"{self.label}: {_first_line(exc)}") from exc

    def _jobs_where(
        self, jobs: Iterable[str] | None, since: dt.datetime | None
    ) -> list[sa.ColumnElement[bool]]:
        table = self.tables["jobs"]
        where: list[sa.ColumnElement[bool]] = []
        if jobs is not None:
            where.append(table.c.jobid.in_(list(jobs)))
        if since is not None:
            where.append(table.c.start >= since)
        return where

    def count(self, jobs: Iterable[str] | None = None, since: dt.datetime | None = None) -> int:
        """How many jobs :meth:`job_ids` gives."""
        table = self.tables["jobs"]
        query = sa.select(sa.func.count()).select_from(table).where(*self._jobs_where(jobs, since))
        with self._connect() as connection:
            return int(connection.execute(query).scalar_one())

    def job_ids(
        self, jobs: Iterable[str] | None = None, since: dt.datetime | None = None
    ) -> Iterator[str]:
        """The ids of the jobs (all, those of ``jobs``, those starting at ``since`` or later,
        naive in each job's zone, as EPMT compares them), in id order, a page at a time."""
        table = self.tables["jobs"]
        wanted = None if jobs is None else list(jobs)
        last: str | None = None
        while True:
            where = self._jobs_where(wanted, since)
            if last is not None:
                where.append(table.c.jobid > last)
            query = sa.select(table.c.jobid).where(*where).order_by(table.c.jobid).limit(PAGE)
            with self._connect() as connection:
                page = list(connection.execute(query).scalars())
            yield from page
            if len(page) < PAGE:
                return
            last = page[-1]

    def job(self, jobid: str) -> StoredRow:
        """The ``jobs`` row of ``jobid``.

        Raises
        ------
        SourceError
            There is no such job.
        """
        table = self.tables["jobs"]
        columns = [table.c[name] for name in REQUIRED["jobs"]]
        with self._connect() as connection:
            row = connection.execute(sa.select(*columns).where(table.c.jobid == jobid)).first()
        if row is None:
            raise SourceError(f"{self.label}: no job {jobid!r}")
        return row._mapping

    def processes(self, jobid: str) -> Iterator[Sequence[sa.Row[Any]]]:
        """The ``processes`` rows of ``jobid``, by id, their columns those of :data:`COLUMNS`;
        streamed, in chunks of :data:`CHUNK` rows. Its JSON columns (:data:`JSON_TEXT`) come
        as text, its times (the rest of :data:`RAW`) as the driver gives them (SQLite's as
        text). On SQLite, in id order is as they come from its index on ``jobid``: no sort."""
        table = self.tables["processes"]
        postgres = self.engine.dialect.name == "postgresql"
        columns = [
            sa.cast(table.c[name], sa.Text).label(name)
            if postgres and name in JSON_TEXT
            else sa.type_coerce(table.c[name], sa.String).label(name)
            if name in RAW
            else table.c[name]
            for name in COLUMNS
        ]
        query = sa.select(*columns).where(table.c.jobid == jobid).order_by(table.c.id)
        if postgres:  # its rows a range of the primary key, in its order: nothing to sort
            span = sa.select(sa.func.min(table.c.id), sa.func.max(table.c.id))
            with self._connect() as connection:
                low, high = connection.execute(span.where(table.c.jobid == jobid)).one()
            query = query.where(table.c.id.between(low, high))
        yield from self._chunks(query)

    def staged(self, first: int, last: int) -> Iterator[StoredRow]:
        """The ``processes_staging`` rows ``first`` to ``last`` (a job EPMT copied there from
        CSV v2 files on PostgreSQL, and has not post-processed yet), by host, then by id.

        Raises
        ------
        SourceError
            The database has no ``processes_staging`` table.
        """
        if "processes_staging" not in self.tables:
            raise SourceError(f"{self.label}: no processes_staging table")
        table = self.tables["processes_staging"]
        query = (
            sa.select(table)
            .where(table.c.id.between(first, last))
            .order_by(table.c.hostname, table.c.id)
        )
        yield from self._stream(query)

    def first_process(self, jobid: str) -> StoredRow | None:
        """One process of ``jobid`` (the first by id) with its ``start`` and ``threads_df``."""
        table = self.tables["processes"]
        query = (
            sa.select(table.c.start, table.c.threads_df)
            .where(table.c.jobid == jobid)
            .order_by(table.c.id)
            .limit(1)
        )
        with self._connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else row._mapping

    def span(self, jobid: str, staged: tuple[int, int] | None) -> tuple[Any, Any] | None:
        """The earliest start and latest end of the job's processes, as stored (naive
        datetimes in ``processes``; microseconds in ``processes_staging``, for ``staged``)."""
        if staged is not None:
            table = self.tables["processes_staging"]
            query = sa.select(sa.func.min(table.c.start), sa.func.max(table.c.finish)).where(
                table.c.id.between(*staged)
            )
        else:
            table = self.tables["processes"]
            query = sa.select(sa.func.min(table.c.start), sa.func.max(table.c.end)).where(
                table.c.jobid == jobid
            )
        with self._connect() as connection:
            low, high = connection.execute(query).one()
        return None if low is None else (low, high)

    def models(self) -> list[tuple[StoredRow, list[str]]]:
        """Every reference model (``refmodels`` row) with its jobs' ids, by id; none when
        the database has no models table."""
        if "refmodels" not in self.tables or "refmodel_job_associations" not in self.tables:
            return []
        models, links = self.tables["refmodels"], self.tables["refmodel_job_associations"]
        with self._connect() as connection:
            rows = [
                row._mapping for row in connection.execute(sa.select(models).order_by(models.c.id))
            ]
            pairs = connection.execute(
                sa.select(links.c.refmodel_id, links.c.jobid).order_by(links.c.jobid)
            ).all()
        jobs: dict[int, list[str]] = {}
        for ident, jobid in pairs:
            jobs.setdefault(int(ident), []).append(str(jobid))
        return [(row, jobs.get(int(row["id"]), [])) for row in rows]

    def _chunks(self, query: sa.Select[Any]) -> Iterator[Sequence[sa.Row[Any]]]:
        with self._connect() as connection:
            options = connection.execution_options(stream_results=True, yield_per=CHUNK)
            yield from options.execute(query).partitions()

    def _stream(self, query: sa.Select[Any]) -> Iterator[StoredRow]:
        with self._connect() as connection:
            result = connection.execution_options(stream_results=True, yield_per=CHUNK).execute(
                query
            )
            for row in result:
                yield row._mapping


def _first_line(exc: BaseException) -> str:
    """The first line of a database error (its SQL and parameters left out)."""
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
