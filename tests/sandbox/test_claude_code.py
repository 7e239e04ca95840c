"""The real Claude Code for a sandbox host (sandbox/claude_code.py): a host directory names
a version; without the registry the host keeps the stand-in and says why, so the self-test
that needs the real binary can skip with that reason instead of failing the boot."""

from __future__ import annotations

from pathlib import Path

import pytest

from jada_checks.sandbox import claude_code
from jada_checks.sandbox.hostdir import HostDirError, load_hostdir
from tests.support.paths import REPO


def test_the_real_host_names_a_version_and_inherits_its_twin():
    host = load_hostdir("cfg-real-claude", REPO / "sandbox/hosts/cfg-real-claude")
    assert host.claude_code == "2.1.332"
    assert [d.name for d in host.chain] == ["compliant", "cfg-native-twin", "cfg-real-claude"]
    assert load_hostdir("compliant", REPO / "sandbox/hosts/compliant").claude_code is None


def test_a_bad_version_names_the_file(tmp_path: Path):
    (tmp_path / "rootfs").mkdir()
    (tmp_path / "claude-code").write_text("latest\n")
    with pytest.raises(HostDirError, match=r"claude-code: expected a version such as "
                                           r"2\.1\.332, got 'latest'"):
        _ = load_hostdir("x", tmp_path).claude_code


def test_without_npm_the_host_keeps_the_stand_in_and_says_why(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    root = tmp_path / "root"
    stand_in = root / "usr/local/lib/node_modules/@anthropic-ai/claude-code/bin/claude.exe"
    stand_in.parent.mkdir(parents=True)
    stand_in.write_bytes(b"\x7fELF")
    reason = claude_code.install(root, "0.0.1")  # a version no cache holds
    assert reason == "npm is not installed, so the registry cannot be asked"
    assert (root / claude_code.UNAVAILABLE).read_text() == \
        f"Claude Code 0.0.1 is not available: {reason}\n"
    assert stand_in.read_bytes() == b"\x7fELF"


def test_the_platform_package_is_the_machines():
    assert claude_code.platform_package("x86_64") == "@anthropic-ai/claude-code-linux-x64"
    assert claude_code.platform_package("aarch64") == "@anthropic-ai/claude-code-linux-arm64"
    with pytest.raises(claude_code.Unavailable, match="no Claude Code platform package"):
        claude_code.platform_package("mips")
