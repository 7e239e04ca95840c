"""Lightsail discovery without hosts: what a run does when discovery finds nothing, or
when every region fails (the fleet itself is tests/run/test_fleet.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from jada_checks.sandbox.lightsail_endpoint import render, start_endpoint
from tests.sandbox.test_lightsail_endpoint import control, sample
from tests.support.sandbox_harness import REPO, SANDBOX_ENV


def run(tmp_path: Path, url: str, lightsail: dict[str, Any],
        listed: list[dict[str, Any]] | None = None,
        args: tuple[str, ...] = ()) -> tuple[int, str, dict[str, Any]]:
    profile, report = tmp_path / "p.yaml", tmp_path / "r.json"
    profile.write_text(yaml.safe_dump({
        "version": 1, "aws": {"endpoint_url": url, "connect_timeout": 2, "max_attempts": 1},
        "targets_from": {"lightsail": lightsail}, **({"targets": listed} if listed else {})}))
    env = {**os.environ, **SANDBOX_ENV}
    env.pop("JADA_PROFILE", None)
    res = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                          "--jada-profile", str(profile), "--jada-report-json", str(report),
                          *args], capture_output=True, text=True, cwd=REPO, env=env,
                         timeout=120)
    doc = json.loads(report.read_text()) if report.exists() else {}
    return res.returncode, res.stdout + res.stderr, doc


def test_discovery_that_finds_nothing_is_nothing_selected_not_a_pass(tmp_path: Path) -> None:
    srv, url = start_endpoint({"us-east-1": {"web": sample("compliant", "web")}})
    try:
        code, out, doc = run(tmp_path, url, {"regions": ["us-east-1"], "tags": {"app": "typo"}})
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
        code, out, doc = run(tmp_path, url, {"tags": {"app": "jada-agent"}})
    finally:
        srv.stop()
    assert code == 1, out
    assert "Lightsail discovery (app=jada-agent) failed: GetRegions: " in out
    assert "lightsail:GetRegions" in doc["run"]["discovery"]["error"]
    assert doc["gate"]["undiscovered"] and not doc["gate"]["passed"]


def test_markdown_and_html_reports_show_the_expansion(tmp_path: Path) -> None:
    """Regions asked, instances matched, which targets discovery added, which the profile
    lists by hand, which had no public IP, which region errored: in both reports. Only the
    LS controls run (-m area_ls: no SSH login; the addresses are loopback anyway)."""
    def at(name: str) -> dict[str, Any]:
        rec = render(json.loads((REPO / "sandbox/hosts/compliant/lightsail.json").read_text()),
                     {"name": name, "address": "127.0.0.1"})
        if name == "noip":
            del rec["instance"]["publicIpAddress"]
        return rec

    srv, url = start_endpoint({"us-east-1": {n: at(n) for n in ("api", "noip", "web")},
                               "eu-west-2": {}})
    control(url, "POST", "/_jada/faults", {"operation": "GetInstances",
                                           "fault": "access_denied", "region": "eu-west-2"})
    md, page = tmp_path / "r.md", tmp_path / "r.html"
    try:
        code, out, doc = run(tmp_path, url, {"regions": ["us-east-1", "eu-west-2"],
                                             "tags": {"app": "jada-agent"}},
                             listed=[{"name": "web", "lightsail": {"instance": "web",
                                                                   "region": "us-east-1"}}],
                             args=("-m", "area_ls", "--jada-report-md", str(md),
                                   "--jada-report-html", str(page), "--jada-report-sarif",
                                   str(tmp_path / "r.sarif")))
    finally:
        srv.stop()
    assert code == 1, out  # a region and an instance could not be checked: the gate fails
    assert doc["run"]["discovery"]["targets"] == ["api"]
    assert doc["run"]["discovery"]["listed"] == ["web"]
    assert sorted(doc["run"]["targets"]) == ["api", "web"]
    text = md.read_text()
    assert "| us-east-1 | 3 | api, noip, web |" in text
    assert "| eu-west-2 | – | ⚠️ error: access denied" in text and \
        "lightsail:GetInstances" in text
    assert "2 region(s) asked, 3 matching instance(s); 1 target(s) from discovery: api." in text
    assert "Also listed in the profile (its entry is checked): web." in text
    assert "**⚠️ Without a public IP, not checked:** us-east-1/noip." in text
    html = page.read_text()
    assert '<tr><td>us-east-1</td><td class="n">3</td><td>api, noip, web</td></tr>' in html
    assert '<tr class="error"><td>eu-west-2</td><td class="n">–</td><td><b>error:</b> ' \
        "access denied" in html
    assert "1 target(s) from discovery: api." in html
    assert "<b>Without a public IP, not checked:</b> us-east-1/noip." in html
    # findings point at the profile: a discovered target at the targets_from block's
    # lightsail: line, a listed one at its own entry
    lines = (tmp_path / "p.yaml").read_text().splitlines()
    at = doc["run"]["profile"]["target_lines"]
    assert lines[at["api"] - 1] == "  lightsail:" and lines[at["api"] - 2] == "targets_from:"
    assert lines[at["web"] - 1].startswith("- ") and "name: web" in "\n".join(
        lines[at["web"] - 1:at["web"] + 3])
    results = json.loads((tmp_path / "r.sarif").read_text())["runs"][0]["results"]
    where = {(r["properties"]["target"], r["locations"][0]["physicalLocation"]["region"]
              ["startLine"]) for r in results}
    assert where and all(line == at[target] for target, line in where), (where, at)
