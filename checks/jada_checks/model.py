"""The control model: what a control is, and what one evaluation of it yields.

Every check is a *control* with a stable ID; evaluating it against one target yields
exactly one :class:`Outcome`. Controls are pure functions from facts to an outcome, so
the only place that touches a target is the fact gathering (``jada_checks.facts``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jada_checks.context import CheckContext

SEVERITIES = ("critical", "high", "medium", "low", "info")
STATUSES = ("pass", "fail", "error", "skipped")
CONTROL_ID = re.compile(r"^JADA-[A-Z]+-\d{2}$")


def severity_rank(severity: str) -> int:
    """Higher is more severe: critical=4 ... info=0."""
    return len(SEVERITIES) - 1 - SEVERITIES.index(severity)


@dataclass
class Outcome:
    """The result of one control against one target.

    ``observed`` and ``expected`` are short, secret-free renderings of the values that
    decided the outcome; ``source`` says where the observed value came from (a file and
    line, a unit property, an API field).
    """

    status: str
    message: str
    observed: Any = None
    expected: Any = None
    source: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown outcome status {self.status!r}")


def passed(message: str, **kw: Any) -> Outcome:
    return Outcome("pass", message, **kw)


def failed(message: str, **kw: Any) -> Outcome:
    return Outcome("fail", message, **kw)


def errored(message: str, **kw: Any) -> Outcome:
    return Outcome("error", message, **kw)


def skipped(message: str, **kw: Any) -> Outcome:
    return Outcome("skipped", message, **kw)


class CheckError(Exception):
    """Raised while evaluating a control when it could not look; becomes an *error*."""


CheckFn = Callable[["CheckContext"], Outcome]


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    severity: str
    area: str
    side: str  # "host" (over SSH), "lightsail" (boto3) or "http" (from the runner)
    rationale: str
    remediation: str
    check: CheckFn = field(compare=False, repr=False)
    # The fix as a shell block with {placeholders} (jada_checks.remediation fills them):
    # what an operator pastes into a root shell on the target, or an AWS CLI shell.
    fix: str = ""

    def __post_init__(self) -> None:
        if not CONTROL_ID.match(self.id):
            raise ValueError(f"control ID {self.id!r} is not of the form JADA-AREA-NN")
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.id}: unknown severity {self.severity!r}")
        if self.side not in ("host", "lightsail", "http"):
            raise ValueError(f"{self.id}: unknown side {self.side!r}")


REGISTRY: dict[str, Control] = {}


def control(
    id: str,
    *,
    title: str,
    severity: str,
    side: str,
    rationale: str,
    remediation: str,
    fix: str,
) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated function as the check of a control: everything about a
    control (its text, its fix as code, its check) is written in one place."""

    def register(fn: CheckFn) -> CheckFn:
        if id in REGISTRY:
            raise ValueError(f"control {id} is registered twice")
        area = id.split("-")[1].lower()
        REGISTRY[id] = Control(id, title, severity, area, side, rationale.strip(),
                               remediation.strip(), fn, fix)
        return fn

    return register
