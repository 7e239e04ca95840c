"""Fixes as code: one shell block per control, filled in with the target's real values.

Why a table here rather than prose in each control: a fix is something an operator pastes
into a root shell on the target (or, for Lightsail, into a shell with the AWS CLI), so it
must be a valid script (``tests/test_remediation.py`` runs ``bash -n`` on every filled fix),
it must not wrap inside a command, and fixes must not undo each other. All listen-queue
sysctls therefore live in ONE drop-in, ``/etc/sysctl.d/60-jada.conf``, which every NET fix
writes whole with the same content; unit settings go to one drop-in per concern under
``/etc/systemd/system/UNIT.d/``. Prose is shell comments.

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


def _dropin(name: str, body: str) -> str:
    return (f"mkdir -p /etc/systemd/system/{{unit}}.d\n"
            f"cat > /etc/systemd/system/{{unit}}.d/{name} <<'EOF'\n[Service]\n{body}\nEOF\n"
            "systemctl daemon-reload\nsystemctl restart {unit}")


FIXES: dict[str, str] = {
    "JADA-UNIT-01": """\
systemctl enable --now {unit}
systemctl status --no-pager {unit}
# if it does not stay up, the journal says why:
journalctl -u {unit} -b -n 50 --no-pager""",
    "JADA-UNIT-02": _dropin("60-restart.conf", "Restart=on-failure\nRestartSec=2") + """
# a crash loop: read the cause first, then clear the counter
journalctl -u {unit} -b -n 100 --no-pager
systemctl reset-failed {unit}""",
    "JADA-UNIT-03": """\
# a dedicated unprivileged account for the service
id jada >/dev/null 2>&1 || useradd --system --create-home --home-dir /home/jada \
--shell /usr/sbin/nologin jada
""" + _dropin("60-user.conf", "User=jada\nGroup=jada"),
    "JADA-UNIT-04": _dropin("60-journal.conf", "StandardOutput=journal\nStandardError=journal")
    + """
# EMFILE in the journal: raise LimitNOFILE (JADA-FD-01's fix), then look again
journalctl -u {unit} -g EMFILE --since -1h --no-pager""",
    "JADA-UNIT-05": _dropin("60-hardening.conf", "NoNewPrivileges=yes\nProtectSystem=strict\n"
                            "ReadWritePaths={home}\nPrivateTmp=yes") + """
systemd-analyze security --no-pager {unit}""",
    "JADA-FD-01": _dropin("60-nofile.conf", "LimitNOFILE={nofile}:{nofile}") + """
