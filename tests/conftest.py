"""Fixtures of the self-tests.

``sandbox`` is one sandbox per test session, owned by the pytest process, booting only the
hosts the selected tests declare (``pytest.mark.sandbox_hosts("compliant", "cfg-*")`` on a
module; undeclared modules get every host). Tests that need no host run first, while the
hosts boot in the background; the first test that needs them waits for the boot.

Hypothesis profiles live here so every test module gets them: with ``CI`` set (CI runs
with CI=true) the property tests are deterministic, elsewhere they explore.
"""

from __future__ import annotations

import fnmatch
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from jada_checks.sandbox.sandbox import Sandbox
from tests.support import work_units
from tests.support.sandbox_harness import SandboxHarness, all_host_dirs

# CI: the same examples on every run and machine (derandomize seeds from each test's own
# source), no example database read or written (a replayed local failure would make runs
# differ), no deadline on a loaded shared runner, and the blob to reproduce any failure.
# Both start from hypothesis' "default" profile, whatever it auto-loaded for $CI itself.
settings.register_profile("jada-ci", settings.get_profile("default"), derandomize=True,
                          database=None, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
# Development: random exploration, and the local database (.hypothesis/) replays what
# failed before. Every failure found that way becomes an @example on its test.
settings.register_profile("jada-dev", settings.get_profile("default"), deadline=None)


def in_ci() -> bool:
    """CI=true (any value but empty, 0, false or no) selects the deterministic profile."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


settings.load_profile("jada-ci" if in_ci() else "jada-dev")

_BOOT: dict[str, object] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sandbox_hosts(*patterns): the sandbox hosts (glob "
                            "patterns over sandbox/hosts and the scratch hosts) a module needs")
    if not hasattr(config, "workerinput") and _distributed(config):
        _BOOT["units_dir"] = work_units.make_units_dir()
    if hasattr(config, "workerinput") and _distributed(config):
        # Sandbox runs have time budgets (a fact script, an HTTP answer); tests that need no host
        # have none. So every worker starts at a lower priority, and the one that is handed
        # the sandbox unit goes back to normal (pytest_runtest_setup): the host-free
        # modules fill the cores the sandbox leaves idle instead of starving its runs.
        os.setpriority(os.PRIO_PROCESS, 0, HOST_FREE_NICE)


HOST_FREE_NICE = 10


def pytest_runtest_setup(item: pytest.Item) -> None:
    if work_unit(item) == SANDBOX_UNIT and os.getpriority(os.PRIO_PROCESS, 0) != 0 \
            and hasattr(item.config, "workerinput"):
        os.setpriority(os.PRIO_PROCESS, 0, 0)  # root may raise it again (setpriority(2))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that needs booted hosts ``sandbox`` (so ``-m "not sandbox"`` is
    exactly the tests that need none). A serial run takes those last, so the boot overlaps
    the rest; an xdist worker records each test's work unit for the controller's scheduler
    (tests/support/work_units.py), longest first. First of all hooks, so later hooks
    (``-m``, ``-k`` deselection) see the marks."""
    for item in items:
        if "sandbox" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.sandbox)
    if _distributed(config):
        items.sort(key=start_rank)
    else:
        items.sort(key=lambda item: item.get_closest_marker("sandbox") is not None)


# xdist work units (tests/support/work_units.py). Every test that boots hosts is in one
# unit, run by one worker: the session's hosts boot there only, and two workers' sandboxes
# never compete for the cores (two 65-host sandboxes at once timed fact scripts out). Every
# other test is a unit of its own, so the other worker and then both share them out evenly.
# The Makefile turns xdist's reordering by unit size off, so units start in collection
# order: the sandbox unit, then the modules measured longest, so a long test never ends up
# as the tail of a run.
SANDBOX_UNIT = "sandbox-hosts"
LONGEST_MODULES = ("tests/reporting/test_e2e.py", "tests/ci/test_action.py",
                   "tests/ci/test_gitlab_local.py", "tests/test_wheel.py",
                   "tests/controls/test_lightsail_controls.py", "tests/test_options.py")


def work_unit(item: pytest.Item) -> str:
    if item.get_closest_marker("sandbox") is not None:
        return SANDBOX_UNIT
    return item.nodeid


