"""Your own checks as controls: the ``jada`` mark, their ids, and their records.

A user check is a control like the catalogue's: its record (``report.jada``, the same
dict as a control's, :func:`jada_checks.run.profile_run.outcome_record`) goes into every
report, counts in the gate, can be waived, shows in drift and is sharded by target.

- ``@pytest.mark.jada(id=..., severity=..., title=..., remediation=...)`` names it; all
  keywords are optional. Without an id the control id is the test's node id without the
  target (``checks/test_web.py::test_nginx``; a test's own parameters stay:
  ``...::test_port[443]``), so a waiver or a baseline keys on the same id for every
  target. Without a severity it is ``medium``; without a title, the docstring's first
  line, else the test's name.
- Outcomes: the test passes: *pass*; an ``assert`` (or ``pytest.fail``) fails: *fail*,
  with pytest's assertion message; ``pytest.skip``: *skipped*; any other exception, in the
  test or a fixture, or a target that cannot be reached: *error* naming it. Never a pass.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from jada_checks import remediation
from jada_checks.model import SEVERITIES
from jada_checks.run.own_fixtures import OwnCheckErrored, is_user_check, problems, target_of
from jada_checks.stash import DROPPED_KEY, PROBLEMS_KEY

MARK_KEYS = ("id", "severity", "title", "remediation")
# A user id: letters, digits, '.', '_' and '-', starting with a letter or digit; JADA- is
# the catalogue's. The report schema (schemas/report.schema.json #/$defs/control) agrees.
USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
AREA = "own"
DEFAULT_SEVERITY = "medium"
MAX_MESSAGE = 4000

IDENTITY_KEY: pytest.StashKey[dict[str, Any]] = pytest.StashKey()
STATE_KEY: pytest.StashKey[dict[str, Any]] = pytest.StashKey()
# On an xdist controller: the usage problems its workers found.
WORKER_PROBLEMS_KEY: pytest.StashKey[list[str]] = pytest.StashKey()


def base_nodeid(item: pytest.Item) -> str:
    """The item's node id without its target: the same for every target."""
    t = target_of(item)
    assert t is not None and isinstance(item, pytest.Function)
    ids = item.callspec.id
    if ids == t.name:
        rest = ""
    elif ids.endswith("-" + t.name):  # our parameter comes last (trylast generate_tests)
        rest = ids[: -len(t.name) - 1]
    else:
        rest = ids
    head = item.nodeid[: len(item.nodeid) - len(item.name)] + item.originalname
    return f"{head}[{rest}]" if rest else head


def _suffix(base: str) -> str:
    """A test's own parameters (``[443]``), kept on a marked id so they stay apart."""
    return base[base.index("[", base.rfind("::")):] if base.endswith("]") else ""


def identity(item: pytest.Item, config: pytest.Config) -> dict[str, Any]:
    """control id, severity, title, remediation and test id of a user check; a bad mark
    is added to the run's usage problems."""
    base = base_nodeid(item)
    marks = list(item.iter_markers("jada"))
    kw: dict[str, Any] = {}
    for mark in reversed(marks):  # the closest mark (function over class over module) wins
        kw.update(mark.kwargs)
        if mark.args:
            problems(config).append(f"{base}: pytest.mark.jada takes keywords only "
                                    f"({', '.join(MARK_KEYS)}), got {mark.args!r}")
    unknown = sorted(set(kw) - set(MARK_KEYS))
    if unknown:
        problems(config).append(f"{base}: pytest.mark.jada: unknown keyword(s) "
                                f"{', '.join(unknown)}; known: {', '.join(MARK_KEYS)}")
    for key in ("id", "title", "remediation"):
        if key in kw and not (isinstance(kw[key], str) and kw[key].strip()):
            problems(config).append(f"{base}: pytest.mark.jada {key}={kw[key]!r}: "
                                    "expected a non-empty string")
            kw.pop(key)
    sev = kw.get("severity", DEFAULT_SEVERITY)
    if sev not in SEVERITIES:
        problems(config).append(f"{base}: pytest.mark.jada severity={sev!r} is not one of "
                                f"{', '.join(SEVERITIES)}")
        sev = DEFAULT_SEVERITY
    control = base
    if "id" in kw:
        given = kw["id"].strip()
        if not USER_ID.match(given) or given.upper().startswith("JADA-"):
            why = ("JADA- ids are the catalogue's" if given.upper().startswith("JADA-")
                   else "letters, digits, '.', '_' and '-', starting with a letter or digit, "
                        "at most 100")
            problems(config).append(f"{base}: pytest.mark.jada id={given!r}: {why} "
                                    "(e.g. ACME-NGINX-01)")
        control = given + _suffix(base)
    fn = getattr(item, "function", None)
    doc = (getattr(fn, "__doc__", None) or "").strip().splitlines()
    title = kw.get("title") or (doc[0].strip() if doc else "") or \
        getattr(item, "originalname", item.name).replace("_", " ")
    return {"control": control, "severity": sev, "title": title.strip(),
            "remediation": kw.get("remediation", "").strip(), "test": base}


