"""``-n N`` with the user's own tests: the run split by target across xdist workers.

Without a sandbox: the targets are closed ports on loopback, so every control errors at
once (one connection attempt per target, counted by the suite's ``--jada-stats-json``),
and the user tests use the ``target`` fixture, which needs no login. Each test writes
which process ran it. Logins counted by each host's sshd, with ``host`` over the shared
connection: tests/run/test_workers_sandbox.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from jada_checks.run.worker_plan import CALLS_PER_WORKER, plan
from jada_checks.run.workers import split

TARGET = """\
  - name: {name}
    ssh: {{host: 127.0.0.1, port: 1, known_hosts: known_hosts, connect_timeout: 2}}
"""
CHECKS = '''\
import os

import pytest


def where(target):
    with open(os.environ["WHERE_LOG"], "a") as fh:
        fh.write(f"{target.name} {os.environ.get('PYTEST_XDIST_WORKER', 'main')}\\n")


def test_first(target):
    where(target)


@pytest.mark.jada(id="ACME-B-01", severity="high")
def test_not_b(target):
    where(target)
    assert target.name != "b-1", "b-1 is not allowed"


def test_crash_once(target):
    """Kills its worker the first time it runs on c-1 (the crash flag file exists)."""
    where(target)
    flag = os.environ.get("CRASH_FLAG")
    if target.name == "c-1" and flag and os.path.exists(flag):
        os.unlink(flag)
        os._exit(3)
'''
NAMES = ("a-1", "b-1", "c-1", "d-1", "e-1")
# These runs check how a split run splits, with far fewer calls than pay for workers.
SPLIT_ALWAYS = ("-o", "jada_calls_per_worker=0")


def project(tmp_path: Path, names: tuple[str, ...] = NAMES) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "known_hosts").touch()
    (tmp_path / "p.yaml").write_text(
        "version: 1\ntargets:\n" + "".join(TARGET.format(name=n) for n in names))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "test_mine.py").write_text(CHECKS)
    return tmp_path


def run(cwd: Path, *args: str, env: dict[str, str] | None = None
        ) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], dict[str, Any]]:
    """The suite in a subprocess; its output, JSON report and stats."""
    # not PYTEST_XDIST_*: under make test's own workers, the one-process run would inherit
    # the name of the worker that runs this test
    base = {k: v for k, v in os.environ.items() if k not in ("JADA_PROFILE", "PYTEST_ADDOPTS")
            and not k.startswith("PYTEST_XDIST_")}
    report, stats = cwd / "report.json", cwd / "stats.json"
    for old in (report, stats, cwd / "where.log"):
        old.unlink(missing_ok=True)
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--jada-profile", "p.yaml",
         "--jada-report-json", str(report), "--jada-stats-json", str(stats), *args],
        cwd=cwd, env={**base, "WHERE_LOG": str(cwd / "where.log"), **(env or {})},
        capture_output=True, text=True, timeout=180)
    return (res, json.loads(report.read_text()) if report.exists() else {},
            json.loads(stats.read_text()) if stats.exists() else {})


def ran_on(cwd: Path) -> dict[str, set[str]]:
    """Which processes ran each target's user tests."""
    seen: dict[str, set[str]] = defaultdict(set)
    for line in (cwd / "where.log").read_text().splitlines():
        name, worker = line.split()
        seen[name].add(worker)
    return dict(seen)


def records(report: dict[str, Any]) -> list[tuple[str, ...]]:
    return sorted((r["control"], r["target"], r["severity"], r["outcome"], r["message"])
                  for r in report["records"])


def test_shares_are_round_robin_in_profile_order() -> None:
    assert split(["a", "b", "c", "d", "e"], 2) == [["a", "c", "e"], ["b", "d"]]
    assert split(["a", "b"], 2) == [["a"], ["b"]]
    assert split(["a", "b", "c"], 3) == split(["a", "b", "c"], 3)


@pytest.mark.parametrize(("asked", "targets", "calls", "maxp", "workers", "why"), [
    (0, 8, 400, None, 0, ""),  # no -n: nothing to say
    (2, 8, None, None, 0, "-n 2 ignored: every target is checked concurrently"),
    (2, 1, 400, None, 0, "-n 2 ignored: one target, and all its tests run on one worker"),
    (1, 8, 400, None, 0, "-n 1 ignored: one worker would run what this process runs"),
    (2, 2, 2, None, 0, "-n 2 ignored: your checks make about 2 Testinfra calls on 2 "
     "targets, fewer than the 100 at which two workers pay for their start-up "
     "(jada_calls_per_worker = 50); this process runs them"),
    (2, 3, 99, None, 0, "fewer than the 100 at which two workers pay"),
    (2, 3, 100, None, 2, "-n 2: 2 workers; your checks make about 100 Testinfra calls "
     "on 3 targets"),
    (4, 8, 320, None, 4, "-n 4: 4 workers; your checks make about 320"),  # not capped at CPUs
    (4, 8, 160, None, 3, "-n 4: 3 workers, capped at one worker per 50 Testinfra calls "
     "(jada_calls_per_worker); your checks make about 160 Testinfra calls on 8 targets"),
    (8, 3, 9999, None, 3, "-n 8: 3 workers, capped at the 3 targets"),
    (4, 8, 9999, 2, 2, "-n 4: 2 workers, capped at --maxprocesses 2"),
])
def test_plan_decides_the_workers_and_says_why(asked: int, targets: int, calls: int | None,
                                               maxp: int | None, workers: int,
                                               why: str) -> None:
    decided = plan(asked, targets, calls, maxprocesses=maxp)
    assert (decided.workers, decided.asked) == (workers, asked)
    assert why in decided.why if why else decided.why == ""
    assert CALLS_PER_WORKER == 50  # the measured break-even the table is written for


