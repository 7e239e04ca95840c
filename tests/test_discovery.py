"""Lightsail discovery without hosts: what a run does when discovery finds nothing, or
when every region fails (the fleet itself is tests/test_fleet.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from jada_checks.sandbox.lightsail_endpoint import start_endpoint
from tests.sandbox_harness import REPO, SANDBOX_ENV
from tests.test_lightsail_endpoint import control, sample


def run(tmp_path: Path, url: str, **lightsail: Any) -> tuple[int, str, dict[str, Any]]:
    profile, report = tmp_path / "p.yaml", tmp_path / "r.json"
    profile.write_text(yaml.safe_dump({
        "version": 1, "aws": {"endpoint_url": url, "connect_timeout": 2, "max_attempts": 1},
        "targets_from": {"lightsail": lightsail}}))
    env = {**os.environ, **SANDBOX_ENV}
    env.pop("JADA_PROFILE", None)
    res = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                          "--jada-profile", str(profile), "--jada-report-json", str(report)],
                         capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    doc = json.loads(report.read_text()) if report.exists() else {}
    return res.returncode, res.stdout + res.stderr, doc


def test_discovery_that_finds_nothing_is_nothing_selected_not_a_pass(tmp_path: Path) -> None:
    srv, url = start_endpoint({"us-east-1": {"web": sample("compliant", "web")}})
    try:
        code, out, doc = run(tmp_path, url, regions=["us-east-1"], tags={"app": "typo"})
    finally:
        srv.stop()
    assert code == 5, out
    assert "0 targets" in out
    assert "discovered from Lightsail (app=typo): us-east-1: 0" in out
    assert doc["run"]["discovery"]["regions"] == {"us-east-1": {"instances": []}}


def test_every_region_failing_fails_the_gate_naming_the_action(tmp_path: Path) -> None:
    srv, url = start_endpoint({"us-east-1": {"web": sample("compliant", "web")}})
    control(url, "POST", "/_jada/faults", {"operation": "GetRegions",
                                           "fault": "access_denied"})
    try:
        code, out, doc = run(tmp_path, url, tags={"app": "jada-agent"})
    finally:
        srv.stop()
    assert code == 1, out
    assert "Lightsail discovery (app=jada-agent) failed: GetRegions: " in out
    assert "lightsail:GetRegions" in doc["run"]["discovery"]["error"]
    assert doc["gate"]["undiscovered"] and not doc["gate"]["passed"]