def start_rank(item: pytest.Item) -> int:
    if work_unit(item) == SANDBOX_UNIT:
        return 0
    module = item.nodeid.split("::", 1)[0]
    return 1 + (LONGEST_MODULES.index(module) if module in LONGEST_MODULES
                else len(LONGEST_MODULES))


def _distributed(config: pytest.Config) -> bool:
    """An xdist run that hands out work units: the controller's --dist, or a worker the
    controller gave the units directory (xdist sets a worker's own --dist to "no")."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return work_units.UNITS_DIR in workerinput
    return getattr(config.option, "dist", "no") != "no"


def pytest_configure_node(node: Any) -> None:
    """xdist: tell each worker where to record its tests' work units."""
    if "units_dir" in _BOOT:
        node.workerinput[work_units.UNITS_DIR] = str(_BOOT["units_dir"])


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if "units_dir" not in _BOOT:
        return None
    return work_units.UnitScheduling(config, log, Path(str(_BOOT["units_dir"])))



def wanted_hosts(items: list[pytest.Item]) -> list[str]:
    """The hosts the selected tests that use the session sandbox declare."""
    every = all_host_dirs()
    want: set[str] = set()
    for item in items:
        if "sandbox" not in getattr(item, "fixturenames", ()):
            continue
        marks = list(item.iter_markers("sandbox_hosts"))
        if not marks:
            return sorted(every)
        for mark in marks:
            for pattern in mark.args:
                want |= set(fnmatch.filter(every, pattern))
    return sorted(want)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Start booting the session's hosts now, overlapping the tests that need none. An xdist
    worker boots only when it is handed the session's hosts (the ``sandbox`` fixture).
    First: a worker records its tests' work units before xdist's own hook reports its
    collection to the controller (after ``-m``/``-k`` deselected)."""
    workerinput = getattr(session.config, "workerinput", None)
    if workerinput is not None and work_units.UNITS_DIR in workerinput:
        work_units.write_units(Path(workerinput[work_units.UNITS_DIR]),
                               workerinput["workerid"],
                               {item.nodeid: work_unit(item) for item in session.items})
    hosts = wanted_hosts(session.items)
    if not hosts or session.config.option.collectonly:
        return
    _BOOT.update(sandbox=Sandbox(f"selftest-{os.getpid()}"), hosts=hosts)
    if not hasattr(session.config, "workerinput"):
        _start_boot()


def _start_boot() -> None:
    sb: Sandbox = _BOOT["sandbox"]  # type: ignore[assignment]
    every = all_host_dirs()
    hosts: list[str] = _BOOT["hosts"]  # type: ignore[assignment]

    def boot() -> None:
        try:
            sb.claim()
            sb.add({h: str(every[h]) for h in hosts})
        except BaseException as exc:  # handed to the first test that needs the hosts
            _BOOT["error"] = exc

    thread = threading.Thread(target=boot, name="sandbox-boot", daemon=True)
    thread.start()
    _BOOT["thread"] = thread


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHarness]:
    if "sandbox" not in _BOOT:
        pytest.fail("the session's sandbox was not started (no host declared?)")
    if "thread" not in _BOOT:
        _start_boot()
    sb: Sandbox = _BOOT["sandbox"]  # type: ignore[assignment]
    _BOOT["thread"].join()  # type: ignore[attr-defined]
    try:
        if "error" in _BOOT:
            raise _BOOT["error"]  # type: ignore[misc]
        yield SandboxHarness(sb, tmp_path_factory.mktemp("sandbox"))
    finally:
        if not keep_sandbox():
            sb.down()


def keep_sandbox() -> bool:
    """JADA_KEEP_SANDBOX=1 leaves the session's hosts running after the tests, to read
    their journals (``nsenter -t <init pid> -a journalctl``); ``jada-sandbox down --name
    selftest-<pid>`` removes them."""
    return bool(os.environ.get("JADA_KEEP_SANDBOX"))


def pytest_unconfigure(config: pytest.Config) -> None:
    if "units_dir" in _BOOT and not hasattr(config, "workerinput"):
        work_units.remove_units_dir(Path(str(_BOOT["units_dir"])))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A boot that no test waited for (all deselected, or an interrupt) is taken down."""
    sb = _BOOT.get("sandbox")
    if isinstance(sb, Sandbox) and "thread" in _BOOT and sb.machines() \
            and not keep_sandbox():
        _BOOT["thread"].join()  # type: ignore[attr-defined]
        sb.down()