def test_plan_with_calls_per_worker_zero_splits_whenever_asked() -> None:
    assert plan(2, 2, 1, per_worker=0).workers == 2
    assert plan(2, 2, 1, per_worker=1).workers == 0
    assert plan(2, 2, 4, per_worker=2, at_least=True).why == (
        "-n 2: 2 workers; your checks make at least 4 Testinfra calls on 2 targets")


def test_with_user_tests_and_n_2_each_target_runs_on_one_worker(tmp_path: Path) -> None:
    """Controls and user tests of a target on one worker, the controller logging in to
    nothing, each worker only to its own targets, once; the same records as one process."""
    cwd = project(tmp_path)
    res, report, stats = run(cwd, "mine", "-n", "2", *SPLIT_ALWAYS)
    out = res.stdout + res.stderr
    assert ("jada-checks: -n 2: every test of a target runs on one worker, which logs in to "
            "its own targets only (one login per target): gw0: a-1, c-1, e-1; gw1: b-1, d-1"
            ) in out, out[-3000:]
    assert ran_on(cwd) == {"a-1": {"gw0"}, "c-1": {"gw0"}, "e-1": {"gw0"},
                           "b-1": {"gw1"}, "d-1": {"gw1"}}
    by_worker = {w["worker"]: w["targets"] for w in stats["workers"]}
    assert by_worker["main"] == {}, by_worker  # the controller logged in to nothing
    assert set(by_worker["gw0"]) == {"a-1", "c-1", "e-1"}, by_worker
    assert set(by_worker["gw1"]) == {"b-1", "d-1"}, by_worker
    assert all(t["connections"] == 1 for t in stats["targets"].values()), stats["targets"]
    assert report["run"]["targets"] == list(NAMES)
    user = [r for r in report["records"] if not r["control"].startswith("JADA-")]
    assert len(user) == 3 * len(NAMES)
    assert {(r["control"], r["target"], r["outcome"]) for r in user if r["outcome"] != "pass"
            } == {("ACME-B-01", "b-1", "fail")}
    assert res.returncode == 1

    alone, report_alone, stats_alone = run(cwd, "mine")
    assert records(report_alone) == records(report), alone.stdout[-2000:]
    assert [w["worker"] for w in stats_alone["workers"]] == ["main"]
    assert ran_on(cwd) == {n: {"main"} for n in NAMES}


def test_workers_are_capped_at_the_targets_and_one_target_stays_in_process(
        tmp_path: Path) -> None:
    cwd = project(tmp_path, ("a-1", "b-1"))
    res, _, stats = run(cwd, "mine", "-n", "4", "-k", "test_first", *SPLIT_ALWAYS)
    assert "jada-checks: -n 2: every test of a target runs on one worker" in res.stdout, \
        res.stdout[-2000:]
    assert sorted(w["worker"] for w in stats["workers"]) == ["gw0", "gw1", "main"]

    cwd = project(tmp_path / "one", ("a-1",))
    res, report, stats = run(cwd, "mine", "-n", "2")
    assert ("jada-checks: -n 2 ignored: one target, and all its tests run on one worker; "
            "this process runs them") in res.stdout, res.stdout[-2000:]
    assert [w["worker"] for w in stats["workers"]] == ["main"]
    assert ran_on(cwd) == {"a-1": {"main"}}
    assert len(report["records"]) > 3


MANY = """\
import os

import pytest


@pytest.mark.parametrize("case", [{cases}])
def test_case(target, case):
    with open(os.environ["WHERE_LOG"], "a") as fh:
        fh.write(f"{{target.name}} {{os.environ.get('PYTEST_XDIST_WORKER', 'main')}}\\n")
"""


