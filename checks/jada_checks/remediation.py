"""Fixes as code: each control's ``fix`` shell block, filled in with the target's real values.

The fix lives in the control's own ``@control(fix=...)``; this module is the shared filling
machinery. A fix is something an operator pastes into a root shell on the target (or, for
Lightsail, into a shell with the AWS CLI), so it must be a valid script
(``tests/test_remediation.py`` runs ``bash -n`` on every filled fix), it must not wrap
inside a command, and fixes must not undo each other. All listen-queue sysctls therefore
live in ONE drop-in, ``/etc/sysctl.d/60-jada.conf`` (:data:`SYSCTL_DROPIN`), which every NET
fix writes whole with the same content; unit settings go to one drop-in per concern under
``/etc/systemd/system/UNIT.d/`` (:func:`dropin`). Prose is shell comments.

Placeholders ``{name}`` are filled from the profile (unit, expected minimums, model,
instance, region, SSH details) and from the facts already gathered (the unit's User=, its
home, its settings path). A value the run does not know is looked up on the host by a
line prepended to the fix (``SVC_USER=$(systemctl show ...)``), never left as ``<user>``.

An *error* gets the fix for its cause instead (connection, AWS credentials, sudo), which
the reports show once per target, not every control's configuration fix.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jada_checks.model import Control
    from jada_checks.profile import Target

SYSCTL_DROPIN = """\
# All listen-queue sysctls live in this one file, written whole (every NET fix writes the
# same content, so none undoes another). Values: the profile's minimums.
cat > /etc/sysctl.d/60-jada.conf <<'EOF'
net.core.somaxconn = {somaxconn}
net.ipv4.tcp_max_syn_backlog = {syn_backlog}
EOF
sysctl -p /etc/sysctl.d/60-jada.conf
# listening sockets keep the backlog they were created with: restart the service
systemctl restart {unit}"""


def dropin(name: str, body: str) -> str:
    return (f"mkdir -p /etc/systemd/system/{{unit}}.d\n"
            f"cat > /etc/systemd/system/{{unit}}.d/{name} <<'EOF'\n[Service]\n{body}\nEOF\n"
            "systemctl daemon-reload\nsystemctl restart {unit}")



# Values the run does not know, looked up on the host by a line prepended to the fix.
LOOKUPS = {
    # User=, else the real user of the main process (a privilege drop in ExecStart=), as
    # the fact script's prelude resolves it (facts/probes.py), else root
    "user": ("SVC_USER", 'SVC_USER=$(systemctl show -p User --value {unit})\n'
             '[ -n "$SVC_USER" ] || SVC_USER=$(ps -o ruser:64= -p "$(systemctl show -p MainPID '
             '--value {unit})" 2>/dev/null)\n'
             '[ -n "$SVC_USER" ] || SVC_USER=root'),
    "home": ("SVC_HOME", "SVC_HOME=$(getent passwd {user} | cut -d: -f6)"),
    "settings": ("SVC_SETTINGS", "SVC_SETTINGS={home}/.claude/settings.json"),
}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def port_infos(target: Target) -> str:
    """The profile's open ports as --port-infos values; admin ports limited to $ADMIN_CIDR."""
    ls = target.expect["lightsail"]
    admin = set(ls["admin_ports"])
    out = []
    for p in ls["open_ports"]:
        lo, hi = p["from_port"], p.get("to_port", p["from_port"])
        # icmp/icmpv6: from/to are an ICMP type and code (-1: all), never an admin port
        icmp = p["protocol"] in ("icmp", "icmpv6")
        cidr = "${ADMIN_CIDR}" if not icmp and any(lo <= a <= hi for a in admin) \
            else "0.0.0.0/0"
        out.append(f"fromPort={lo},toPort={hi},protocol={p['protocol']},cidrs={cidr}")
    return " ".join(f'"{x}"' for x in out)


