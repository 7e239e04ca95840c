"""A sandbox target whose SSH port only its bastion can reach, as behind a real one.

Every sandbox host has its own network namespace and a veth pair to this machine, which
does not forward between hosts (``net.ipv4.ip_forward`` stays as it is). For a target
with a ``bastion`` file, after both have booted:

* this machine forwards between exactly the two hosts' links: IPv4 forwarding is decided
  per input interface (``net.ipv4.conf.<link>.forwarding``, ip-sysctl.rst), so no other
  link forwards, and the settings go away with the links;
* the bastion gets a host route to the target and the target one back to the bastion,
  nothing else;
* the target's own packet filter, in its own network namespace (nft(8)), drops TCP 22
  from every source but the bastion's address, as a security group that admits SSH only
  from a bastion does. The service ports stay open to this machine, so HTTP controls
  still probe the target directly.

So the runner reaches the target's sshd only through the bastion (``ssh.proxy_jump``),
and a connection without it times out: the proof the self-tests need.
"""

from __future__ import annotations

from pathlib import Path

from jada_checks.sandbox.machines import Machine, run

# Loaded with nft -f inside the target's network namespace.
FILTER = """table inet jada_bastion {{
	chain input {{
		type filter hook input priority filter; policy accept;
		tcp dport 22 ip saddr != {bastion} drop
		tcp dport 22 meta nfproto ipv6 drop
	}}
}}
"""


def fence(target: Machine, bastion: Machine) -> None:
    """Make ``bastion`` the one way to ``target``'s SSH port (see the module's docstring)."""
    for link in (target.link, bastion.link):
        Path(f"/proc/sys/net/ipv4/conf/{link}/forwarding").write_text("1\n")
    in_bastion = ["nsenter", "-t", str(bastion.init_pid), "-n"]
    in_target = ["nsenter", "-t", str(target.init_pid), "-n"]
    run(in_bastion + ["ip", "route", "replace", f"{target.address}/32",
                      "via", bastion.gateway])
    run(in_target + ["ip", "route", "replace", f"{bastion.address}/32", "via", target.gateway])
    run(in_target + ["nft", "-f", "-"], input=FILTER.format(bastion=bastion.address))
