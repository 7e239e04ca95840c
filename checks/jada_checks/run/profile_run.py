"""A profile run: one test item per control × target, and the header that says so.

Loaded by :mod:`jada_checks.plugin` only when a profile is set; :func:`start` loads the
profile and registers this module as a plugin. File collection is switched off and an
item ``JADA-AREA-NN[target]`` is generated for every control that applies to every
target. An item's outcome follows the control's: pass → passed, fail → failed,
error → pytest error (in setup), skipped → skipped.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time
import traceback
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

import jada_checks
from jada_checks import remediation
from jada_checks.context import CheckContext, FactStore
from jada_checks.controls import areas, catalogue
from jada_checks.inputs import InputError
from jada_checks.model import CheckError, Control, Outcome, errored
from jada_checks.options import ENV_PROFILE, early_setting, setting
from jada_checks.profile import Profile, Target, load_profile
from jada_checks.run import own_checks, workers
from jada_checks.run.convergence import converge, retry_deadline
from jada_checks.run.own_checks import user_test_paths
from jada_checks.run.shard import ShardError, selected
from jada_checks.setting import Setting
from jada_checks.stash import (
    DISTRIBUTED_KEY,
    EARLY_KEY,
    PLAN_KEY,
    PROFILE_KEY,
    SOURCE_KEY,
    STATS_KEY,
    STORE_KEY,
    USER_PATHS_KEY,
)

T0 = time.monotonic()
SHOWN_TARGETS = 5


def lightsail_checks() -> list[Callable[[CheckContext], Any]]:
    """The checks of the catalogue's Lightsail controls: the fact store runs them in its
    prefetch thread, so their calls overlap the SSH round trip."""
    return [c.check for c in catalogue() if c.side == "lightsail"]


def new_store(profile: Profile) -> FactStore:
    return FactStore(profile, lightsail_checks=lightsail_checks)


def start_early(config: pytest.Config, path: str) -> None:
    """Before conftest files load: load the profile and start every target's fact
    gathering (:func:`gather_now`), for :func:`start` to take over. Only when nothing can
    change the targets later: no discovery (it needs the Lightsail calls first), no
    selection that may need no facts (:func:`narrowed`), a valid shard. Anything wrong is
    left for :func:`start` to report."""
    ns = config.known_args_namespace
    try:
        profile = load_profile(path)
        shard = early_setting(config, "jada_shard").value
        selected((), shard, str)
    except (InputError, ShardError, pytest.UsageError):
        return
    if profile.discover is not None or narrowed(ns):
        return
    if workers.requested(ns) and workers.user_tests(config) and workers.decide(
            config, selected(profile.targets, shard, lambda t: t.name), ns).workers:
        return  # split across workers: each logs in to its own targets (start, settle)
    store = new_store(profile)
    # With user tests, each target's one login is shared with their Testinfra commands.
    store.share_logins = bool(user_test_paths(config))
    config.stash[EARLY_KEY] = (path, profile, store)
    # pytest can still stop before configure (a usage error, a conftest that fails to
    # import): then its cleanup stops the logins instead of exit waiting on them.
    config.add_cleanup(store.close)
    gather_now(store, profile, shard, ns)


def gather_now(store: FactStore, profile: Profile, shard: str | None, options: Any,
               config: pytest.Config | None = None) -> None:
    """Unless pytest's selection could drop a target or a side (:func:`narrowed`), log in
    to every target and gather its facts now, while pytest is still starting up, instead
    of after collection. The logins start before the controls are imported (they need
    only the profile); the fact script, built from the controls' probes, follows on
    stdin."""
    if narrowed(options):
        return
    targets = selected(profile.targets, shard, lambda t: t.name)
    if config is not None:  # split across workers: a worker's share, none in the controller
        targets = workers.start_targets(config, targets)
    store.login([t for t in targets if t.ssh is not None])
    sides = {c.side for c in catalogue()}
    store.prefetch([(side, t) for t in targets for side in sorted(sides)
                    if applies_side(side, t)])


def start(config: pytest.Config, source: Setting) -> None:
    """Load the profile named by ``source`` and turn this session into a profile run."""
    early = config.stash.get(EARLY_KEY, None)
    if early is not None:
        del config.stash[EARLY_KEY]
        if early[0] != str(source.value):  # cannot happen today; never check the wrong one
            early[2].close()
            early = None
    try:
        profile = early[1] if early else load_profile(source.value)
    except InputError as exc:
        why = f"\n(the profile was named by {source.origin})" if source.source != "option" else ""
        raise pytest.UsageError(f"{exc}{why}") from None
    try:
        selected((), config.getoption("jada_shard", None), str)
    except ShardError as exc:
        raise pytest.UsageError(f"{setting(config, 'jada_shard').origin}: {exc}") from None
    if profile.discover is not None:
        from jada_checks.aws.discovery import expand

        profile = expand(profile)
    config.stash[PROFILE_KEY] = profile
    config.stash[SOURCE_KEY] = source
    workers.settle(config, selected(profile.targets, config.getoption("jada_shard"),
                                    lambda t: t.name))
    config.stash[STORE_KEY] = early[2] if early else new_store(profile)
    # Our own test dependency, useless in a profile run, and its terminal summary imports
    # all of hypothesis (about 0.5-1.5 s) at the end of every run.
    config.pluginmanager.set_blocked("hypothesispytest")
    config.stash[STATS_KEY] = []
    config.pluginmanager.register(sys.modules[__name__], "jada-profile-run")
    config.stash[USER_PATHS_KEY] = paths = user_test_paths(config)
    if paths:
        own_checks.activate(config, paths)
        config.stash[STORE_KEY].share_logins = True  # before its logins (not started early)
    if not early:
        gather_now(config.stash[STORE_KEY], profile, config.getoption("jada_shard"),
                   config.option, config)


def split_across_workers(config: pytest.Config) -> bool:
    """Is this run split by target across xdist workers (:mod:`jada_checks.run.workers`)?"""
    return DISTRIBUTED_KEY in config.stash


def narrowed(o: Any) -> bool:
    """Could pytest's own selection (-k, -m, --deselect, --lf, --sw, --collect-only) leave
    a target or a side unchecked? Then facts wait for collection, so a selection that
    needs no host facts opens no connection. ``o``: the parsed options."""
    return bool(o.keyword or o.markexpr or getattr(o, "deselect", None) or o.collectonly
                or getattr(o, "lf", False) or getattr(o, "stepwise", False)
                or getattr(o, "stepwise_skip", False))


def header(config: pytest.Config) -> list[str]:
    """Which profile this run checks, its targets, and who chose it."""
    profile = config.stash[PROFILE_KEY]
    source = config.stash[SOURCE_KEY]
    names = [t.name for t in profile.targets]
    shown = ", ".join(names[:SHOWN_TARGETS])
    if len(names) > SHOWN_TARGETS:
        shown += f", ... (+{len(names) - SHOWN_TARGETS} more)"
    where = {"option": "--jada-profile", "environment": f"environment ${ENV_PROFILE}",
             "ini": f"ini {source.origin}"}.get(source.source, source.origin)
    if source.shadowed:
        where += f"; overrides {', '.join(source.shadowed)}"
    lines = [f"jada-checks {jada_checks.__version__}: profile {profile.path} (from {where}), "
             f"{len(names)} target{'s' if len(names) != 1 else ''}: {shown}"]
    if source.source == "environment":
        lines.append(env_takeover(profile.path, config.stash.get(USER_PATHS_KEY, None)))
    if profile.discovery is not None:
        from jada_checks.aws.discovery import summary

        lines.append(f"jada-checks: {summary(profile.discovery)}")
    split = workers.header_line(config)
    if split:
        lines.append(split)
    used = workers.summary_line(config)
    if used:
        lines.append(used)
    return lines


def env_takeover(path: Path, paths: list[str] | None = None) -> str:
    if paths:  # the project named its own checks (ini jada_tests, the command line)
        return (f"jada-checks: ${ENV_PROFILE} is set, so this run checks the targets of "
                f"{path} with your checks from {', '.join(paths)} instead of running this "
                "project's tests as they are; unset it to run them")
    return (f"jada-checks: ${ENV_PROFILE} is set, so this run checks the targets of {path} "
            "instead of collecting this project's tests; unset it to run them")


def pytest_report_header(config: pytest.Config) -> list[str]:
    return header(config)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    """Also at the end, where ``-q`` runs and CI logs are read: the takeover by the env,
    how many xdist workers the run used and why."""
    used = workers.summary_line(config)
    if used:
        terminalreporter.write_line(used)
    if config.stash[SOURCE_KEY].source == "environment":
        terminalreporter.write_line(env_takeover(config.stash[PROFILE_KEY].path,
                                                 config.stash.get(USER_PATHS_KEY, None)),
                                    yellow=True)
    discovery = config.stash[PROFILE_KEY].discovery
    if discovery is not None:  # also at the end: -q hides the header
        from jada_checks.aws.discovery import summary
        from jada_checks.reporting.document import undiscovered

        terminalreporter.write_line(f"jada-checks: {summary(discovery)}",
                                    red=bool(undiscovered(discovery)))


def pytest_unconfigure(config: pytest.Config) -> None:
    store = config.stash.get(STORE_KEY, None)
    if store is not None:
        store.close()
    # The run is over; what is alive now (the imported modules, botocore's service
    # models, the items) lives until exit. Moving it to the collector's permanent
    # generation (gc.freeze, https://docs.python.org/3/library/gc.html#gc.freeze) spares
    # pytest's full collections at unconfigure and the interpreter's at exit from
    # walking it again: about 0.25 s of a one-host run's wall time (README, Speed).
    gc.freeze()


def worker_stats(config: pytest.Config) -> dict[str, Any]:
    """This process's instrumentation: what it really did to each target."""
    store = config.stash[STORE_KEY]
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    done: dict[str, dict[str, float]] = {}
    for (kind, name), (_, end) in store.timings.items():
        done.setdefault(name, {})[kind] = round(end - T0, 3)
    return {"worker": worker,
            "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "targets": {name: {"connections": c.counters.connections,
                               "commands": c.counters.commands,
                               "retries": c.counters.retries}
                        for name, c in store.connections.items()},
            # per target: when each kind of facts (host, lightsail, http) was complete, in
            # seconds since this module loaded (what an HTTP probe adds is how much later
            # than the SSH facts it finishes)
            "facts_done_s": done, **_pacing_stats()}


