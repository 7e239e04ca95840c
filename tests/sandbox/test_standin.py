"""The sandbox's Claude Code stand-in is a native executable, as Claude Code is since 2.1.113:
the file the hosts carry is the one ``jada_checks.sandbox.standin`` builds, and it runs
without any interpreter, whatever its arguments, until SIGTERM ends it."""

from __future__ import annotations

import platform
import signal
import subprocess
import time
from pathlib import Path

import pytest

from jada_checks.sandbox.standin import elf
from tests.support.paths import REPO

SCOPE = REPO / "sandbox/hosts/compliant/rootfs/usr/local/lib/node_modules/@anthropic-ai"
COPIES = (SCOPE / "claude-code/bin/claude.exe", SCOPE / "claude-code-linux-x64/claude")


def test_the_committed_stand_in_is_the_built_one():
    for path in COPIES:
        assert path.read_bytes() == elf("x86_64"), path
        assert path.stat().st_mode & 0o111, f"{path} is not executable"
    link = REPO / "sandbox/hosts/compliant/rootfs/usr/local/bin/claude"
    assert link.is_symlink() and str(link.readlink()) == \
        "../lib/node_modules/@anthropic-ai/claude-code/bin/claude.exe"


def test_it_is_a_static_elf_with_no_interpreter():
    data = elf("x86_64")
    assert data[:4] == b"\x7fELF" and len(data) < 200
    assert b"#!" not in data and b"ld-linux" not in data and b"node" not in data
    assert elf("aarch64")[18] == 0xB7  # e_machine EM_AARCH64
    with pytest.raises(ValueError, match="no stand-in for 'riscv64'"):
        elf("riscv64")


@pytest.mark.skipif(platform.machine() not in ("x86_64", "aarch64"), reason="no stand-in")
def test_it_waits_whatever_its_arguments_until_sigterm(tmp_path: Path):
    prog = tmp_path / "claude"
    prog.write_bytes(elf(platform.machine()))
    prog.chmod(0o755)
    proc = subprocess.Popen([str(prog), "--dangerously-skip-permissions", "-p", "task",
                             "--model", "claude-sonnet-4-6"])
    try:
        time.sleep(0.3)
        assert proc.poll() is None, "the stand-in exited"
        state = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        assert state == "S", f"not waiting: state {state}"  # asleep, not spinning
        assert Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")[4] == b"--model"
    finally:
        proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=5) == -signal.SIGTERM
