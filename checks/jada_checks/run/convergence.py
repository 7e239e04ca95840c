"""Re-checking failing controls until they pass or ``--jada-retry-timeout`` runs out.

The deadline is per process and counted from the start of the session: "the deployment
has this long to converge". A control evaluated after the deadline gets one attempt, so a
run takes at most the timeout plus one ordinary pass, however many controls keep failing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from jada_checks.model import Outcome
from jada_checks.stash import DEADLINE_KEY

FIRST_DELAY = 1.0
MAX_DELAY = 5.0


def retry_deadline(config: pytest.Config) -> float | None:
    """The monotonic deadline set by the reports plugin, or None without --jada-retry-timeout."""
    return config.stash.get(DEADLINE_KEY, None)


def converge(evaluate: Callable[[], Outcome], forget: Callable[[], None],
             deadline: float | None, *, sleep: Callable[[float], None] = time.sleep,
             clock: Callable[[], float] = time.monotonic) -> tuple[Outcome, int]:
    """Evaluate; while fail/error and time is left, back off (1s doubling to 5s), forget
    the cached facts and evaluate again. Returns the last outcome and the attempt count."""
    outcome, attempts, delay = evaluate(), 1, FIRST_DELAY
    while outcome.status in ("fail", "error") and deadline is not None:
        remaining = deadline - clock()
        if remaining <= 0:
            break
        sleep(min(delay, remaining))
        forget()
        outcome, attempts = evaluate(), attempts + 1
        delay = min(delay * 2, MAX_DELAY)
    return outcome, attempts
