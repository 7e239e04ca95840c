"""``jada-sandbox``'s own messages: status of an empty sandbox, help for every option."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from jada_checks.options import CORE, REPORTING


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


def test_no_rest_markup_in_any_help(tmp_path: Path) -> None:
    """Every option of every command has help, and none shows raw reST (``x``, :func:)."""
    outs = [cli(tmp_path, *args).stdout for args in (["--help"], ["up", "--help"],
                                                     ["status", "--help"])]
    for args in (["--help"], ["merge-reports", "--help"], ["validate-settings", "--help"]):
        outs.append(subprocess.run([sys.executable, "-m", "jada_checks.cli", *args],
                                   capture_output=True, text=True, timeout=60).stdout)
    pytest_help = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                                  "--help"], capture_output=True, text=True, cwd=tmp_path,
                                 timeout=60).stdout
    outs.append(pytest_help[pytest_help.index("jada-checks:"):])
    for out in outs:
        assert out and "``" not in out and ":func:" not in out, out
    jada = outs[-1].split("\n\n")[0]
    entries = re.findall(r"^  (--jada-[a-z-]+)(?:=\S+)?(.*\n(?: {10,}.*\n)*)", jada + "\n", re.M)
    assert len(entries) == len(CORE) + len(REPORTING)
    for flag, text in entries:
        assert len(text.split()) >= 3, f"{flag} has no help: {text!r}"