def _pacing_stats() -> dict[str, Any]:
    """What the login pacer saw in this process: the most ssh processes alive at once
    (bounded by ssh.max_parallel) and, per sshd endpoint, the most logins not yet
    authenticated at once (bounded below MaxStartups; facts/pacing.py)."""
    from jada_checks.facts import pacing

    p = pacing.current()
    if p is None:
        return {}
    return {"ssh_max_parallel": p.max_parallel, "ssh_peak_processes": p.peak_alive,
            "ssh_peak_unauthenticated_per_endpoint": max(p.peak_in_flight.values(),
                                                         default=0)}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    stats = getattr(node, "workeroutput", {}).get("jada_stats")
    if stats is not None and STATS_KEY in node.config.stash:
        node.config.stash[STATS_KEY].append(stats)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if STORE_KEY not in config.stash:
        return
    if hasattr(config, "workerinput"):
        config.workeroutput["jada_stats"] = worker_stats(config)  # type: ignore[attr-defined]
        return
    path = config.getoption("jada_stats_json", None)
    if path:
        workers = config.stash[STATS_KEY] or [worker_stats(config)]
        if split_across_workers(config):  # the controller too: it logs in to nothing
            workers = [*workers, worker_stats(config)]
        totals: dict[str, dict[str, int]] = {}
        retries: dict[str, int] = {}
        for w in workers:
            for name, c in w["targets"].items():
                t = totals.setdefault(name, {"connections": 0, "commands": 0})
                t["connections"] += c["connections"]
                t["commands"] += c["commands"]
                if c.get("retries"):  # logins again after a reset before authentication
                    retries[name] = retries.get(name, 0) + c["retries"]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        decided = config.stash.get(PLAN_KEY, None)  # -n: workers used and why
        Path(path).write_text(json.dumps({"workers": workers, "targets": totals,
                                          "ssh_retries": retries,
                                          "xdist": decided.as_json() if decided else None},
                                         indent=2))


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """In profile mode the controls are the tests: collect no files, unless the run has
    user test paths (:mod:`jada_checks.run.own_checks`); then pytest collects those, and
    only those (they are the run's arguments), as it always would."""
    if config.stash.get(USER_PATHS_KEY, None):
        return None
    return True


