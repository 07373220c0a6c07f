"""Process rows made many at once (``epmt_graph.api.rows``): times converted a column at a
time against the standard library's conversion of each instant, with the zones whose
offsets change at odd hours; tag dicts not shared; the garbage collector given back.
"""

from __future__ import annotations

import datetime as dt
import gc
import random
from zoneinfo import ZoneInfo

import pytest

from epmt_graph.api.rows import local_times, paused_collector, process_rows

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: Offsets changing on the hour, on the half hour (St John's, Lord Howe: a 30-minute
#: shift), at a quarter (Kathmandu's +5:45 since 1986), backwards in winter (Dublin), by a
#: whole day (Apia, December 2011), and never (UTC).
ZONES = (
    "US/Eastern",
    "America/St_Johns",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Europe/Dublin",
    "Pacific/Apia",
    "Asia/Kolkata",
    "UTC",
)
MINUTE = 60_000_000


def naive_local(micros: int, zone: str) -> dt.datetime:
    """The standard library's answer: the instant in the zone, its offset dropped."""
    instant = EPOCH + dt.timedelta(microseconds=micros)
    return instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def offset(micros: int, zone: str) -> dt.timedelta:
    """The zone's offset from UTC at an instant."""
    return naive_local(micros, zone) - (EPOCH.replace(tzinfo=None) + micros * dt.timedelta(0, 0, 1))


def transitions(zone: str, start: int, end: int) -> list[int]:
    """The instants (µs) in [start, end) where the zone's offset changes, to the minute
    (looked for every 6 hours, then bisected)."""
    found, step = [], 6 * 60 * MINUTE
    for t in range(start + step, end, step):
        lo, hi = t - step, t
        if offset(lo, zone) == offset(hi, zone):
            continue
        while hi - lo > MINUTE:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if offset(mid, zone) == offset(lo, zone) else (lo, mid)
        found.append(hi)
    return found


@pytest.mark.parametrize("zone", ZONES)
def test_local_times_match_each_instant_converted_alone(zone: str) -> None:
    start = int(dt.datetime(2009, 1, 1, tzinfo=dt.UTC).timestamp()) * 1_000_000
    end = int(dt.datetime(2013, 1, 1, tzinfo=dt.UTC).timestamp()) * 1_000_000
    rng = random.Random(zone)
    instants = [rng.randrange(start, end) for _ in range(2000)]
    changes = transitions(zone, start, end)
    assert zone in ("Asia/Kathmandu", "Asia/Kolkata", "UTC") or len(changes) >= 6
    for change in changes:  # every minute around each change, and a microsecond either side
        instants += [change + k * MINUTE + rng.randrange(MINUTE) for k in range(-120, 120)]
        instants += [change - 1, change, change + 1]
    rng.shuffle(instants)
    assert local_times(instants, [zone] * len(instants)) == [naive_local(m, zone) for m in instants]


def test_local_times_mix_zones_and_missing_times() -> None:
    rng = random.Random(7)
    instants: list[int | None] = [rng.randrange(0, 2_000_000_000_000_000) for _ in range(500)]
    zones = [rng.choice(ZONES) for _ in instants]
    expected = [naive_local(m, z) for m, z in zip(instants, zones, strict=True)]  # type: ignore[arg-type]
    assert local_times(instants, zones) == expected
    instants[3] = None
    expected[3] = None  # type: ignore[call-overload]
    assert local_times(instants, zones) == expected
    assert local_times([], []) == []


def test_rows_with_the_same_tags_have_their_own_tag_dicts() -> None:
    node = {"uid": "7:0", "jobid": "7", "start": 0, "end": 1, "version": 5, "tz": "UTC"}
    first, second = process_rows([{**node, "tag_pairs": ["op:cp", "op_instance:2"]}] * 2)
    assert first["tags"] == second["tags"] == {"op": "cp", "op_instance": "2"}
    first["tags"]["op"] = "mv"
    assert second["tags"]["op"] == "cp"
    assert first["created_at"] == first["updated_at"] == dt.datetime(1970, 1, 1, 0, 0, 0, 5)


def test_the_collector_runs_again_after_a_pause_even_on_error() -> None:
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), paused_collector():
        assert not gc.isenabled()
        _ = 1 / 0
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_collector():
            pass
        assert not gc.isenabled()  # it was off: left off
    finally:
        gc.enable()
