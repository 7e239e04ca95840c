"""A simulated fleet: many targets on one sandbox host, to measure the runner, not the hosts.

One sandbox host (``sandbox/fleet/replay``: ``compliant`` plus a second sshd) answers on 16
ports (sshd's limit of listening sockets, MAX_LISTEN_SOCKS in OpenSSH's sshd.c). Each port
stands for its own host behind its own sshd; its ForceCommand answers every login at once
with the facts the host's real sshd (port 22) gave to the real fact script, recorded once
after boot. A profile of N targets deals them round-robin over the 16 ports, so the suite
makes N real SSH logins (key exchange, host key, public key, session) and parses N sets of
facts, while the host spends almost nothing per login. Traffic stays in the sandbox's own
network namespace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from jada_checks.sandbox.sandbox import REPO, Sandbox, SandboxError

REPLAY = REPO / "sandbox" / "fleet" / "replay"
HOST = "fleet"
PORTS = tuple(range(2201, 2217))
FACTS = "/var/lib/jada-fleet/facts"


def boot(sb: Sandbox, work: Path) -> Path:
    """Boot the replay host and record its facts; the host's own one-target profile."""
    profile = sb.up({HOST: str(REPLAY)}, work / "fleet-host.yaml")
    record(sb, profile)
    return profile


def record(sb: Sandbox, profile: Path) -> None:
    """Run the real fact script once through the host's own sshd (as the suite does: the
    same Connection), and store its output where the replay sshd answers from."""
    from jada_checks.controls import catalogue
    from jada_checks.facts.probes import build_script
    from jada_checks.facts.remote import Connection
    from jada_checks.profile import load_profile

    catalogue()  # the controls register the probes the script is built from
    target = load_profile(profile).target(HOST)
    assert target.ssh is not None
    conn = Connection(target)
    try:
        res = conn.run(build_script(target.expect["unit"]))
    finally:
        conn.close()
    if res.rc != 0 or not res.stdout:
        raise SandboxError(f"{HOST}: the fact script exited {res.rc}: "
                           f"{res.stderr.decode(errors='replace')[-300:]}")
    out = sb.ssh_raw(sb.address(HOST), f"mkdir -p {Path(FACTS).parent} && cat > {FACTS}",
                     stdin=res.stdout.decode("utf-8", "surrogateescape"))
    if out.returncode != 0:
        raise SandboxError(f"{HOST}: recording the facts failed: {out.stderr[-300:]}")
    state = sb.ssh_raw(sb.address(HOST), "systemctl is-active jada-fleet-sshd.service")
    if state.stdout.strip() != "active":
        raise SandboxError(f"{HOST}: jada-fleet-sshd.service is {state.stdout.strip()!r}")


def known_hosts(sb: Sandbox, path: Path) -> Path:
    """The host's key under every replay port (``[addr]:port``, as ssh looks it up)."""
    addr = sb.address(HOST)
    keys = [line.split(None, 1)[1] for line in sb.known_hosts.read_text().splitlines()
            if line.split(None, 1)[0] == addr]
    if not keys:
        raise SandboxError(f"{HOST}: no host key for {addr} in {sb.known_hosts}")
    path.write_text("".join(f"[{addr}]:{p} {k}\n" for p in PORTS for k in keys))
    return path


def profile(sb: Sandbox, host_profile: Path, n: int, path: Path,
            ssh: dict[str, Any] | None = None) -> Path:
    """N targets ``f0001``... dealt over the replay ports, each with the host's own
    expectations (no HTTP, no Lightsail: those would measure other things). ``ssh``:
    settings for every target (e.g. ``max_parallel``)."""
    data = yaml.safe_load(host_profile.read_text())
    (target,) = [t for t in data["targets"] if t["name"] == HOST]
    expect = {**data.get("expect", {}), **target.get("expect", {})}
    expect.pop("http", None)
    kh = known_hosts(sb, path.with_name(path.stem + "-known_hosts"))
    targets = []
    for i in range(n):
        s = dict(target["ssh"], port=PORTS[i % len(PORTS)], known_hosts=str(kh),
                 post_quantum_kex=False, **(ssh or {}))
        targets.append({"name": f"f{i + 1:04d}", "ssh": s})
    path.write_text(yaml.safe_dump({"version": 1, "expect": expect, "targets": targets},
                                   sort_keys=False))
    return path