def applies(control: Control, target: Target) -> bool:
    return applies_side(control.side, target)


def applies_side(side: str, target: Target) -> bool:
    if side == "http":  # only where the profile names service ports, and an address
        return bool(target.expect.get("http")) and (target.ssh is not None
                                                     or target.lightsail is not None)
    return target.ssh is not None if side == "host" else target.lightsail is not None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    profile = config.stash.get(PROFILE_KEY, None)
    if profile is None:
        return
    for area in areas():  # derived from the registry: a new area needs no list entry
        config.addinivalue_line("markers", f"area_{area}: controls of area JADA-{area.upper()}")
    made = []
    for target in selected(profile.targets, config.getoption("jada_shard"), lambda t: t.name):
        for c in catalogue():
            if applies(c, target):
                made.append(ControlItem.from_parent(session, name=f"{c.id}[{target.name}]",
                                                    nodeid=f"{c.id}[{target.name}]",
                                                    control=c, target=target))
    items += made  # after the user's checks, if any (collected by pytest itself)
    workers.keep_mine(config, items)  # a worker of a split run: its own targets' items
    # The items are made here, not by a collector, so tell the terminal how many there are
    # (otherwise it reports "no tests collected" after listing them).
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and hasattr(reporter, "_numcollected"):
        reporter._numcollected += len(made)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Gather every selected target's facts concurrently right away: in one process, or
    in a worker of a split run (its items are its own targets'). Not in a worker that
    replaces a crashed one: it holds every item, and fetches only what it is sent."""
    config = session.config
    if STORE_KEY not in config.stash or (workers.is_worker(config)
                                         and workers.share(config) is None):
        return
    if config.option.collectonly:
        return
    wanted = {(i.control.side, i.target.name): i.target for i in session.items
              if isinstance(i, ControlItem)}
    config.stash[STORE_KEY].prefetch([(side, t) for (side, _), t in sorted(wanted.items())])


class ControlFailed(Exception):
    """Raised in the call phase for a failing control; reported without a traceback."""


class ControlErrored(pytest.fail.Exception):  # type: ignore[name-defined]
    """Raised in the setup phase when a control could not look; pytest reports *error*.

    A ``pytest.fail(..., pytrace=False)`` exception: pytest renders a setup error
    (``Node._repr_failure_py``, not the item's ``repr_failure``) before the report hook
    replaces it with :meth:`ControlItem.describe`; with ``pytrace=False`` that is the
    message alone. With a traceback it parsed the source of every frame, about 0.25 s of
    CPU per errored item (5 s per unreachable host) for a text nobody sees.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, pytrace=False)


class ControlItem(pytest.Item):
    def __init__(self, *, control: Control, target: Target, **kw: Any) -> None:
        super().__init__(**kw)
        self.control = control
        self.target = target
        self.outcome: Outcome | None = None
        self.duration = 0.0
        self.attempts = 0
        self.add_marker(f"severity_{control.severity}")
        self.add_marker(f"area_{control.area}")
        self.user_properties += [("control", control.id), ("severity", control.severity),
                                 ("target", target.name), ("area", control.area)]

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
        store = self.config.stash[STORE_KEY]
        self.outcome, self.attempts = converge(self.evaluate, lambda: store.invalidate(self.target),
                                               retry_deadline(self.config))
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
        if o.status == "error" and remediation.cause(o.message):
            lines.append("  fix:      the cause's fix is printed once per target in the "
                         "jada-checks summary")
        elif o.status in ("fail", "error"):
            lines.append("  fix:")
            lines += ["      " + line for line in item_fix(self).splitlines()]
        return "\n".join(lines)

    def reportinfo(self) -> tuple[str, int | None, str]:
        return (f"{self.control.area}", None, f"{self.control.id}[{self.target.name}]")


def fix_facts(item: ControlItem) -> dict[str, str]:
    """The service user, home and settings path from facts already gathered (cached; no
    new round trip), for fixes that name them; empty when they are not known."""
    if item.control.side != "host" or not remediation.needs_facts(item.control.fix):
        return {}
    from jada_checks.controls import cfg

    ctx = CheckContext(item.target, item.config.stash[STORE_KEY])
    try:
        files = cfg.files_fact(ctx)
        user_files = files.role("user")
        return {"user": cfg.service_user(ctx), "home": files.home,
                "settings": user_files[0].path if user_files else ""}
    except Exception:  # noqa: BLE001 - unknown values become look-ups on the host
        return {}


def item_fix(item: ControlItem) -> str:
    o = item.outcome
    status, message = (o.status, o.message) if o else ("error", "not evaluated")
    if status not in ("fail", "error"):
        return remediation.fill(item.control.fix,
                                remediation.target_values(item.target)) or \
            item.control.remediation
    facts = {} if status == "error" and remediation.cause(message) else fix_facts(item)
    return remediation.fix_for(item.control, item.target, status, message, facts,
                               o.observed if o else None, o.expected if o else None)


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
        "remediation": item_fix(item),
        "duration": round(item.duration, 4),
        "attempts": max(item.attempts, 1),
    }


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, Any, None]:
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