grep 'open files' "/proc/$(systemctl show -p MainPID --value {unit})/limits\"""",
    "JADA-FD-02": """\
# raise the unit's limit (JADA-FD-01's fix) or find the leak: descriptors by target
pid=$(systemctl show -p MainPID --value {unit})
ls -l "/proc/$pid/fd" | awk '{print $NF}' | sort | uniq -c | sort -rn | head""",
    "JADA-FD-03": """\
# a limit above fs.nr_open cannot be applied: lower the limit named above to at most
sysctl -n fs.nr_open
# or raise fs.nr_open persistently (its own drop-in) before raising the limit:
cat > /etc/sysctl.d/60-nr-open.conf <<'EOF'
fs.nr_open = 2097152
EOF
sysctl -p /etc/sysctl.d/60-nr-open.conf""",
    "JADA-LIM-01": """\
cat > /etc/security/limits.d/60-jada.conf <<'EOF'
{ssh_user} - nofile {nofile}
{ssh_user} - nproc {nproc}
EOF
# takes effect for new sessions; check from your workstation:
# ssh -p {ssh_port} {ssh_user}@{ssh_host} 'ulimit -Sn; ulimit -Hn; ulimit -Su; ulimit -Hu'""",
    "JADA-LIM-02": """\
# pam_limits refuses the whole login when a nofile value exceeds fs.nr_open:
sysctl -n fs.nr_open
# edit the line named above to a value at most that, e.g. '{ssh_user} - nofile {nofile}':
grep -rn nofile /etc/security/limits.conf /etc/security/limits.d/""",
    "JADA-LIM-03": _dropin("60-tasks.conf", "LimitNPROC={tasks}\nTasksMax={tasks}"),
    "JADA-NET-01": SYSCTL_DROPIN,
    "JADA-NET-02": SYSCTL_DROPIN + """
# what boot will apply, file by file:
/lib/systemd/systemd-sysctl --cat-config | grep -E 'somaxconn|syn_backlog'""",
    "JADA-NET-03": SYSCTL_DROPIN,
    "JADA-NET-04": """\
# start the agent with a larger listen backlog (e.g. --backlog {backlog});
# net.core.somaxconn caps it, so it must be at least as large:
sysctl -n net.core.somaxconn
systemctl restart {unit}
ss -lntp""",
    "JADA-CFG-01": """\
# replaces the file (a copy is kept next to it)
install -d -o {user} -m 700 {home}/.claude
[ -e {settings} ] && cp -a {settings} {settings}.bak
cat > {settings} <<'EOF'
{"model": "{model}"}
EOF
chown {user}: {settings}
chmod 600 {settings}
jada-checks validate-settings {settings}""",
    "JADA-CFG-02": """\
# set "model": "{model}" in {settings} and remove the overriding source named above:
# a --model argument, ANTHROPIC_MODEL in the unit, or a higher-precedence settings file
systemctl show -p Environment -p ExecStart {unit}
grep -n '"model"' {settings}""",
    "JADA-CFG-03": """\
# after fixing the configuration (JADA-CFG-02), restart so the agents pick it up
systemctl restart {unit}""",
    "JADA-CFG-04": """\
# forbid: drop --dangerously-skip-permissions and defaultMode bypassPermissions, or set
# permissions.disableBypassPermissionsMode "disable" in the managed settings;
# require: pass --dangerously-skip-permissions to the agents
systemctl show -p ExecStart {unit}
cat /etc/claude-code/managed-settings.json""",
    "JADA-CFG-05": """\
# settings the agents read must not be writable by them
chown root:root {settings}
chmod 644 {settings}
chmod go-w {home}/.claude
f=/etc/claude-code/managed-settings.json
if [ -e "$f" ]; then chown root:root "$f"; chmod 644 "$f"; fi""",
    "JADA-LS-01": """\
aws lightsail start-instance --instance-name {instance} --region {region}
aws lightsail get-instance-state --instance-name {instance} --region {region}""",
    "JADA-LS-02": """\
aws lightsail allocate-static-ip --static-ip-name {instance}-ip --region {region}
aws lightsail attach-static-ip --static-ip-name {instance}-ip --instance-name {instance} \
--region {region}
# then point DNS and the profile at the new address""",
    "JADA-LS-03": """\
# replaces the whole rule set with the profile's ports; restrict admin ports to your range
ADMIN_CIDR="${{ADMIN_CIDR:?set ADMIN_CIDR to your office or VPN range, e.g. 203.0.113.0/24}}"
aws lightsail put-instance-public-ports --instance-name {instance} --region {region} \
--port-infos {port_infos}""",
    "JADA-LS-09": """\
# replaces the whole rule set: admin ports open to your range only
ADMIN_CIDR="${{ADMIN_CIDR:?set ADMIN_CIDR to your office or VPN range, e.g. 203.0.113.0/24}}"
aws lightsail put-instance-public-ports --instance-name {instance} --region {region} \
--port-infos {port_infos}""",
    "JADA-HTTP-01": """\
# from the runner, as a client: what answers, how fast
# (-k: availability only; JADA-HTTP-02 judges the certificate)
curl -sS -k -o /dev/null -D - --connect-timeout 3 {http_url}
# on the host: is the unit up, and does it listen on a public address?
systemctl status --no-pager {unit}
ss -lntp
journalctl -u {unit} -b -n 50 --no-pager
# timed out while ssh.port answers (filtered): a host firewall drops it; also the
# Lightsail firewall (aws lightsail get-instance-port-states)
nft list ruleset""",
    "JADA-HTTP-02": """\
# what the service presents (subject, issuer, dates, names)
openssl s_client -connect {http_hostport} -servername {http_name} </dev/null 2>/dev/null \\
  | openssl x509 -noout -subject -issuer -dates -ext subjectAltName
# renew or replace it with a subjectAltName for every name clients use, then
systemctl reload-or-restart {unit}""",
    "JADA-HTTP-03": """\
# what the firewall opens, and what the unit listens on (on the host: ss -lntp)
aws lightsail get-instance-port-states --instance-name {instance} --region {region}
# close a port nothing serves (or start the unit's listener on it):
# aws lightsail close-instance-public-ports --instance-name {instance} --region {region} \\
#   --port-info fromPort=PORT,toPort=PORT,protocol=tcp""",
    "JADA-LS-04": """\
# tell a host failure from a guest one, then reboot (or stop and start to move hosts)
aws lightsail get-instance-metric-data --instance-name {instance} --region {region} \
--metric-name StatusCheckFailed_System --period 60 --statistics Sum --unit Count \
--start-time "$(date -u -d '-1 hour' +%FT%TZ)" --end-time "$(date -u +%FT%TZ)"
aws lightsail reboot-instance --instance-name {instance} --region {region}""",
    "JADA-LS-05": """\
# find the load, or move to a larger bundle (snapshot, then a new instance from it)
aws lightsail get-instance-metric-data --instance-name {instance} --region {region} \
--metric-name CPUUtilization --period 300 --statistics Average --unit Percent \
--start-time "$(date -u -d '-6 hours' +%FT%TZ)" --end-time "$(date -u +%FT%TZ)"
aws lightsail create-instance-snapshot --instance-name {instance} --region {region} \
--instance-snapshot-name {instance}-resize""",
    "JADA-LS-06": """\
# first update the IMDSv1 callers that MetadataNoToken counts, then:
aws lightsail update-instance-metadata-options --instance-name {instance} --region {region} \
--http-tokens required
aws lightsail get-instance --instance-name {instance} --region {region} \
--query instance.metadataOptions""",
    "JADA-LS-07": """\
aws lightsail enable-add-on --resource-name {instance} --region {region} \
--add-on-request 'addOnType=AutoSnapshot,autoSnapshotAddOnRequest={snapshotTimeOfDay=06:00}'
aws lightsail get-auto-snapshots --resource-name {instance} --region {region}""",
    "JADA-LS-08": """\
# a bundle or blueprint cannot be changed in place: snapshot, then create a new instance
aws lightsail create-instance-snapshot --instance-name {instance} --region {region} \
--instance-snapshot-name {instance}-rebuild""",
}

