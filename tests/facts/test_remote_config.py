"""The OpenSSH client configuration the suite writes per target (no connection made, but
for the early login's idempotence, against a closed loopback port)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jada_checks.facts.remote import Connection, Unreachable
from jada_checks.profile import load_profile


def config_of(tmp_path: Path, ssh: str) -> str:
    (tmp_path / "p.yaml").write_text(f"version: 1\ntargets:\n  - name: web\n    ssh: {ssh}\n")
    conn = Connection(load_profile(tmp_path / "p.yaml").targets[0])
    try:
        return conn._config().read_text()
    finally:
        conn.close()


def test_openssh_order_by_default(tmp_path: Path) -> None:
    """Post-quantum key exchange stays first unless the profile opts out."""
    text = config_of(tmp_path, "{host: 192.0.2.1}")
    assert "KexAlgorithms" not in text
    assert "StrictHostKeyChecking yes" in text and "ControlMaster no" in text


def test_opting_out_of_post_quantum_puts_curve25519_first(tmp_path: Path) -> None:
    text = config_of(tmp_path, "{host: 192.0.2.1, post_quantum_kex: false}")
    # '^': placed at the head of OpenSSH's default set, nothing removed (ssh_config(5)).
    assert "  KexAlgorithms ^curve25519-sha256,curve25519-sha256@libssh.org\n" in text


def test_an_early_login_is_opened_once_even_after_it_was_used(tmp_path: Path) -> None:
    """start() before conftests load and again at configure, run() in between (the fact
    thread): still one ssh process, one connection counted."""
    (tmp_path / "p.yaml").write_text("version: 1\ntargets:\n  - name: web\n"
                                     "    ssh: {host: 127.0.0.1, port: 1}\n")
    conn = Connection(load_profile(tmp_path / "p.yaml").targets[0])
    try:
        conn.start()
        with pytest.raises(Unreachable, match="connection refused"):
            conn.run("true")
        conn.start()
        assert conn.counters.connections == 1 and conn._proc is None
    finally:
        conn.close()


def test_no_ssh_client_is_a_clear_reason_not_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``ssh`` on PATH the early login stays quiet and the run names the cause."""
    (tmp_path / "p.yaml").write_text("version: 1\ntargets:\n  - name: web\n"
                                     "    ssh: {host: 127.0.0.1, port: 1}\n")
    monkeypatch.setenv("PATH", str(tmp_path))  # an existing directory without ssh
    conn = Connection(load_profile(tmp_path / "p.yaml").targets[0])
    try:
        conn.start()
        with pytest.raises(Unreachable, match="cannot run the OpenSSH client 'ssh' on this "
                           "machine: No such file or directory"):
            conn.run("true")
        assert conn.counters.connections == 0
    finally:
        conn.close()