def test_a_small_run_ignores_n_2_and_says_why_and_a_large_one_splits(tmp_path: Path) -> None:
    """By the default break-even (no ini): 3 tests on 5 targets (15 calls) stay in this
    process, with the same records; 20 cases on 5 targets (100 calls) get two workers.
    Either way the terminal summary (with -q too) and the stats say how many and why."""
    cwd = project(tmp_path)
    res, report, stats = run(cwd, "mine", "-n", "2", "-q")
    why = ("jada-checks: -n 2 ignored: your checks make about 15 Testinfra calls on 5 "
           "targets, fewer than the 100 at which two workers pay for their start-up "
           "(jada_calls_per_worker = 50); this process runs them")
    summary = res.stdout.split("jada-checks summary", 1)[-1]
    assert why in summary, res.stdout[-3000:]
    assert "workers [" not in res.stdout  # xdist's status line of a run with workers
    assert ran_on(cwd) == {n: {"main"} for n in NAMES}  # no worker started
    assert [w["worker"] for w in stats["workers"]] == ["main"]
    assert stats["xdist"] == {"asked": 2, "workers": 0, "why": why.removeprefix(
        "jada-checks: "), "estimated_testinfra_calls": 15}
    alone, report_alone, _ = run(cwd, "mine")
    assert records(report_alone) == records(report)
    assert "jada-checks: -n" not in alone.stdout  # no -n: nothing to say

    (cwd / "mine" / "test_mine.py").write_text(MANY.format(cases=", ".join(map(str, range(20)))))
    res, report, stats = run(cwd, "mine", "-n", "2", "-q")
    why = ("jada-checks: -n 2: 2 workers; your checks make at least 100 Testinfra calls on "
           "5 targets")
    assert why in res.stdout.split("jada-checks summary", 1)[-1], res.stdout[-3000:]
    assert ran_on(cwd) == {"a-1": {"gw0"}, "c-1": {"gw0"}, "e-1": {"gw0"},
                           "b-1": {"gw1"}, "d-1": {"gw1"}}
    assert stats["xdist"]["workers"] == 2
    assert sorted(w["worker"] for w in stats["workers"]) == ["gw0", "gw1", "main"]
    assert len([r for r in report["records"] if r["control"].startswith("mine/")]) == 100


def test_a_bad_calls_per_worker_is_a_usage_error(tmp_path: Path) -> None:
    cwd = project(tmp_path)
    res, _, _ = run(cwd, "mine", "-n", "2", "-o", "jada_calls_per_worker=many")
    assert res.returncode == 4, res.stdout[-2000:] + res.stderr[-2000:]
    assert ("ini jada_calls_per_worker = 'many': a whole number of Testinfra calls, 0 or "
            "more (0: every -n splits the run)") in res.stderr


def test_without_user_tests_n_is_still_ignored(tmp_path: Path) -> None:
    cwd = project(tmp_path)
    res, report, stats = run(cwd, "-n", "2", "-k", "UNIT-01")
    assert ("jada-checks: -n 2 ignored: every target is checked concurrently in this "
            "process") in res.stdout, res.stdout[-2000:]
    assert [w["worker"] for w in stats["workers"]] == ["main"]
    assert {r["target"] for r in report["records"]} == set(NAMES)


def test_a_crashed_worker_is_replaced_and_runs_only_what_was_left(tmp_path: Path) -> None:
    """gw0 dies in c-1's test; its replacement (gw2) is sent the items gw0 had not run,
    and logs in only to the targets of those items."""
    cwd = project(tmp_path)
    flag = cwd / "crash"
    flag.touch()
    res, report, stats = run(cwd, "mine", "-n", "2", "-p", "no:randomly", *SPLIT_ALWAYS,
                             env={"CRASH_FLAG": str(flag)})
    out = res.stdout + res.stderr
    assert "replacing crashed worker gw0" in out, out[-3000:]
    assert "crashed while running 'mine/test_mine.py::test_crash_once[c-1]'" in out
    seen = ran_on(cwd)
    assert seen["b-1"] == seen["d-1"] == {"gw1"}
    assert "gw2" in seen["c-1"] | seen["e-1"], seen
    ids = {(r["control"], r["target"]) for r in report["records"]}
    # every other item has a record, run once
    user = [r for r in report["records"] if not r["control"].startswith("JADA-")]
    assert len(user) == len({(r["control"], r["target"]) for r in user}) == 3 * len(NAMES) - 1
    assert ("mine/test_mine.py::test_crash_once", "c-1") not in ids
    by_worker = {w["worker"]: w["targets"] for w in stats["workers"]}
    assert by_worker["main"] == {}
    assert set(by_worker.get("gw2", {})) <= {"a-1", "c-1", "e-1"}, by_worker
    assert res.returncode != 0


def test_a_bad_mark_is_a_usage_error_with_n_2_too(tmp_path: Path) -> None:
    """Found by each worker while collecting, raised once by the controller: the same
    message and exit code as in one process, not xdist's internal error."""
    cwd = project(tmp_path)
    (cwd / "mine" / "test_mine.py").write_text(
        'import pytest\n\n\n@pytest.mark.jada(id="bad id")\ndef test_bad(target):\n    pass\n')
    expected = "mine/test_mine.py::test_bad: pytest.mark.jada id='bad id': letters, digits"
    for args in (("-n", "2", *SPLIT_ALWAYS), ()):
        res, _, _ = run(cwd, "mine", *args)
        assert res.returncode == 4, (args, res.stdout[-2000:], res.stderr[-2000:])
        assert "ERROR: your own checks:" in res.stderr and expected in res.stderr, args
        assert "INTERNALERROR" not in res.stdout + res.stderr