# Values the run does not know, looked up on the host by a line prepended to the fix.
LOOKUPS = {
    "user": ("SVC_USER", 'SVC_USER=$(systemctl show -p User --value {unit})\n'
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
        cidr = "${ADMIN_CIDR}" if any(lo <= a <= hi for a in admin) else "0.0.0.0/0"
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
    """The connection the suite makes, as one ``ssh`` command line to try by hand."""
    s = target.ssh or {}
    parts = ["ssh", "-p", str(s.get("port", 22)), "-o", "BatchMode=yes",
             "-o", f"ConnectTimeout={s.get('connect_timeout', 5)}"]
    if s.get("identity_file"):
        parts += ["-o", "IdentitiesOnly=yes", "-i", s["identity_file"]]
    if s.get("known_hosts"):
        parts += ["-o", f"UserKnownHostsFile={s['known_hosts']}"]
    policy = "accept-new" if s.get("host_key_policy") == "accept-new" else "yes"
    parts += ["-o", f"StrictHostKeyChecking={policy}", f"{s.get('user', 'root')}@{s.get('host')}",
              command]
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


def fix_for(control_id: str, prose: str, target: Target, outcome: str, message: str,
            facts: dict[str, str] | None = None, observed: object = None,
            expected: object = None) -> str:
    """The filled fix for one result: the cause's fix for a cause error, else the
    control's (falling back to its prose as comments for a control without a table entry),
    headed by the current and wanted values of a failure."""
    if outcome == "error":
        maker = cause(message)
        if maker is not None:
            return maker(target, message)
    template = FIXES.get(control_id)
    if template is None:
        body = "\n".join("# " + line for line in prose.splitlines())
    else:
        body = fill(template, target_values(target, facts))
    head = [comment(label, v) for label, v in (("now", observed), ("wanted", expected))
            if outcome == "fail" and v is not None]
    return "\n".join([*head, body])


def needs_facts(control_id: str) -> bool:
    template = FIXES.get(control_id, "")
    return any("{" + k + "}" in template for k in LOOKUPS)
