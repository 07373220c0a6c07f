"""EPMT 5.0.1's recorded answers on the sample jobs (``fixtures/epmt/answers.json``), and
the conversions that put our answers in the same shape for comparison."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

ANSWERS = Path(__file__).parent / "fixtures" / "epmt" / "answers.json"
#: The zone of the query jobs' naive times.
EASTERN = ZoneInfo("US/Eastern")


@cache
def answers() -> dict[str, Any]:
    """The whole answers file."""
    return dict(json.loads(ANSWERS.read_text()))


def workbook(key: str) -> Any:
    """EPMT's answer to one workbook call, by the call's text."""
    return answers()["workbook"][key]


def plain(value: Any) -> Any:
    """A Python answer as the answers file stores it (ISO datetimes, sorted sets, records)."""

    def default(v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return v.isoformat()
        if isinstance(v, set):
            return sorted(v)
        if isinstance(v, pd.DataFrame):
            return v.to_dict("records")
        raise TypeError(v)

    return json.loads(json.dumps(value, default=default))


def key(row: dict[str, Any]) -> str:
    """EPMT answers' process key: host, pid and the raw papiex start in microseconds."""
    start = row["start"].replace(tzinfo=EASTERN)
    micros = (start - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    return f"{row['host']}:{row['pid']}:{micros}"


REFMODELS = ANSWERS.with_name("refmodels.json")


def refmodels(key: str) -> Any:
    """EPMT's answer to one reference-model or comparability call (``refmodels.json``)."""
    return json.loads(REFMODELS.read_text())["calls"][key]


def close(ours: Any, theirs: Any, rel: float = 1e-9, path: str = "") -> None:
    """Assert two JSON-like answers equal, numbers to ``rel`` relative (``None`` = NaN)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and sorted(ours) == sorted(theirs), (path, ours, theirs)
        for k in theirs:
            close(ours[k], theirs[k], rel, f"{path}.{k}")
    elif isinstance(theirs, list | tuple):
        assert isinstance(ours, list | tuple) and len(ours) == len(theirs), (path, ours, theirs)
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            close(a, b, rel, f"{path}[{i}]")
    elif isinstance(theirs, float) or (isinstance(theirs, int) and not isinstance(theirs, bool)):
        assert isinstance(ours, int | float) and not isinstance(ours, bool), (path, ours, theirs)
        assert abs(ours - theirs) <= rel * max(abs(ours), abs(theirs)), (path, ours, theirs)
    else:
        assert ours == theirs, (path, ours, theirs)