def check_marks(items: list[pytest.Item], config: pytest.Config) -> None:
    """Give every user check its identity (markers ``severity_*`` and ``area_own``, ``-k``
    on its id, JUnit properties); two tests with one id are a usage problem."""
    owner: dict[str, str] = {}
    for item in items:
        ident = identity(item, config)
        item.stash[IDENTITY_KEY] = ident
        first = owner.setdefault(ident["control"], ident["test"])
        if first != ident["test"]:
            problems(config).append(f"{ident['test']}: pytest.mark.jada id="
                                    f"{ident['control']!r} is also the id of {first}; "
                                    "each check needs its own id")
        item.add_marker(f"severity_{ident['severity']}")
        item.add_marker(f"area_{AREA}")
        item.extra_keyword_matches.add(ident["control"])
        t = target_of(item)
        assert t is not None
        item.user_properties += [("control", ident["control"]),
                                 ("severity", ident["severity"]),
                                 ("target", t.name), ("area", AREA)]


def _where(report: pytest.TestReport, config: pytest.Config) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is None:
        return ""
    path = Path(crash.path)
    try:
        path = path.relative_to(config.rootpath)
    except ValueError:
        pass
    return f" (at {path}:{crash.lineno})"


def judge(item: pytest.Item, call: pytest.CallInfo[None],
          report: pytest.TestReport) -> tuple[str, str] | None:
    """(outcome, message) of this phase, or None when the phase decides nothing."""
    exc = call.excinfo
    if exc is None:
        return ("pass", "passed") if call.when == "call" else None
    value = exc.value
    if isinstance(value, OwnCheckErrored):
        return "error", str(value.msg)
    if isinstance(value, pytest.skip.Exception):
        return "skipped", str(value.msg) or "skipped"
    if call.when == "call" and isinstance(value, AssertionError):
        return "fail", (str(value).strip() or "assertion failed") + _where(report, item.config)
    if call.when == "call" and isinstance(value, pytest.fail.Exception):
        return "fail", str(value.msg) or "failed"
    if isinstance(value, pytest.xfail.Exception):
        return "skipped", f"xfail: {value.msg}"
    phase = {"setup": "in a fixture (setup)", "call": "", "teardown":
             "in a fixture's teardown"}[call.when]
    name = type(value).__name__
    text = " ".join(str(value).split()) if not isinstance(value, pytest.fail.Exception) \
        else str(value.msg)
    return "error", (f"{name}{' ' + phase if phase else ''}: {text}".rstrip(": ")
                     + _where(report, item.config))


