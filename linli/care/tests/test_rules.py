"""Every rule on fixed-clock reading series: gaps, duplicates, out-of-order, silence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from linli.care import rules
from linli.care.rules import Point, Thresholds

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
T = Thresholds()
HALF = timedelta(minutes=30)


def series(litres: list[int], *, end: datetime = NOW, step: timedelta = HALF) -> list[Point]:
    """Readings ending at ``end``, one per ``step``, cumulative litres as given."""
    n = len(litres)
    return [Point(i + 1, end - (n - 1 - i) * step, v, "meter") for i, v in enumerate(litres)]


def test_no_water_fires_after_12_hours_of_under_10_litres() -> None:
    s = series([1000] * 20 + [1003] * 6)  # 12.5 h, 3 litres used
    v = rules.no_water(s, now=NOW, t=T)
    assert v is not None and v.rule == "no_water"
    assert v.evidence[0].at <= NOW - timedelta(hours=12) and v.evidence[-1].at == NOW


def test_no_water_quiet_when_10_litres_used() -> None:
    s = series([1000] * 20 + [1010] * 6)
    assert rules.no_water(s, now=NOW, t=T) is None


def test_no_water_needs_12_hours_of_history() -> None:
    assert rules.no_water(series([1000] * 20), now=NOW, t=T) is None  # 9.5 h only


def test_no_water_with_gap_judges_from_the_readings_around_it() -> None:
    s = [Point(1, NOW - timedelta(hours=14), 500, "meter"), Point(2, NOW, 504, "meter")]
    v = rules.no_water(s, now=NOW, t=T)
    assert v is not None and [p.id for p in v.evidence] == [1, 2]


def test_no_water_not_judged_on_a_silent_meter() -> None:
    reg = NOW - timedelta(days=9)
    late = series([1000] * 30, end=NOW - timedelta(hours=3))  # not silent yet: judged
    assert rules.no_water(late, now=NOW, t=T) is not None
    assert rules.silent(late[-1].at, registered_at=reg, kind="water_meter", now=NOW, t=T) is None
    quiet = series([1000] * 30, end=NOW - timedelta(hours=7))  # silent: maintenance only
    assert rules.no_water(quiet, now=NOW, t=T) is None
    assert rules.silent(quiet[-1].at, registered_at=reg, kind="water_meter", now=NOW, t=T)


def test_duplicates_and_out_of_order_readings_count_once() -> None:
    s = series([1000] * 20 + [1003] * 6)
    shuffled = list(reversed(s)) + s[:5]
    v = rules.no_water(shuffled, now=NOW, t=T)
    assert v is not None and len(v.evidence) == len({p.at for p in v.evidence})


def test_leak_when_every_half_hour_flows_for_24_hours() -> None:
    s = series([1000 + 5 * i for i in range(50)])
    v = rules.leak(s, now=NOW, t=T)
    assert v is not None and v.rule == "leak"


def test_no_leak_when_one_half_hour_is_dry() -> None:
    litres = [1000 + 5 * i for i in range(50)]
    litres[30] = litres[29]  # one interval without flow
    litres[31:] = [v - 5 for v in litres[31:]]
    assert rules.leak(series(litres), now=NOW, t=T) is None


def test_no_leak_across_a_long_gap() -> None:
    s = series([1000 + 5 * i for i in range(50)])
    gapped = s[:20] + s[23:]  # 2 h without readings: cannot tell every half-hour
    assert rules.leak(gapped, now=NOW, t=T) is None


def test_leak_needs_24_hours() -> None:
    assert rules.leak(series([1000 + 5 * i for i in range(40)]), now=NOW, t=T) is None


def test_high_use_against_the_median_day() -> None:
    day = 48
    litres = [int(1000 + 200 * i / day) for i in range(day * 5)]  # 200 L a day
    last = litres[-1]
    litres += [last + 30 * (i + 1) for i in range(day)]  # 1 440 L today
    v = rules.high_use(series(litres), now=NOW, t=T)
    assert v is not None and "1440" in v.summary


def test_high_use_quiet_on_a_normal_day_and_without_history() -> None:
    day = 48
    litres = [int(1000 + 200 * i / day) for i in range(day * 6)]
    assert rules.high_use(series(litres), now=NOW, t=T) is None
    assert rules.high_use(series(litres[: day * 2]), now=NOW, t=T) is None


def test_alarm_events_make_one_verdict_with_every_event_as_evidence() -> None:
    events = [Point(i, NOW - timedelta(seconds=i), 1, "sos") for i in range(1, 40)]
    v = rules.alarm(events + events, "sos")
    assert v is not None and len(v.evidence) == 39
    assert rules.alarm(events, "smoke") is None


def test_not_seen_after_three_days() -> None:
    seen = Point(1, NOW - timedelta(days=3, minutes=1), 1, "door")
    assert rules.not_seen(seen, watched_since=NOW - timedelta(days=30), now=NOW, t=T)
    recent = Point(1, NOW - timedelta(days=2), 1, "motion")
    assert rules.not_seen(recent, watched_since=NOW - timedelta(days=30), now=NOW, t=T) is None
    # A sensor registered yesterday has not had three days to see anyone.
    assert rules.not_seen(None, watched_since=NOW - timedelta(days=1), now=NOW, t=T) is None


def test_silent_after_n_hours_by_kind() -> None:
    reg = NOW - timedelta(days=10)
    assert (
        rules.silent(NOW - timedelta(hours=5), registered_at=reg, kind="water_meter", now=NOW, t=T)
        is None
    )
    assert rules.silent(
        NOW - timedelta(hours=7), registered_at=reg, kind="water_meter", now=NOW, t=T
    )
    # Event devices report only a daily heartbeat.
    assert (
        rules.silent(NOW - timedelta(hours=7), registered_at=reg, kind="smoke", now=NOW, t=T)
        is None
    )
    assert (
        rules.silent(None, registered_at=NOW - timedelta(hours=1), kind="water_meter", now=NOW, t=T)
        is None
    )


def test_resident_overrides_and_switches() -> None:
    t = T.with_overrides({"no_water_hours": 6, "off": ["leak"]})
    s = series([1000] * 14)  # 6.5 h dry
    assert rules.no_water(s, now=NOW, t=t) is not None
    leaking = series([1000 + 5 * i for i in range(50)])
    assert rules.meter_verdicts(leaking, now=NOW, t=t, care=True) == []
    assert [v.rule for v in rules.meter_verdicts(leaking, now=NOW, t=T, care=False)] == ["leak"]


def test_care_rules_only_for_care_households() -> None:
    dry = series([1000] * 30)
    assert rules.meter_verdicts(dry, now=NOW, t=T, care=False) == []
    assert [v.rule for v in rules.meter_verdicts(dry, now=NOW, t=T, care=True)] == ["no_water"]
