"""How many xdist workers a profile run starts for ``-n N``, and the sentence that says why.

Pure (no pytest, no I/O): :func:`jada_checks.run.workers.decide` gathers the inputs (``-n``,
the selected targets, the user's Testinfra calls counted by
:mod:`jada_checks.run.workload`) before xdist starts any worker; the table of cases is in
``tests/run/test_workers.py``. The break-even is measured (README, "Speed").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Measured break-even (README, "Speed", "-n N with your own checks"): a worker pays for
# its start-up only with about this many Testinfra calls of its own to make. The ini key
# jada_calls_per_worker overrides it (0: split whenever -n asks and there are targets).
CALLS_PER_WORKER = 50
INI_CALLS = "jada_calls_per_worker"


@dataclass(frozen=True)
class Plan:
    """How a profile run uses ``-n``: ``workers`` started (0: this process runs it all),
    ``asked`` by ``-n`` (0: not asked; then nothing to say), ``why`` for the header and the
    summary, and the estimate it was decided on (``calls``; None: no user tests)."""

    asked: int
    workers: int
    why: str
    calls: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {"asked": self.asked, "workers": self.workers, "why": self.why,
                "estimated_testinfra_calls": self.calls}


def plan(asked: int, targets: int, calls: int | None, *,
         per_worker: int = CALLS_PER_WORKER, maxprocesses: int | None = None,
         at_least: bool = False) -> Plan:
    """How many workers a profile run starts for ``-n asked`` (pure: the table in
    ``tests/run/test_workers.py``).

    ``calls``: the Testinfra calls of the user's checks on all ``targets``
    (:mod:`jada_checks.run.workload`), None without user tests. Workers = the least of
    ``-n``, ``--maxprocesses``, the targets (a target's tests all run on one worker),
    and ``calls // per_worker`` (each worker must have enough calls to pay for its
    start-up). Not the CPUs: a worker mostly waits on its targets' round trips, and on 2
    CPUs ``-n 4`` took 0.69x the time of ``-n 2`` (8 targets x 40 calls, README "Speed").
    Fewer than two: none, the run stays in this process and says why.
    ``at_least``: the count stopped once it was enough (the message says so)."""
    if asked < 1:
        return Plan(0, 0, "", calls)
    ignored = f"-n {asked} ignored: "
    if calls is None:
        return Plan(asked, 0, ignored + "every target is checked concurrently in this "
                    "process (one SSH login and one command each); xdist workers would "
                    "only add start-up and per-item cost", calls)
    if targets < 2:
        return Plan(asked, 0, ignored + "one target, and all its tests run on one worker; "
                    "this process runs them", calls)
    limits = [(asked, f"-n {asked}"), (targets, f"the {targets} targets")]
    if maxprocesses:
        limits.append((maxprocesses, f"--maxprocesses {maxprocesses}"))
    if per_worker > 0:
        limits.append((calls // per_worker, f"one worker per {per_worker} Testinfra calls "
                       f"({INI_CALLS})"))
    n, cap = min(limits, key=lambda lim: lim[0])
    work = (f"your checks make {'at least' if at_least else 'about'} {calls} Testinfra "
            f"calls on {targets} targets")
    if n >= 2:
        capped = f", capped at {cap}" if n < asked else ""
        return Plan(asked, n, f"-n {asked}: {n} workers{capped}; {work}", calls)
    if asked == 1:
        why = "one worker would run what this process runs, after starting (-n pays from two)"
    elif per_worker > 0 and n == calls // per_worker:
        why = (f"{work}, fewer than the {2 * per_worker} at which two workers pay for their "
               f"start-up ({INI_CALLS} = {per_worker}); this process runs them")
    else:
        why = f"capped at {cap}; this process runs them"
    return Plan(asked, 0, ignored + why, calls)
