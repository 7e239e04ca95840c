"""Reaching a target through a bastion (``ssh.proxy_jump``) and through a user's ssh_config
(``ssh.config_file``), on a sandbox target whose own packet filter admits SSH only from
the sandbox's bastion host (``sandbox/hosts/behind-bastion``, ``sandbox/bastion.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.sandbox_harness import Run, SandboxHarness

pytestmark = pytest.mark.sandbox_hosts("bastion", "behind-bastion")

TARGET = "behind-bastion"
COUNT = "journalctl -q -u ssh.service -o cat | grep -c '^Accepted' || true"


def profile(sandbox: SandboxHarness, tmp_path: Path, **ssh: Any) -> Path:
    """The sandbox's profile for the target behind the bastion, its ssh section changed
    (a value None removes the key)."""
    path = sandbox.profile_for(["bastion", TARGET], tmp_path / "profile.yaml")
    data = yaml.safe_load(path.read_text())
    data["targets"] = [t for t in data["targets"] if t["name"] == TARGET]
    target_ssh = data["targets"][0]["ssh"]
    for key, value in ssh.items():
        if value is None:
            target_ssh.pop(key, None)
        else:
            target_ssh[key] = value
    path.write_text(yaml.safe_dump(data))
    return path


def logins(sandbox: SandboxHarness, host: str) -> int:
    """sshd's own count of accepted logins, read without logging in (nsenter)."""
    return int(sandbox.sandbox.exec(host, COUNT))


def known_hosts_without(sandbox: SandboxHarness, tmp_path: Path, host: str) -> Path:
    kh = tmp_path / f"known_hosts-without-{host}"
    addr = sandbox.sandbox.address(host)
    kh.write_text("".join(ln for ln in sandbox.sandbox.known_hosts.read_text()
                          .splitlines(keepends=True) if not ln.startswith(f"{addr} ")))
    return kh


def host_side(run: Run) -> list[dict[str, Any]]:
    """The records whose facts come over SSH (not Lightsail's view, not the port probe)."""
    return [r for r in run.records if r["target"] == TARGET and not r["control"].startswith(
        ("JADA-LS-", "JADA-HTTP-"))]


def assert_unreachable(run: Run, reason: str) -> None:
    recs = host_side(run)
    assert recs, run.output[-2000:]
    for rec in recs:
        assert rec["outcome"] == "error", rec
        assert rec["message"].startswith("unreachable: ") and reason in rec["message"], rec
    assert "Traceback" not in run.output


def test_through_the_bastion_every_control_passes_with_one_login_each(
        sandbox: SandboxHarness, tmp_path: Path) -> None:
    """The written profile names the bastion; the target's sshd and the bastion's each see
    exactly one login for the whole run (the bastion's: the -W relay)."""
    path = profile(sandbox, tmp_path)
    jump = yaml.safe_load(path.read_text())["targets"][0]["ssh"]["proxy_jump"]
    assert jump == f"root@{sandbox.sandbox.address('bastion')}"
    stats = tmp_path / "stats.json"
    before = {h: logins(sandbox, h) for h in ("bastion", TARGET)}
    run = sandbox.run_suite([], "--jada-stats-json", str(stats), profile=path)
    after = {h: logins(sandbox, h) for h in ("bastion", TARGET)}
    bad = {r["control"]: r["message"] for r in run.records
           if r["outcome"] not in ("pass", "skipped")}
    assert run.exitcode == 0 and not bad, (bad, run.output[-2000:])
    assert len(host_side(run)) >= 20
    assert json.loads(stats.read_text())["targets"][TARGET]["connections"] == 1
    assert {h: after[h] - before[h] for h in after} == {"bastion": 1, TARGET: 1}


def test_without_proxy_jump_the_target_is_unreachable(sandbox: SandboxHarness,
                                                      tmp_path: Path) -> None:
    """The target's filter drops SSH from anywhere but the bastion: a direct login times
    out, and the controls that need it are errors, never passes."""
    run = sandbox.run_suite([], profile=profile(sandbox, tmp_path, proxy_jump=None,
                                                connect_timeout=2))
    assert run.exitcode == 1
    assert_unreachable(run, f"root@{sandbox.sandbox.address(TARGET)}:22: connection "
                            "timed out")


