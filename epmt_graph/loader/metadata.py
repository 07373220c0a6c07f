"""Job-level facts from an unpickled ``job_metadata``, as EPMT 5.0.1 derives them.

This mirrors ``epmtlib.check_fix_metadata`` and the first half of
``epmt_job.ETL_job_dict``: required keys, user and job name fallbacks, job tags (from
``job_tags`` or the stop environment's ``EPMT_JOB_TAGS``, reconciled with the
annotations), the environment changes, ``info_dict['status']`` and the time zone.

Naive timestamps are in the zone named by the job environment's ``TZ`` (or
``TIMEZONE``), else the ``EPMT_TZ`` environment variable, else ``US/Eastern``, and are
localised as pytz's ``localize`` does by default (``is_dst=False``: standard time for an
ambiguous or missing wall time). Aware timestamps (newer archives) keep their own zone.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import zoneinfo
from collections.abc import Mapping
from typing import Any, Protocol

from epmt_graph.errors import ArchiveError
from epmt_graph.schema import parse_tags, tag_string

__all__ = [
    "DEFAULT_TZ",
    "JOB_TAGS_ENV",
    "JobFacts",
    "JobMeta",
    "dumps",
    "localize",
    "zone_for",
]

#: Zone of naive metadata timestamps when neither the job nor ``EPMT_TZ`` names one.
DEFAULT_TZ = "US/Eastern"
#: The environment variable (and annotation) holding the job's tags.
JOB_TAGS_ENV = "EPMT_JOB_TAGS"
_REQUIRED = (
    "job_pl_id",
    "job_pl_submit_ts",
    "job_pl_start_ts",
    "job_pl_env",
    "job_el_stop_ts",
    "job_el_exitcode",
    "job_el_reason",
    "job_el_env",
)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)


def dumps(value: Any) -> str:
    """JSON with sorted keys; datetimes become ISO strings, other odd values ``str``."""
    return json.dumps(value, sort_keys=True, default=_json_default)


def _json_default(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def localize(naive: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """Attach ``zone`` as pytz's ``localize(is_dst=False)`` does.

    Examples
    --------
    >>> localize(dt.datetime(2019, 11, 3, 1, 30), zoneinfo.ZoneInfo("US/Eastern")).isoformat()
    '2019-11-03T01:30:00-05:00'
    """
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset() and second.dst() == dt.timedelta(0):
        return second
    return first


def zone_for(stamp: dt.datetime) -> str:
    """An IANA zone name that shows ``stamp`` (aware) with its own UTC offset.

    ``"UTC"`` for offset 0, ``"Etc/GMT-5"``-style for whole hours, else the first (sorted)
    zone with the same offset and abbreviation at that instant (``IST``, +05:30:
    ``Asia/Calcutta``), else ``"+05:30"``-style.

    Examples
    --------
    >>> ist = dt.timezone(dt.timedelta(hours=5, minutes=30), "IST")
    >>> zone_for(dt.datetime(2020, 6, 29, 17, 31, tzinfo=ist))
    'Asia/Calcutta'
    """
    key = getattr(stamp.tzinfo, "key", None)
    offset = stamp.utcoffset() or dt.timedelta(0)
    if key:
        return str(key)
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    if minutes % 60 == 0:
        return f"Etc/GMT{-minutes // 60:+d}"
    name = stamp.tzname()
    for zone in sorted(zoneinfo.available_timezones()):
        local = stamp.astimezone(zoneinfo.ZoneInfo(zone))
        if local.utcoffset() == offset and local.tzname() == name:
            return zone
    sign, size = ("-", -minutes) if minutes < 0 else ("+", minutes)
    return f"{sign}{size // 60:02d}:{size % 60:02d}"


def _mapping(meta: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    """``meta[key]`` as a copy, if it is a dict with string keys."""
    value = meta[key]
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ArchiveError(f"{where}: {key} is not a dict with string keys")
    return dict(value)


def _tags(value: Any, where: str) -> dict[str, str]:
    if value is not None and not isinstance(value, str | dict):
        raise ArchiveError(f"{where}: job tags {value!r} are neither a string nor a dict")
    return parse_tags(value)


class JobFacts(Protocol):
    """The job-level facts a job's row is made of (:class:`JobMeta` reads them from an
    archive's ``job_metadata``; the migrator from an EPMT database's ``jobs`` row)."""

    jobid: str
    user: str
    jobname: str
    hostname: str
    env: dict[str, Any]
    env_changes: dict[str, Any]
    annotations: dict[str, Any]
    analyses: dict[str, Any]
    status: dict[str, Any]
    tags: dict[str, str]
    start: int
    end: int
    submit: int
    zone: str
    tz_name: str


class JobMeta:
    """What the loader needs from ``job_metadata`` (a :class:`JobFacts`).

    Parameters
    ----------
    meta : dict
        The unpickled metadata (see :func:`~epmt_graph.loader.safe_pickle.load_metadata`).
    where : str
        The metadata's label in error messages.

    Attributes
    ----------
    jobid, user, jobname, hostname : str
        ``hostname`` is ``job_pl_hostname`` or ``""``.
    env, env_changes, annotations, status : dict
        Start environment, EPMT's environment changes, annotations (with EPMT's
        ``EPMT_JOB_TAGS`` entry) and ``info_dict['status']``.
    analyses : dict
        Empty: an archive holds no analyses.
    tags : dict of str to str
        The job tags.
    start, end, submit : int
        Microseconds since the epoch, UTC.
    zone : str
        IANA name of the zone the naive times are in; for aware timestamps with a fixed
        offset, a zone with that offset at the job's start (see ``_zone_for``).
    tz_name : str
        What EPMT stores as ``info_dict['tz']`` (the zone name, or e.g. ``"IST"``).

    Raises
    ------
    ArchiveError
        On a missing or empty required key, no user, wrongly typed values, an unknown
        time zone, or job tags that differ between metadata and annotations.
    """

    def __init__(self, meta: Mapping[str, Any], where: str) -> None:
        for key in _REQUIRED:
            if key not in meta or not str(meta[key]):
                raise ArchiveError(f"{where}: missing or empty {key}")
        env, stop_env = _mapping(meta, "job_pl_env", where), _mapping(meta, "job_el_env", where)
        stamps = [meta[k] for k in ("job_pl_start_ts", "job_el_stop_ts", "job_pl_submit_ts")]
        if not all(isinstance(s, dt.datetime) for s in stamps):
            raise ArchiveError(f"{where}: job start/stop/submit times are not datetimes")
        self.jobid = str(meta["job_pl_id"])
        user = meta.get("job_pl_username") or env.get("SLURM_JOB_USER") or env.get("USER")
        if not user:
            raise ArchiveError(f"{where}: no job_pl_username, SLURM_JOB_USER or USER")
        self.user = str(user)
        self.jobname = str(meta.get("job_jobname") or env.get("SLURM_JOB_NAME") or "unknown")
        self.hostname = str(meta.get("job_pl_hostname") or "")
        self.env = env
        if meta.get("job_env_changes") is not None:
            self.env_changes = _mapping(meta, "job_env_changes", where)
        else:  # EPMT's get_metadata_env_changes
            changes = {k: stop_env.get(k, env.get(k)) for k in env.keys() ^ stop_env.keys()}
            changes |= {k: v for k, v in stop_env.items() if k in env and env[k] != v}
            self.env_changes = changes
        self.tags = _tags(
            meta["job_tags"] if "job_tags" in meta else stop_env.get(JOB_TAGS_ENV), where
        )
        self.annotations = _mapping(meta, "annotations", where) if meta.get("annotations") else {}
        if JOB_TAGS_ENV in self.annotations:
            from_annotation = _tags(self.annotations[JOB_TAGS_ENV], where)
            if self.tags and from_annotation and self.tags != from_annotation:
                raise ArchiveError(f"{where}: job tags differ between metadata and annotations")
            self.tags = from_annotation or self.tags
        elif self.tags:
            self.annotations[JOB_TAGS_ENV] = tag_string(self.tags)
        self.analyses: dict[str, Any] = {}
        self.status = self._status(meta)
        self.zone, self.tz_name, aware = self._zone(stamps, where)
        self.start, self.end, self.submit = ((s - _EPOCH) // _US for s in aware)

    def _status(self, meta: Mapping[str, Any]) -> dict[str, Any]:
        status: dict[str, Any] = {}
        for key, name in (
            ("job_pl_scriptname", "script_name"),
            ("job_pl_script", "script"),
            ("job_el_stdout", "stdout"),
            ("job_el_stderr", "stderr"),
        ):
            if meta.get(key):
                status[name] = meta[key]
        if meta.get("job_el_exitcode") is not None:
            status["exit_code"] = meta["job_el_exitcode"]
        if meta.get("job_el_reason"):
            status["exit_reason"] = meta["job_el_reason"]
        if self.env.get("pp_script"):
            status["script_path"] = self.env["pp_script"]
        if "script_name" not in status and self.tags.get("script_name"):
            status["script_name"] = self.tags["script_name"]
        return status

    def _zone(self, stamps: list[dt.datetime], where: str) -> tuple[str, str, list[dt.datetime]]:
        """The zone's name, EPMT's ``info_dict['tz']``, and the timestamps made aware."""
        first = stamps[0].tzinfo
        if first is not None:
            return (
                zone_for(stamps[0]),
                str(first.tzname(None) or stamps[0].tzname()),
                [s.replace(tzinfo=s.tzinfo or first) for s in stamps],
            )
        in_env = next((self.env[k] for k in ("TZ", "TIMEZONE") if k in self.env), None)
        zone = str(in_env or os.environ.get("EPMT_TZ") or DEFAULT_TZ)
        try:
            info = zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ArchiveError(f"{where}: unknown time zone {zone!r}") from exc
        return zone, zone, [s if s.tzinfo else localize(s, info) for s in stamps]
