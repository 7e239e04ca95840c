"""``jada-sandbox``'s own messages: status of an empty sandbox, help for every option."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JADA_SANDBOX_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "jada_checks.sandbox.cli", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_status_says_when_nothing_runs(tmp_path: Path) -> None:
    res = cli(tmp_path, "status", "--name", "nothing-here")
    assert res.returncode == 0
    assert res.stdout.startswith("sandbox 'nothing-here': no hosts running"), res.stdout


def test_up_help_explains_every_option(tmp_path: Path) -> None:
    out = cli(tmp_path, "up", "--help").stdout
    assert "boot a host NAME from the host directory DIR" in out
    assert "write the profile that checks the booted hosts here" in out