def test_a_bastion_whose_host_key_is_unknown_is_refused_by_name(
        sandbox: SandboxHarness, tmp_path: Path) -> None:
    """Strict host-key checking holds for the bastion too (the target's key is known)."""
    kh = known_hosts_without(sandbox, tmp_path, "bastion")
    before = logins(sandbox, TARGET)
    run = sandbox.run_suite([], profile=profile(sandbox, tmp_path, known_hosts=str(kh)))
    bastion = sandbox.sandbox.address("bastion")
    assert run.exitcode == 1
    assert_unreachable(run, f"bastion root@{bastion} (ssh.proxy_jump): host key not in "
                            "known_hosts (strict checking)")
    assert logins(sandbox, TARGET) == before


def test_a_target_whose_host_key_is_unknown_is_refused_behind_the_bastion(
        sandbox: SandboxHarness, tmp_path: Path) -> None:
    kh = known_hosts_without(sandbox, tmp_path, TARGET)
    run = sandbox.run_suite([], profile=profile(sandbox, tmp_path, known_hosts=str(kh)))
    assert_unreachable(run, f"root@{sandbox.sandbox.address(TARGET)}:22: host key not in "
                            "known_hosts (strict checking)")
    assert "bastion" not in host_side(run)[0]["message"]


def user_config(sandbox: SandboxHarness, tmp_path: Path) -> Path:
    """An ssh_config as users write them: a ProxyCommand through the bastion for the
    target's address, and host-key checking switched off for everything."""
    sb = sandbox.sandbox
    cfg = tmp_path / "ssh_config"
    cfg.write_text(
        f"Host {sb.address(TARGET)}\n"
        f"  ProxyCommand ssh -i {sb.key} -o BatchMode=yes -o UserKnownHostsFile="
        f"{sb.known_hosts} -o StrictHostKeyChecking=yes -W %h:%p root@{sb.address('bastion')}\n"
        "Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n"
        "  User nobody\n")
    return cfg


def test_an_ssh_config_file_reaches_the_target_with_its_proxycommand(
        sandbox: SandboxHarness, tmp_path: Path) -> None:
    """ssh.config_file: the file's ProxyCommand is used; the profile's user wins over the
    file's (command-line options come first), so the login works."""
    path = profile(sandbox, tmp_path, proxy_jump=None,
                   config_file=str(user_config(sandbox, tmp_path)))
    run = sandbox.run_suite([], "-k", "UNIT or FD", profile=path)
    assert run.exitcode == 0, run.output[-2000:]
    assert {r["outcome"] for r in host_side(run)} == {"pass"}


def test_an_ssh_config_file_cannot_switch_off_strict_host_keys(
        sandbox: SandboxHarness, tmp_path: Path) -> None:
    """The file says StrictHostKeyChecking no and UserKnownHostsFile /dev/null; the
    profile's known_hosts lacks the target: refused, as without the file."""
    kh = known_hosts_without(sandbox, tmp_path, TARGET)
    path = profile(sandbox, tmp_path, proxy_jump=None, known_hosts=str(kh),
                   config_file=str(user_config(sandbox, tmp_path)))
    run = sandbox.run_suite([], "-k", "UNIT", profile=path)
    assert run.exitcode == 1
    assert_unreachable(run, "host key not in known_hosts (strict checking)")


def test_a_target_without_its_bastion_is_refused_before_anything_boots(tmp_path: Path) -> None:
    """A host directory's ``bastion`` must name a host of the same sandbox: refused with
    the file's path, before any slot is leased or host prepared."""
    from jada_checks.sandbox.machines import SandboxError
    from jada_checks.sandbox.sandbox import Sandbox
    from tests.support.sandbox_harness import HOSTS_DIR

    sb = Sandbox("bastion-check", base=tmp_path / "sb")
    with pytest.raises(SandboxError, match=r"behind-bastion: its bastion 'bastion' \(.*"
                                           r"/behind-bastion/bastion\) is not a host of this "
                                           "sandbox: boot it too"):
        sb.add({"behind-bastion": str(HOSTS_DIR / "behind-bastion")})
    assert not (tmp_path / "sb").exists()


@pytest.mark.parametrize(("text", "message"), [
    ("me\n", "a host cannot be its own bastion"),
    ("Bad_Name\n", "'Bad_Name' is not a sandbox host name"),
])
def test_a_bad_bastion_file_names_itself(tmp_path: Path, text: str, message: str) -> None:
    from jada_checks.sandbox.hostdir import HostDirError, load_hostdir

    (tmp_path / "me").mkdir()
    (tmp_path / "me" / "bastion").write_text(text)
    with pytest.raises(HostDirError, match=f"{tmp_path / 'me' / 'bastion'}: {message}"):
        _ = load_hostdir("me", tmp_path / "me").bastion