def target_values(target: Target, facts: dict[str, str] | None = None) -> dict[str, str]:
    """Placeholder values from the profile (and ``facts``), shell-quoted where needed."""
    e = target.expect
    allow = e["model"]["allow"]
    v: dict[str, Any] = {
        "unit": e["unit"], "somaxconn": e["somaxconn_min"],
        "syn_backlog": e["tcp_max_syn_backlog_min"], "nofile": e["nofile_min"],
        "nproc": e["nproc_min"], "tasks": e["tasks_min"], "backlog": e["listen_backlog_min"],
        "model": allow[0],
    }
    if target.ssh:
        s = target.ssh
        v.update(ssh_user=s["user"], ssh_host=s["host"], ssh_port=s["port"])
    if target.lightsail:
        v.update(instance=target.lightsail["instance"], region=target.lightsail["region"],
                 port_infos=port_infos(target))
    # The first service port (HTTP controls run only when the profile names one).
    h = (e.get("http") or [{"scheme": "https", "port": "PORT", "path": "/healthz"}])[0]
    host = target.expected_public_ip or "ADDRESS"
    hostport = f"[{host}]:{h['port']}" if ":" in host else f"{host}:{h['port']}"
    v.update(http_url=f"{h['scheme']}://{hostport}{h['path']}", http_hostport=hostport,
             http_name=h.get("server_name") or host)
    out = {k: shlex.quote(str(x)) if k != "port_infos" else x for k, x in v.items()}
    for k, x in (facts or {}).items():
        if x:
            out[k] = shlex.quote(x)
    return out


def fill(template: str, values: dict[str, str]) -> str:
    """Substitute known ``{name}``s; unknown user/home/settings become host look-ups.
    ``{{``/``}}`` stand for literal braces; other braces (awk, JSON) are left alone."""
    needed = [k for k in LOOKUPS if k not in values and "{" + k + "}" in template]
    if "home" in needed or "settings" in needed:
        needed = [k for k in LOOKUPS if k not in values]  # each lookup needs the one before
    vals = dict(values, **{k: f'"${LOOKUPS[k][0]}"' for k in needed})

    def sub(m: re.Match[str]) -> str:
        return vals.get(m.group(1), m.group(0))

    pre = [PLACEHOLDER.sub(sub, LOOKUPS[k][1]) for k in needed]
    body = PLACEHOLDER.sub(sub, template).replace("{{", "{").replace("}}", "}")
    return "\n".join([*pre, body])


def ssh_command(target: Target, command: str = "true") -> str:
    """The connection the suite makes, as one ``ssh`` command line to try by hand (with
    ``proxy_jump``: the bastion's own ssh under the same host-key policy)."""
    s = target.ssh or {}
    policy = ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={s.get('connect_timeout', 5)}"]
    if s.get("identity_file"):
        policy += ["-o", "IdentitiesOnly=yes", "-i", s["identity_file"]]
    if s.get("known_hosts"):
        policy += ["-o", f"UserKnownHostsFile={s['known_hosts']}"]
    strict = "accept-new" if s.get("host_key_policy") == "accept-new" else "yes"
    policy += ["-o", f"StrictHostKeyChecking={strict}"]
    parts = ["ssh", *(["-F", s["config_file"]] if s.get("config_file") else []),
             "-p", str(s.get("port", 22)), *policy]
    if s.get("proxy_jump"):
        from jada_checks.facts.remote import parse_jump

        try:
            jump = parse_jump(s["proxy_jump"], {"user": s.get("user", "root")})
        except ValueError:
            jump = None
        if jump is not None:
            hop = ["ssh", "-p", str(jump.port), *policy, "-W", "[%h]:%p",
                   f"{jump.user}@{jump.host}"]
            parts += ["-o", "ProxyCommand=" + " ".join(shlex.quote(p) for p in hop)]
    parts += [f"{s.get('user', 'root')}@{s.get('host')}", command]
    return " ".join(shlex.quote(p) for p in parts)


