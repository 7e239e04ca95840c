"""The sandbox end to end through its CLI: boot, check, break, check again, tear down.

Named to run first: it uses its own state directory and must finish before the session
sandbox (tests/conftest.py) boots, since both use the same address range.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.sandbox_harness import HOSTS_DIR, REPO, SANDBOX_ENV

pytestmark = pytest.mark.sandbox


def sh(*cmd: str, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env={**os.environ, **(env or {})})


def leftovers(base: Path) -> list[str]:
    found = [ln.split()[1] for ln in Path("/proc/mounts").read_text().splitlines()
             if ln.split()[1].startswith(str(base))]
    procs = sh("pgrep", "-af", "systemd-nspawn").stdout
    found += [ln for ln in procs.splitlines() if str(base) in ln]
    found += [ln for ln in sh("ip", "-o", "link", "show").stdout.splitlines() if ": jsb" in ln]
    found += sh("ip", "netns", "list").stdout.split()
    return found


def test_up_check_break_down(tmp_path: Path) -> None:
    base = tmp_path / "sb"
    env = {"JADA_SANDBOX_DIR": str(base), **SANDBOX_ENV}
    profile = tmp_path / "p.yaml"
    up = sh(sys.executable, "-m", "jada_checks.sandbox.cli", "up", "--host",
            f"x={HOSTS_DIR / 'compliant'}", "--profile-out", str(profile), env=env)
    assert up.returncode == 0, up.stderr
    try:
        def run() -> tuple[int, dict]:
            report = tmp_path / "r.json"
            res = sh(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--profile",
                     str(profile), "--report-json", str(report), "-q", "-k", "UNIT-01 or LS-01",
                     env=env)
            recs = {r["control"]: r for r in json.loads(report.read_text())["records"]}
            return res.returncode, recs

        rc, recs = run()
        assert rc == 0, recs
        assert recs["JADA-UNIT-01"]["outcome"] == "pass"
        if "JADA-LS-01" in recs:
            assert recs["JADA-LS-01"]["outcome"] == "pass"

        key, kh = base / "id_ed25519", base / "known_hosts"
        addr = yaml.safe_load(profile.read_text())["targets"][0]["ssh"]["host"]
        stop = sh("ssh", "-i", str(key), "-o", f"UserKnownHostsFile={kh}", "-o",
                  "BatchMode=yes", f"root@{addr}", "systemctl stop jada-agent")
        assert stop.returncode == 0, stop.stderr
        rc, recs = run()
        assert rc == 1
        unit = recs["JADA-UNIT-01"]
        assert unit["outcome"] == "fail"
        assert unit["message"] == "jada-agent.service is inactive (dead)"
        assert "ActiveState=inactive" in unit["observed"]
    finally:
        down = sh(sys.executable, "-m", "jada_checks.sandbox.cli", "down", env=env)
    assert down.returncode == 0, down.stderr
    assert leftovers(base) == []


def test_up_clears_stale_leftovers(tmp_path: Path) -> None:
    """A crashed run (nspawn killed, state intact) is swept by the next up/down."""
    base = tmp_path / "sb"
    env = {"JADA_SANDBOX_DIR": str(base)}
    args = ("up", "--host", f"y={HOSTS_DIR / 'compliant'}", "--profile-out",
            str(tmp_path / "p.yaml"))
    assert sh(sys.executable, "-m", "jada_checks.sandbox.cli", *args, env=env).returncode == 0
    (base / "state.json").unlink()  # as if the process that booted it had died
    assert leftovers(base) != []
    again = sh(sys.executable, "-m", "jada_checks.sandbox.cli", *args, env=env)
    assert again.returncode == 0, again.stderr
    assert sh(sys.executable, "-m", "jada_checks.sandbox.cli", "down", env=env).returncode == 0
    assert leftovers(base) == []
