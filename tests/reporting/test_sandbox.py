"""Reports, gate, waivers, drift and convergence against real sandbox hosts.

Mutating tests use the throwaway copies ``scratch-1`` / ``scratch-2`` (booted from the
compliant host) and put them back, so the shared hosts stay as they are.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from jada_checks.controls import catalogue
from jada_checks.reporting import document
from tests.support.sandbox_harness import Run, SandboxHarness

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.sandbox_hosts("compliant", "fault-hang", "scratch-1", "scratch-2"),
]


SOMAXCONN = "JADA-NET-01"
PERSIST = "JADA-NET-02"


def host_side(run: Run, host: str) -> list[dict]:
    sides = {c.id: c.side for c in catalogue()}
    return [r for r in run.records if r["target"] == host and sides[r["control"]] == "host"]


def k_expr(controls: list[str]) -> str:
    return " or ".join(controls)


def test_every_report_written_and_valid(sandbox: SandboxHarness, tmp_path: Path) -> None:
    md, page, junit = tmp_path / "r.md", tmp_path / "r.html", tmp_path / "j.xml"
    profile = sandbox.profile_for(["compliant", "fault-hang"])
    data = yaml.safe_load(profile.read_text())
    data["targets"][1]["ssh"]["command_timeout"] = 3  # its facts hang: an error, sooner
    profile.write_text(yaml.safe_dump(data))
    run = sandbox.run_suite([], "--jada-report-md", str(md), "--jada-report-html", str(page),
                            "--junitxml", str(junit), profile=profile)
    assert document.schema_errors(run.report) == [], run.output[-2000:]
    assert run.exitcode == run.report["gate"]["exit_code"], run.output[-2000:]
    assert "### fault-hang" in md.read_text() and "### compliant" in md.read_text()
    assert "data-state=" in page.read_text()
    props = [{p.get("name"): p.get("value") for p in c.iter("property")}
             for c in ET.parse(junit).getroot().iter("testcase")]
    assert len(props) == len(run.records)
    assert all({"control", "severity", "target", "outcome"} <= set(p) for p in props)
    assert "jada-checks summary" in run.output and "gate " in run.output


@dataclass
class Raised:
    """scratch-1 with net.core.somaxconn raised at runtime only (not persisted)."""

    host: str
    profile: Path
    baseline: Path
    base: Run
    before: str
    after: str


@pytest.fixture(scope="module")
def raised(sandbox: SandboxHarness, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Raised]:
    host = "scratch-1"
    profile = sandbox.profile_for([host])
    base = sandbox.run_suite([host], profile=profile)
    assert base.record(SOMAXCONN, host)["outcome"] == "pass", base.output[-2000:]
    baseline = tmp_path_factory.mktemp("raised") / "baseline.json"
    baseline.write_text(json.dumps(base.report))
    before = sandbox.ssh(host, "sysctl -n net.core.somaxconn").strip()
    after = str(int(before) * 2)
    sandbox.ssh(host, f"sysctl -w net.core.somaxconn={after}")
    try:
        yield Raised(host, profile, baseline, base, before, after)
    finally:
        sandbox.ssh(host, f"sysctl -w net.core.somaxconn={before}")


def test_runtime_somaxconn_change_is_exactly_the_drift(sandbox: SandboxHarness,
                                                       raised: Raised) -> None:
    now = sandbox.run_suite([raised.host], "--jada-baseline", str(raised.baseline),
                            profile=raised.profile)
    drift = now.report["drift"]
    [entry] = [e for e in drift["changed"] if e["control"] == SOMAXCONN]
    assert raised.before in entry["observed_from"] and raised.after in entry["observed_to"]
    # A runtime-only value is also, rightly, a persistence failure; nothing else moved.
    assert [e["control"] for e in drift["newly_failing"]] == [PERSIST], drift
    assert not (drift["newly_erroring"] or drift["resolved"])
    gated = sandbox.run_suite([raised.host], "--jada-baseline", str(raised.baseline),
                              "--jada-fail-on-drift", "-k", SOMAXCONN,
                              profile=raised.profile)
    assert gated.exitcode == 1 and "drift change(s) with --jada-fail-on-drift" in gated.output


def test_unchanged_host_shows_no_drift(sandbox: SandboxHarness, tmp_path: Path) -> None:
    """With the drift test above, "exactly that drift": observed values of an unchanged
    host must be stable between runs, or every run reports them as changed."""
    profile = sandbox.profile_for(["compliant"])
    first = sandbox.run_suite(["compliant"], profile=profile)
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(first.report))
    again = sandbox.run_suite(["compliant"], "--jada-baseline", str(baseline), profile=profile)
    drift = again.report["drift"]
    moved = {k: [(e["control"], e["observed_from"], e["observed_to"]) for e in drift[k]]
             for k in ("newly_failing", "newly_erroring", "resolved", "changed") if drift[k]}
    assert not moved, "observed values that vary by themselves:\n" + "\n".join(
        f"{k}: {c}: {a!r} -> {b!r}" for k, v in moved.items() for c, a, b in v)


def test_fail_on_high_passes_when_only_medium_fails(sandbox: SandboxHarness,
                                                    raised: Raised) -> None:
    passing = [r["control"] for r in raised.base.records if r["outcome"] == "pass"]
    args = ("-k", k_expr(sorted(set(passing) | {PERSIST})))
    high = sandbox.run_suite([raised.host], "--jada-fail-on", "high", *args, profile=raised.profile)
    fails = [(r["control"], r["severity"]) for r in high.records if r["outcome"] == "fail"]
    assert fails == [(PERSIST, "medium")], high.output[-2000:]
    assert high.exitcode == 0 and high.report["gate"]["below_threshold"] == 1
    medium = sandbox.run_suite([raised.host], "--jada-fail-on", "medium", *args,
                               profile=raised.profile)
    assert medium.exitcode == 1


def test_waiver_applies_until_it_expires(sandbox: SandboxHarness, raised: Raised,
                                        tmp_path: Path) -> None:
    waivers = tmp_path / "w.yaml"

    def run(expires: str) -> Run:
        waivers.write_text(f"version: 1\nwaivers:\n  - control: {PERSIST}\n"
                           f"    target: {raised.host}\n    justification: raised for a test\n"
                           f"    expires: {expires}\n")
        return sandbox.run_suite([raised.host], "--jada-waivers", str(waivers), "-k", PERSIST,
                                 profile=raised.profile)

    ok = run("2099-12-31")
    rec = ok.record(PERSIST, raised.host)
    assert ok.exitcode == 0 and rec["outcome"] == "fail", ok.output[-2000:]
    assert rec["waiver"]["status"] == "applied"
    late = run("2020-01-01")
    assert late.exitcode == 1
    assert late.record(PERSIST, raised.host)["waiver"]["status"] == "expired"
    assert "waiver EXPIRED 2020-01-01" in late.output


def test_retry_timeout_waits_for_a_unit_that_starts_late(sandbox: SandboxHarness) -> None:
    host = "scratch-2"
    sandbox.ssh(host, "systemctl stop jada-agent")
    try:
        down = sandbox.run_suite([host], "-k", "JADA-UNIT-01")
        assert down.record("JADA-UNIT-01", host)["outcome"] == "fail"
        sandbox.ssh(host, "systemd-run --on-active=5 --unit=jada-late-start "
                          "systemctl start jada-agent")
        up = sandbox.run_suite([host], "-k", "JADA-UNIT-01", "--jada-retry-timeout", "60s")
        rec = up.record("JADA-UNIT-01", host)
        assert up.exitcode == 0 and rec["outcome"] == "pass", up.output[-2000:]
        assert rec["attempts"] >= 2
    finally:
        sandbox.ssh(host, "systemctl start jada-agent")


def test_stopped_host_errors_with_one_reason_while_another_passes(
        sandbox: SandboxHarness) -> None:
    host = "scratch-2"
    sandbox.sandbox.exec(host, "systemctl stop ssh.service")
    try:
        run = sandbox.run_suite(["compliant", host])
        mine = host_side(run, host)
        assert mine and {r["outcome"] for r in mine} == {"error"}, run.output[-2000:]
        reasons = {r["message"] for r in mine}
        assert len(reasons) == 1 and next(iter(reasons)).startswith("unreachable:")
        assert [u["target"] for u in run.report["unreachable"]] == [host]
        assert run.output.count(f"UNREACHABLE {host}:") == 1
        assert {r["outcome"] for r in host_side(run, "compliant")} <= {"pass", "skipped"}
    finally:
        sandbox.sandbox.exec(host, "systemctl start ssh.service")
