"""The gate decision: severity threshold, waivers, drift and unrecorded results."""

from __future__ import annotations

import pytest

from jada_checks.reporting.gate import decide, explain
from tests.support.reporting_support import rec

WAIVED = {"control": "JADA-UNIT-01", "target": "web-1", "justification": "j",
          "expires": "2099-01-01", "status": "applied"}


def test_clean_run_passes() -> None:
    g = decide([rec(outcome="pass"), rec(outcome="skipped")], "low")
    assert g["passed"] and g["exit_code"] == 0 and not g["blocking"]


@pytest.mark.parametrize("outcome", ["fail", "error"])
def test_finding_at_threshold_gates(outcome: str) -> None:
    g = decide([rec(outcome=outcome, severity="high")], "high")
    assert g["exit_code"] == 1
    assert g["blocking"] == [{"target": "web-1", "control": "JADA-UNIT-01",
                              "severity": "high", "outcome": outcome}]


def test_findings_below_threshold_are_reported_only() -> None:
    g = decide([rec(severity="medium"), rec(outcome="error", severity="low")], "high")
    assert g["passed"] and g["below_threshold"] == 2
    assert "2 below high reported only" in explain(g)


def test_critical_gates_at_every_threshold() -> None:
    for sev in ("critical", "high", "medium", "low", "info"):
        assert not decide([rec(severity="critical")], sev)["passed"]


def test_waived_finding_does_not_gate_but_expired_does() -> None:
    assert decide([rec(waiver=WAIVED)], "low")["passed"]
    expired = dict(WAIVED, status="expired")
    assert not decide([rec(waiver=expired)], "low")["passed"]


def test_drift_gates_only_with_fail_on_drift() -> None:
    drift = {"newly_failing": [], "newly_erroring": [], "resolved": [],
             "changed": [{"x": 1}]}
    assert decide([rec(outcome="pass")], "low", drift=drift)["passed"]
    g = decide([rec(outcome="pass")], "low", drift=drift, fail_on_drift=True)
    assert not g["passed"] and "drift" in explain(g)


def test_unrecorded_results_gate() -> None:
    assert not decide([], "low", unrecorded=1)["passed"]


def test_unknown_severity_is_refused() -> None:
    with pytest.raises(ValueError):
        decide([], "severe")