def record(item: pytest.Item, outcome: str, message: str, duration: float) -> dict[str, Any]:
    """The control record of one user check on one target (schema: report records)."""
    ident = item.stash[IDENTITY_KEY]
    t = target_of(item)
    assert t is not None
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + "..."
    maker = remediation.cause(message) if outcome == "error" else None
    fix = maker(t, message) if maker else (
        ident["remediation"] or f"# no remediation given: see the check {ident['test']}")
    path, line, _ = item.location
    uses_host = "jada_ssh_target" in getattr(item, "fixturenames", ())
    return {
        "control": ident["control"], "title": ident["title"], "severity": ident["severity"],
        "area": AREA, "target": t.name, "outcome": outcome, "message": message,
        "observed": None, "expected": None,
        "source": f"{path}:{(line or 0) + 1}",
        "remediation": fix, "duration": round(duration, 4), "attempts": 1,
        "test": ident["test"], "side": "host" if uses_host else "runner",
    }


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, Any, None]:
    result = yield
    if IDENTITY_KEY not in item.stash:
        return
    report: pytest.TestReport = result.get_result()
    state = item.stash.setdefault(STATE_KEY, {"duration": 0.0, "outcome": None})
    state["duration"] += call.duration
    verdict = judge(item, call, report)
    if verdict is None:
        return
    if call.when == "teardown" and state["outcome"] in ("fail", "error", "skipped"):
        return  # the verdict stands; a teardown error after it adds nothing
    outcome, message = verdict
    state["outcome"] = outcome
    report.jada = record(item, outcome, message, state["duration"])  # type: ignore[attr-defined]
    item.user_properties.append(("outcome", outcome))


# --- after collection ----------------------------------------------------------------------


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Keep the user checks; deselect collected tests that check no target (they use none
    of ``target``, ``host``, ``lightsail``) and those no selected target is left for;
    raise every usage problem found on the way as one usage error."""
    check_marks([i for i in items if is_user_check(i)], config)
    if problems(config):
        found = list(dict.fromkeys(problems(config)))
        if hasattr(config, "workerinput"):  # xdist: the controller says it (usage_error)
            config.workeroutput["jada_usage"] = found  # type: ignore[attr-defined]
            return
        raise pytest.UsageError(usage_text(found))
    keep, dropped = [], {"not_a_check": 0, "no_target": 0}
    for item in items:
        if is_user_check(item) or not isinstance(item, pytest.Function):
            keep.append(item)
            continue
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "jada_target" in callspec.params:
            dropped["no_target"] += 1
        else:
            dropped["not_a_check"] += 1
        config.hook.pytest_deselected(items=[item])
    items[:] = keep
    config.stash[DROPPED_KEY] = dropped


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    return dropped_lines(config)


def dropped_lines(config: pytest.Config) -> list[str]:
    d = config.stash.get(DROPPED_KEY, {})
    out = []
    if d.get("not_a_check"):
        out.append(f"jada-checks: {d['not_a_check']} collected test(s) use none of the "
                   "fixtures target, host, lightsail: not checks of a target, not run")
    if d.get("no_target"):
        out.append(f"jada-checks: {d['no_target']} of your checks match no selected target "
                   "(jada_targets, testinfra_hosts, --jada-shard, no ssh/lightsail "
                   "section): not run")
    return out


def usage_text(found: list[str]) -> str:
    return "your own checks:\n  " + "\n  ".join(found)


class WorkerGuard:
    """An xdist worker whose checks have usage problems runs nothing: the controller, which
    collects nothing itself, reports them and exits 4 (:func:`pytest_testnodedown`).
    Last of all collection hooks, after the controls are added."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        if config.stash.get(PROBLEMS_KEY, None) and hasattr(config, "workerinput"):
            config.hook.pytest_deselected(items=list(items))
            items[:] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    found = getattr(node, "workeroutput", {}).get("jada_usage")
    if found:
        node.config.stash.setdefault(WORKER_PROBLEMS_KEY, []).extend(found)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controller of an xdist run: its workers' usage problems, as the usage error a
    run in one process raises (exit 4; the reports say nothing was checked)."""
    found = session.config.stash.get(WORKER_PROBLEMS_KEY, None)
    if found:
        import sys

        sys.stderr.write(f"ERROR: {usage_text(list(dict.fromkeys(found)))}\n")
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
