"""Least privilege on the releases users run: Debian 11 (sudo 1.9.5, below the 1.9.10 that
sudoers argument regexes need), this machine's Debian 12, and Debian 13; and the read
helper holds against the attacks of test_read_helper_attacks.py on each (its programs'
paths, setpriv and nsenter of each release's util-linux).

Each release gets its own sandbox (``jada-sandbox up --base``; trees are built once with
debootstrap and cached). Run with ``make test-releases`` (CI runs it after ``make test``);
``make test`` deselects these (marker ``releases``): building the trees takes minutes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from jada_checks.sandbox.bases import HOST_BASE
from jada_checks.sandbox.sandbox import Sandbox
from tests import test_read_helper_attacks as attacks
from tests.support.fact_compare import compare_hosts
from tests.support.sandbox_harness import HOSTS_DIR, SandboxHarness
from tests.test_least_privilege import (
    NEEDS_ROOT,
    REFUSALS,
    as_audit_user,
    assert_audit_user_sees_what_root_sees,
    host_side,
)

pytestmark = [pytest.mark.releases, pytest.mark.sandbox]
RELEASES = ("debian-11", HOST_BASE, "debian-13")
HOSTS = ("compliant", "least-privilege", "no-sudo")


@pytest.fixture(scope="module", params=RELEASES,
                ids=lambda r: "debian-12 (this machine)" if r == HOST_BASE else r)
def release(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[str, SandboxHarness]]:
    sb = Sandbox(f"rel-{request.param}-{os.getpid()}"[:31])
    workdir = tmp_path_factory.mktemp(request.param)
    try:
        sb.up({h: str(HOSTS_DIR / h) for h in HOSTS}, workdir / "all.yaml",
              base=request.param)
        yield request.param, SandboxHarness(sb, workdir)
    finally:
        sb.down()


def test_the_host_runs_the_release(release: tuple[str, SandboxHarness]) -> None:
    name, sandbox = release
    want = {"debian-11": "11.", "debian-13": "13."}.get(name, Path("/etc/debian_version")
                                                         .read_text().split(".")[0] + ".")
    assert sandbox.ssh("compliant", "cat /etc/debian_version").startswith(want)


def test_compliant_as_root_passes_everything(release: tuple[str, SandboxHarness]) -> None:
    _, sandbox = release
    run = sandbox.run_suite(["compliant"])
    outcomes = {r["control"]: (r["outcome"], r["message"]) for r in run.records}
    assert len(outcomes) >= 29, run.output[-3000:]
    assert {c: o for c, (o, _) in outcomes.items() if o != "pass"} == {}, outcomes


def test_least_privilege_matches_root_control_by_control(
        release: tuple[str, SandboxHarness], tmp_path: Path) -> None:
    assert_audit_user_sees_what_root_sees(release[1], tmp_path)


def test_no_sudo_errors_name_the_cause(release: tuple[str, SandboxHarness],
                                      tmp_path: Path) -> None:
    _, sandbox = release
    host = "no-sudo"
    audit = host_side(sandbox.run_suite([], profile=as_audit_user(sandbox, host, tmp_path)),
                      host)
    for control, rec in audit.items():
        if control in NEEDS_ROOT:
            assert rec["outcome"] == "error", rec
            assert REFUSALS[host] in rec["message"], rec
            assert "(sudo 1.9." in rec["message"], rec  # the preflight names the version
        else:
            assert rec["outcome"] == "pass", rec


def test_the_read_helper_refuses_every_attack(release: tuple[str, SandboxHarness]) -> None:
    _, sandbox = release
    target = attacks.target_of(sandbox)
    attacks.check_the_issues_reproduction(sandbox, target)
    attacks.check_setpriv(sandbox, target)
    attacks.check_sudo_options(sandbox)
    attacks.check_every_split_and_join(sandbox, attacks.canonical_of(sandbox, target))


def test_old_and_new_fact_scripts_give_the_same_facts(release: tuple[str, SandboxHarness],
                                                      tmp_path: Path) -> None:
    """Issue 25's guard on each release's bash (tests/facts/test_light_script.py runs it on
    every host of this machine's release): Debian 11's bash 5.1 broke an earlier light
    script (before 5.2 ``read -d ''`` reads one byte per read(2), and a /proc/sys file
    answers only a read at offset 0). As root and as the audit user through sudo."""
    _, sandbox = release
    found = compare_hosts(sandbox, list(HOSTS), tmp_path)
    assert not found, "\n".join(found)