def _connection_fix(target: Target, message: str) -> str:
    lines = ["# the suite could not connect; this is the same connection, run by hand:",
             ssh_command(target)]
    s = target.ssh or {}
    if s.get("identity_file"):
        key = shlex.quote(s["identity_file"])
        lines += ["# the key must exist, be readable, and not be group/world-readable:",
                  f"ls -l {key}", f"chmod 600 {key}"]
    kh = shlex.quote(s["known_hosts"]) if s.get("known_hosts") else "~/.ssh/known_hosts"
    lines += ["# the host key must be in the profile's known_hosts (verify it out of band):",
              f"ssh-keygen -F {shlex.quote(str(s.get('host')))} -f {kh}"]
    if s.get("proxy_jump"):
        from jada_checks.facts.remote import parse_jump

        try:
            jump = parse_jump(s["proxy_jump"], {"user": s.get("user", "root")})
        except ValueError:
            jump = None
        if jump is not None:  # known_hosts names a non-default port as [host]:port
            name = jump.host if jump.port == 22 else f"[{jump.host}]:{jump.port}"
            lines += ["# and so must the bastion's (ssh.proxy_jump), in the same file:",
                      f"ssh-keygen -F {shlex.quote(name)} -f {kh}"]
    return "\n".join(lines)


def _credentials_fix(target: Target, message: str) -> str:
    ls = target.lightsail or {}
    return "\n".join([
        "# the suite reads AWS credentials from the standard chain (environment, shared",
        "# files, SSO, instance role); give it read-only ones (ci/iam-policy.json), e.g.:",
        "aws configure --profile jada-checks",
        "export AWS_PROFILE=jada-checks",
        "aws lightsail get-instance --instance-name "
        f"{shlex.quote(str(ls.get('instance')))} --region {shlex.quote(str(ls.get('region')))}",
    ])


HELPER = "/usr/local/libexec/jada-checks-read"


def _sudo_fix(target: Target, message: str) -> str:
    if f"{HELPER} is another version" in message:  # sudo works; the helper is not this one's
        return "\n".join([
            "# on the target, as root: replace the read helper with this release's",
            "# (ci/libexec/jada-checks-read in this repository, copied to the target first)",
            f"install -o root -g root -m 0755 jada-checks-read {HELPER}",
            "# from your workstation, this must print the version the suite speaks:",
            ssh_command(target, f"sudo -n {HELPER} version"),
        ])
    return "\n".join([
        "# on the target, as root: install the suite's sudoers rules for the SSH user",
        "# (ci/sudoers.d/jada-checks in this repository), check them, then:",
        "visudo -c",
        "# from your workstation, this must list the rules without asking for a password:",
        ssh_command(target, "sudo -n -l"),
    ])


CAUSES: tuple[tuple[str, Callable[[Target, str], str]], ...] = (
    (r"^unreachable:", _connection_fix),
    (r"AWS credentials", _credentials_fix),
    (r"^a read that needs root was refused", _sudo_fix),
)


def cause(message: str) -> Callable[[Target, str], str] | None:
    """The fix maker for an error whose cause is the connection, credentials or sudo."""
    return next((fn for pattern, fn in CAUSES if re.search(pattern, message)), None)


def comment(label: str, value: object, limit: int = 200) -> str:
    """One ``# label: value`` line; newlines in the value could otherwise end the comment
    and turn the rest into a command."""
    text = " ".join(str(value).split())
    return f"# {label}: {text[:limit]}{'...' if len(text) > limit else ''}"


def fix_for(control: Control, target: Target, outcome: str, message: str,
            facts: dict[str, str] | None = None, observed: object = None,
            expected: object = None) -> str:
    """The filled fix for one result: the cause's fix for a cause error, else the
    control's ``fix`` (its remediation prose as comments where it has none), headed by
    the current and wanted values of a failure."""
    if outcome == "error":
        maker = cause(message)
        if maker is not None:
            return maker(target, message)
    if not control.fix:
        body = "\n".join("# " + line for line in control.remediation.splitlines())
    else:
        body = fill(control.fix, target_values(target, facts))
    head = [comment(label, v) for label, v in (("now", observed), ("wanted", expected))
            if outcome == "fail" and v is not None]
    return "\n".join([*head, body])


def needs_facts(template: str) -> bool:
    """Does the fix name a value that only the target's facts give (user, home, ...)?"""
    return any("{" + k + "}" in template for k in LOOKUPS)
