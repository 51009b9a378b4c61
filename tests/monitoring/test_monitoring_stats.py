"""Rolling statistics and statement shapes (pure Python: a settable clock, no database)."""

from __future__ import annotations

import pytest

from pyglue.monitoring import normalize
from pyglue.monitoring.stats import RollingStats, bin_of, bin_upper_ms


class Clock:
    def __init__(self, minute: int) -> None:
        self.minute = minute

    def __call__(self) -> float:
        return self.minute * 60.0 + 30.0


def test_windows_roll_minutes_into_hours_and_forget_after_a_day() -> None:
    clock = Clock(1_000_000)  # a whole hour: 1_000_000 % 60 == 40, any start works
    stats = RollingStats(clock=clock)
    stats.record("q", 10.0, False)
    clock.minute += 30
    stats.record("q", 30.0, True)
    one_hour = stats.summary("1h")
    assert (one_hour.count, one_hour.total_ms, one_hour.slow, one_hour.max_ms) == (2, 40.0, 1, 30.0)

    clock.minute += 31  # the first record is 61 minutes old
    assert stats.summary("1h").count == 1
    assert stats.summary("24h").count == 2
    stats.record("q", 5.0, False)  # rolls: the old minute folds into its hour
    assert stats.summary("1h").count == 2
    assert stats.summary("24h").count == 3
    assert stats.shape("q", "24h").total_ms == 45.0

    clock.minute += 24 * 60 + 60  # everything is more than a day old
    assert stats.summary("24h").count == 0
    stats.record("q", 1.0, False)
    assert (stats.summary("24h").count, stats.summary("1h").count) == (1, 1)
    assert stats.all_time().count == 4  # Prometheus totals never forget


def test_memory_stays_bounded_per_shape() -> None:
    clock = Clock(0)
    stats = RollingStats(clock=clock)
    for _ in range(3 * 24 * 60):  # three days, one execution a minute
        stats.record("q", 1.0, False)
        clock.minute += 1
    series = stats.shapes["q"]
    assert len(series.minutes) == 60
    assert len(series.hours) <= 25
    assert stats.summary("1h").count == 59  # the current minute has none yet
    assert 1380 <= stats.summary("24h").count <= 1500  # 24 hours, to the hour
    assert stats.all_time().count == 3 * 24 * 60


def test_p95_comes_from_the_histogram_within_one_bin() -> None:
    stats = RollingStats(clock=Clock(0))
    for ms in range(1, 101):
        stats.record("q", float(ms), False)
    summary = stats.summary("1h")
    assert summary.count == 100
    assert summary.mean_ms == pytest.approx(50.5)
    assert summary.max_ms == 100.0
    assert summary.p95_ms == bin_upper_ms(bin_of(95.0))
    assert 95.0 <= summary.p95_ms <= 95.0 * 2 ** (1 / 8)


def test_shapes_are_capped_least_recently_used_first() -> None:
    stats = RollingStats(max_shapes=3, clock=Clock(0))
    for shape in ("a", "b", "c", "a", "d", "e"):
        stats.record(shape, 2.0, False)
    assert list(stats.shapes) == ["a", "d", "e"]  # b then c were the least recently used
    assert stats.evictions == 2
    assert stats.summary("1h").count == 6  # evicted shapes still count in the totals
    assert stats.all_time().count == 6
    assert [row.shape for row in stats.top("1h", 10)] == ["a", "d", "e"]
    assert stats.top("1h", 1)[0].count == 2


def test_bad_input() -> None:
    stats = RollingStats()
    with pytest.raises(ValueError, match="window must be one of 1h, 24h, not '7d'"):
        stats.summary("7d")
    with pytest.raises(ValueError, match="limit must be an integer between 1 and 1000, not 0"):
        stats.top("1h", 0)
    with pytest.raises(ValueError, match="max_shapes must be an integer >= 1, not 0"):
        RollingStats(max_shapes=0)


@pytest.mark.parametrize(
    ("statement", "shape"),
    [
        (
            "SELECT a.id\n  FROM agents AS a\n WHERE a.id = %(id_1)s::UUID",
            "SELECT a.id FROM agents AS a WHERE a.id = ?::UUID",
        ),
        (
            "SELECT x FROM t WHERE id IN (%(id_1_1)s, %(id_1_2)s, %(id_1_3)s)",
            "SELECT x FROM t WHERE id IN (...)",
        ),
        (
            "SELECT x FROM t WHERE id IN (%(id_1_1)s, %(id_1_2)s)",
            "SELECT x FROM t WHERE id IN (...)",
        ),
        (
            "select * from t where name = 'bob''s' and n = 42",
            "select * from t where name = ? and n = ?",
        ),
        ("SELECT $1, $2 /* c */ ;", "SELECT ?, ?"),
        ("SELECT anon_1.c2 FROM t2 LIMIT 10 -- note", "SELECT anon_1.c2 FROM t2 LIMIT ?"),
        ("SELECT 1 WHERE x = ANY(ARRAY[1, 2, 3])", "SELECT ? WHERE x = ANY(ARRAY[...])"),
        (
            "INSERT INTO t (a, b) VALUES (%(a__0)s, %(b__0)s), (%(a__1)s, %(b__1)s) RETURNING t.id",
            "INSERT INTO t (a, b) VALUES (...), ... RETURNING t.id",
        ),
    ],
)
def test_normalize(statement: str, shape: str) -> None:
    assert normalize(statement) == shape
