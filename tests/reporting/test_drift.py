"""Drift against a baseline: classification, scope and refusal of unusable baselines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jada_checks.inputs import InputError
from jada_checks.reporting import document
from jada_checks.reporting.drift import classify, compute
from tests.support.reporting_support import doc, rec


@pytest.mark.parametrize(("before", "now", "kind"), [
    ("pass", "fail", "newly_failing"), ("error", "fail", "newly_failing"),
    (None, "fail", "newly_failing"), ("pass", "error", "newly_erroring"),
    ("fail", "error", "newly_erroring"), ("fail", "pass", "resolved"),
    ("error", "skipped", "resolved"), ("fail", "fail", None), ("pass", "pass", None),
    ("error", "error", None),
    ("skipped", "pass", None), (None, "pass", None),
])
def test_classify(before: str | None, now: str, kind: str | None) -> None:
    old = rec(outcome=before) if before else None
    assert classify(rec(outcome=now), old) == kind


def test_changed_observed_value_while_passing() -> None:
    base = doc([rec(control="JADA-NET-01", outcome="pass", observed="net.core.somaxconn=4096"),
                rec(control="JADA-NET-02", outcome="pass", observed="same")])
    now = [rec(control="JADA-NET-01", outcome="pass", observed="net.core.somaxconn=8192"),
           rec(control="JADA-NET-02", outcome="pass", observed="same")]
    d = compute(base, now, ["web-1"], "base.json")
    assert [(e["control"], e["observed_from"], e["observed_to"]) for e in d["changed"]] == [
        ("JADA-NET-01", "net.core.somaxconn=4096", "net.core.somaxconn=8192")]
    assert not d["newly_failing"] and not d["resolved"] and not d["newly_erroring"]
    assert d["baseline"] == {"path": "base.json", "finished": base["run"]["finished"],
                             "suite_version": "0.1.0"}


def test_changed_observed_value_while_still_failing() -> None:
    """The demo's somaxconn 1536 -> 2048 on drifted: failing both times, value moved."""
    base = doc([rec(control="JADA-NET-01", outcome="fail", observed="1536")])
    now = [rec(control="JADA-NET-01", outcome="fail", observed="2048")]
    d = compute(base, now, ["web-1"], "base.json")
    assert [(e["outcome_from"], e["outcome_to"], e["observed_from"], e["observed_to"])
            for e in d["changed"]] == [("fail", "fail", "1536", "2048")]
    assert not d["newly_failing"]


def test_only_targets_of_the_baseline_are_compared() -> None:
    base = doc([rec(target="web-1", outcome="pass")], targets=["web-1"])
    d = compute(base, [rec(target="web-1"), rec(target="web-2")], ["web-1", "web-2"], "b")
    assert [e["target"] for e in d["newly_failing"]] == ["web-1"]
    assert d["not_in_baseline"] == ["web-2"]


def test_waiver_does_not_hide_drift() -> None:
    base = doc([rec(outcome="pass")])
    waived = rec(waiver={"control": "JADA-UNIT-01", "target": "web-1", "justification": "j",
                         "expires": "2099-01-01", "status": "applied"})
    assert len(compute(base, [waived], ["web-1"], "b")["newly_failing"]) == 1


def test_read_refuses_other_report_version(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"report_version": 99, "records": []}))
    with pytest.raises(InputError, match=r"/report_version: is 99; this suite reads"):
        document.read(path, "baseline")


def test_read_refuses_invalid_and_broken_reports(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    bad = doc([rec()])
    del bad["records"][0]["outcome"]
    path.write_text(json.dumps(bad))
    with pytest.raises(InputError, match=r"baseline .*r.json does not match.*\n  /records/0"):
        document.read(path, "baseline")
    path.write_text("{not json")
    with pytest.raises(InputError, match="line 1: not valid JSON"):
        document.read(path, "baseline")


def test_still_failing_change_in_every_report_and_the_demo_check() -> None:
    """Markdown, HTML and the demo's own assertion see the somaxconn change on drifted."""
    from jada_checks.dev.demo import drift_problems
    from jada_checks.reporting import html, markdown

    base = doc([rec(control="JADA-NET-01", target="drifted", outcome="fail",
                    observed="net.core.somaxconn = 1536")])
    now = [rec(control="JADA-NET-01", target="drifted", outcome="fail",
               observed="net.core.somaxconn = 2048")]
    report = doc(now, drift=compute(base, now, ["drifted"], "base.json"))
    assert "changed (still fail) | drifted | `JADA-NET-01`" in markdown.render(report)
    assert "net.core.somaxconn = 1536 → net.core.somaxconn = 2048" in html.render(report)
    assert drift_problems(report) == []
    report["drift"]["changed"] = []
    assert "somaxconn change 1536 -> 2048" in drift_problems(report)[0]
