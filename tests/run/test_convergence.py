"""Convergence: re-checking until pass or deadline, with backoff; duration parsing."""

from __future__ import annotations

import pytest

from jada_checks.model import errored, failed, passed
from jada_checks.run.convergence import converge
from jada_checks.run.duration import parse_duration


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s


def test_converges_when_the_control_starts_passing() -> None:
    t = FakeTime()
    outcomes = iter([failed("down"), errored("no answer"), passed("up")])
    forgotten = []
    out, attempts = converge(lambda: next(outcomes), lambda: forgotten.append(1), 90,
                             sleep=t.sleep, clock=t.clock)
    assert out.status == "pass" and attempts == 3 and len(forgotten) == 2
    assert t.sleeps == [1.0, 2.0]


def test_stops_at_the_deadline_with_backoff_capped() -> None:
    t = FakeTime()
    out, attempts = converge(lambda: failed("down"), lambda: None, 20,
                             sleep=t.sleep, clock=t.clock)
    assert out.status == "fail"
    assert t.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0, 3.0] and t.now == 20
    assert attempts == 7


def test_no_retry_without_deadline_or_after_it() -> None:
    t = FakeTime()
    assert converge(lambda: failed("x"), lambda: None, None, sleep=t.sleep)[1] == 1
    t.now = 100
    assert converge(lambda: failed("x"), lambda: None, 90, sleep=t.sleep, clock=t.clock)[1] == 1
    assert converge(lambda: passed("x"), lambda: None, 900, sleep=t.sleep, clock=t.clock)[1] == 1
    assert t.sleeps == []


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("2m", 120), ("1m30s", 90), ("45", 45), ("1h", 3600), ("1.5m", 90),
    ("500ms", 0.5), (" 10S ", 10), ("1h30m", 5400), ("2 mins", 120), ("1m 30s", 90),
    ("1 hour 30 minutes", 5400), ("90 sec", 90),
])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "s", "ten", "10x", "-5s", "2 minx", "1m30", "m30"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
