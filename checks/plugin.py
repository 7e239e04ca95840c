"""The pytest plugin (entry point ``jada``): profile in, one test item per control × target.

With a profile (``--profile`` or ``JADA_PROFILE``) the run *is* the control catalogue:
file collection is switched off and an item ``JADA-AREA-NN[target]`` is generated for
every control that applies to every target. An item's outcome follows the control's:
pass → passed, fail → failed, error → pytest error (in setup), skipped → skipped.
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Any

import pytest

from checks.context import CheckContext, FactStore
from checks.controls import catalogue
from checks.inputs import InputError
from checks.model import SEVERITIES, CheckError, Control, Outcome, errored
from checks.profile import Profile, Target, load_profile, profile_path

PROFILE_KEY = pytest.StashKey[Profile]()
STORE_KEY = pytest.StashKey[FactStore]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("jada", "jada-checks")
    group.addoption("--profile", dest="jada_profile", metavar="PATH",
                    help="deployment profile (YAML); default: $JADA_PROFILE")
    group.addoption("--list-controls", action="store_true", dest="jada_list",
                    help="print the control catalogue and exit")


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if config.getoption("jada_list"):
        print_catalogue()
        return 0
    return None


def print_catalogue() -> None:
    for c in catalogue():
        print(f"{c.id:<14} {c.severity:<9} {c.side:<10} {c.title}")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for sev in SEVERITIES:
        config.addinivalue_line("markers", f"severity_{sev}: controls of severity {sev}")
    for area in ("unit", "fd", "lim", "net", "cfg", "ls"):
        config.addinivalue_line("markers", f"area_{area}: controls of area JADA-{area.upper()}")
    path = profile_path(config.getoption("jada_profile", None))
    if not path:
        return
    try:
        profile = load_profile(path)
    except InputError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[PROFILE_KEY] = profile
    config.stash[STORE_KEY] = FactStore(profile)


def pytest_unconfigure(config: pytest.Config) -> None:
    store = config.stash.get(STORE_KEY, None)
    if store is not None:
        store.close()


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """In profile mode the controls are the tests: collect no files."""
    return True if PROFILE_KEY in config.stash else None


def applies(control: Control, target: Target) -> bool:
    return target.ssh is not None if control.side == "host" else target.lightsail is not None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    profile = config.stash.get(PROFILE_KEY, None)
    if profile is None:
        return
    for target in profile.targets:
        for c in catalogue():
            if applies(c, target):
                items.append(ControlItem.from_parent(session, name=f"{c.id}[{target.name}]",
                                                     nodeid=f"{c.id}[{target.name}]",
                                                     control=c, target=target))


class ControlFailed(Exception):
    """Raised in the call phase for a failing control; reported without a traceback."""


class ControlErrored(Exception):
    """Raised in the setup phase when a control could not look; pytest reports *error*."""


class ControlItem(pytest.Item):
    def __init__(self, *, control: Control, target: Target, **kw: Any) -> None:
        super().__init__(**kw)
        self.control = control
        self.target = target
        self.outcome: Outcome | None = None
        self.duration = 0.0
        self.add_marker(f"severity_{control.severity}")
        self.add_marker(f"area_{control.area}")
        self.add_marker(pytest.mark.xdist_group(target.name))
        self.user_properties += [("control", control.id), ("severity", control.severity),
                                 ("target", target.name)]

    def evaluate(self) -> Outcome:
        """Run the check; any failure to look becomes an error outcome, never a pass."""
        store = self.config.stash[STORE_KEY]
        ctx = CheckContext(self.target, store)
        try:
            outcome = self.control.check(ctx)
        except CheckError as exc:
            outcome = errored(str(exc))
        except Exception as exc:  # a defect in a check must not look like a pass
            where = traceback.extract_tb(exc.__traceback__)[-1]
            outcome = errored(f"internal error in the check: {type(exc).__name__} at "
                              f"{Path(where.filename).name}:{where.lineno}")
        if not isinstance(outcome, Outcome):
            outcome = errored("internal error: the check returned no outcome")
        return outcome

    def setup(self) -> None:
        start = time.monotonic()
        self.outcome = self.evaluate()
        self.duration = time.monotonic() - start
        if self.outcome.status == "error":
            raise ControlErrored(self.outcome.message)

    def runtest(self) -> None:
        assert self.outcome is not None
        if self.outcome.status == "fail":
            raise ControlFailed(self.outcome.message)
        if self.outcome.status == "skipped":
            pytest.skip(self.outcome.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        return self.describe()

    def describe(self) -> str:
        """The user's message: outcome, values, source and remediation; no traceback."""
        o = self.outcome
        if o is None:
            return "the control was not evaluated"
        lines = [f"{self.control.id} [{self.target.name}] {o.status.upper()}: {o.message}"]
        if o.observed is not None:
            lines.append(f"  observed: {o.observed}")
        if o.expected is not None:
            lines.append(f"  expected: {o.expected}")
        if o.source:
            lines.append(f"  source:   {o.source}")
        if o.status in ("fail", "error"):
            lines.append(f"  fix:      {self.control.remediation}")
        return "\n".join(lines)

    def reportinfo(self) -> tuple[str, int | None, str]:
        return (f"{self.control.area}", None, f"{self.control.id}[{self.target.name}]")


def outcome_record(item: ControlItem) -> dict[str, Any]:
    """A JSON-able record of one control × target, carried on the report (xdist-safe)."""
    o = item.outcome
    return {
        "control": item.control.id, "title": item.control.title,
        "severity": item.control.severity, "area": item.control.area,
        "target": item.target.name,
        "outcome": o.status if o else "error",
        "message": o.message if o else "not evaluated",
        "observed": None if o is None or o.observed is None else str(o.observed),
        "expected": None if o is None or o.expected is None else str(o.expected),
        "source": o.source if o else None,
        "remediation": item.control.remediation,
        "duration": round(item.duration, 4),
    }


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    result = yield
    if not isinstance(item, ControlItem):
        return
    report = result.get_result()
    if item.outcome is None:
        return
    if call.excinfo is not None and call.excinfo.errisinstance((ControlErrored, ControlFailed)):
        report.longrepr = item.describe()
    is_final = (report.when == "call") or (report.when == "setup" and report.outcome != "passed")
    if is_final:
        rec = outcome_record(item)
        report.jada = rec
        item.user_properties.append(("outcome", rec["outcome"]))
