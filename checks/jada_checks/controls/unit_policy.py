"""JADA-UNIT-02..05: how the orchestrator's unit restarts, runs, logs and is confined."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from jada_checks.context import CheckContext
from jada_checks.facts import host_facts as hf
from jada_checks.facts.probes import probe, unit_properties
from jada_checks.model import CheckError, Outcome, control, failed, passed
from jada_checks.parsers.emfile import EMFILE_ERE, iso_line
from jada_checks.parsers.numbers import (
    S64_MAX,
    U32_MAX,
    U64_MAX,
    decimal,
    decimal_or_none,
    whole,
    whole_or_none,
)
from jada_checks.parsers.proc import parse_status_ids
from jada_checks.remediation import dropin

# Journal facts, never the journal: when the unit's processes last logged, EMFILE lines per
# minute over the last 24 h (the profile's window is applied locally) and the latest one.
# The pattern is parsers/emfile.py's, matched against the lower-cased message only (Go
# prints lower case; the host name and identifier are stripped first).
JOURNAL = r"""
EMFILE_ERE=@EMFILE_ERE@
printf -v now '%(%s)T' -1; echo "now $now"  # date +%s, without a process
if [ "$EUID" = 0 ]; then echo "access full"
else  # as id -nG | grep -qwE 'adm|systemd-journal': a whole word of the group names
  g=" $(id -nG) "
  if [[ $g =~ [^[:alnum:]_](adm|systemd-journal)[^[:alnum:]_] ]]; then echo "access full"
  else echo "access limited"; fi
fi
last=$(journalctl --no-pager -q -o short-unix -n 1 _SYSTEMD_UNIT="$UNIT")
last=${last%%$'\n'*}; set -f; last=($last); set +f  # awk 'NR==1{print $1}'
echo "last ${last:--}"
journalctl --no-pager -q -o short-unix -u "$UNIT" --since "-1440min" \
  | awk -v re="$EMFILE_ERE" '{m=$0; sub(/^[^ ]+ [^ ]+ [^:]*: /, "", m)}
         tolower(m) ~ re {c[int($1/60)]++; l=$0}
         END{for (m in c) print "M", m, c[m]; if (l != "") print "L", substr(l, 1, 400)}'
true
""".strip().replace("@EMFILE_ERE@", shlex.quote(EMFILE_ERE))

ANALYZE = r"""
out=$(systemd-analyze security --no-pager -- "$UNIT"); rc=$?
if [ "$rc" != 0 ]; then echo "systemd-analyze security exited $rc" >&2; exit "$rc"; fi
found=  # as grep -F 'Overall exposure level'; the lines split in one go, not one by one off
set -f; IFS=$'\n'; lines=($out); IFS=$' \t\n'; set +f  # the front (a copy of the rest each)
for l in "${lines[@]}"; do  # (only empty lines are dropped: they never hold the phrase)
  [[ $l == *'Overall exposure level'* ]] && { printf '%s\n' "$l"; found=1; }
done
[ -n "$found" ] \
  || { echo "no 'Overall exposure level' line in systemd-analyze output" >&2; exit 4; }
""".strip()

probe("hc_uptime", hf.UPTIME)
probe("hc_main_status", hf.MAIN_STATUS)
probe("hc_unit_uids", hf.UNIT_UIDS)
probe("hc_journal", JOURNAL)
probe("hc_analyze", ANALYZE)
unit_properties("Restart", "NRestarts", "ExecMainStartTimestamp",
                "ExecMainStartTimestampMonotonic", "ActiveEnterTimestamp",
                "ActiveEnterTimestampMonotonic", "DynamicUser", "StandardInput",
                "StandardOutput", "StandardError")

GOOD_RESTART = ("on-failure", "always")
TO_JOURNAL = ("journal", "journal+console", "kmsg", "kmsg+console", "syslog", "syslog+console")
_EXPOSURE = re.compile(r"Overall exposure level for (\S+): (\S+)\s*(\S*)")
EXPOSURE_MAX = 10.0  # systemd-analyze security scores 0.0 (confined) .. 10.0 (exposed)
UPTIME_MAX = float(U64_MAX // 10**6)  # CLOCK_BOOTTIME in usec_t, as seconds
MINUTE_MAX = S64_MAX // 60  # a time_t, in minutes


def _ago(s: int) -> str:
    """A duration in whole seconds, rounded down for a message."""
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


@control(
    "JADA-UNIT-02",
    title="The unit restarts on failure and is not crash-looping",
    severity="high",
    side="host",
    rationale="""
Restart=on-failure or always makes systemd restart the orchestrator after a crash
(systemd.service(5), Restart=); NRestarts counts restarts since the unit was last started by
hand (org.freedesktop.systemd1(5)). A rising NRestarts is a crash loop that Restart= hides.
""",
    remediation="""
systemctl edit jada-agent.service  ->  [Service] Restart=on-failure  RestartSec=2
for a crash loop: journalctl -u jada-agent.service -b, fix the cause, systemctl reset-failed
""",
    fix=dropin("60-restart.conf", "Restart=on-failure\nRestartSec=2") + """
# a crash loop: read the cause first, then clear the counter
journalctl -u {unit} -b -n 100 --no-pager
systemctl reset-failed {unit}""",
)
def restart_policy(ctx: CheckContext) -> Outcome:
    max_restarts = int(ctx.expect["thresholds"]["max_restarts"])
    p = hf.unit_props(ctx)
    restart = hf.prop(p, "Restart")
    # D-Bus type u (org.freedesktop.systemd1(5)): a 32-bit count
    restarts = whole(hf.prop(p, "NRestarts"), "unit property NRestarts", high=U32_MAX)
    since = _started(ctx, p)
    observed = f"Restart={restart} NRestarts={restarts}"  # stable: no clock in it (drift)
    expected = f"Restart in {{{', '.join(GOOD_RESTART)}}}, NRestarts < {max_restarts}"
    source = "systemctl show Restart, NRestarts, ExecMainStartTimestamp"
    problems = []
    if restart not in GOOD_RESTART:
        problems.append(f"Restart={restart}: systemd will not restart the orchestrator after "
                        "a crash")
    if restarts >= max_restarts:
        problems.append(f"NRestarts={restarts} >= {max_restarts}: crash loop")
    if problems:
        return failed("; ".join(problems) + since, observed=observed, expected=expected,
                      source=source)
    return passed(f"Restart={restart}, NRestarts={restarts} < {max_restarts}{since}",
                  observed=observed, expected=expected, source=source)


@control(
    "JADA-UNIT-03",
    title="The orchestrator runs as a dedicated non-root user",
    severity="high",
    side="host",
    rationale="""
Claude Code refuses --dangerously-skip-permissions (bypassPermissions) when getuid() is 0:
"--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons"
(github.com/anthropics/claude-code issues 9184, 58150). Without User= (or DynamicUser=) systemd
starts the unit as root (systemd.exec(5), User=), but ExecStart= may drop privileges itself
(setpriv(1) --reuid, runuser(1), su(1), or the program's own setuid()): what counts is the uid
the processes really run as. So the real and effective uid of the main process and of every
other process of the unit's cgroup are read from /proc/<pid>/status (proc(5), "Uid:"; readable
by anyone). "nobody" is shared by unrelated daemons and should not own files (systemd.exec(5)).
""",
    remediation="""
useradd --system --home /home/jada --shell /usr/sbin/nologin jada; systemctl edit
jada-agent.service -> [Service] User=jada Group=jada; systemctl restart jada-agent.service
""",
    fix="""\
# a dedicated unprivileged account for the service
id jada >/dev/null 2>&1 || useradd --system --create-home --home-dir /home/jada \
--shell /usr/sbin/nologin jada
""" + dropin("60-user.conf", "User=jada\nGroup=jada"),
)
def service_user(ctx: CheckContext) -> Outcome:
    p = hf.unit_props(ctx)
    user = hf.prop(p, "User")
    dynamic = p.get("DynamicUser", "no") == "yes"
    real, eff = _main_uids(ctx)
    pid = p.get("MainPID", "?")
    procs = _unit_uids(ctx)
    others = [u for u in procs if str(u.pid) != pid]
    observed = f"User={user or '(unset)'} DynamicUser={'yes' if dynamic else 'no'}; " \
               f"MainPID uid {real} euid {eff}"
    expected = ("a dedicated non-root user (not root/0/nobody) for MainPID and every process "
                "of the unit")
    source = (f"systemctl show User, DynamicUser; /proc/{pid}/status Uid: and /proc/<pid>/status "
              f"of the unit's {len(procs)} processes")
    problems = (_account_problems(user, real) + _root_main_problems(user, dynamic, pid, real, eff)
                + _root_others_problems(others))
    if problems:
        return failed("; ".join(problems), observed=observed, expected=expected, source=source)
    return passed(f"runs as {_runs_as(procs, real)}: {_how_unprivileged(user, dynamic)}; "
                  f"MainPID {pid} and {len(others)} other "
                  f"process(es) of the unit have real and effective uid != 0 (/proc/<pid>/"
                  "status)", observed=observed, expected=expected, source=source)


def _main_uids(ctx: CheckContext) -> tuple[int, int]:
    """MainPID's real and effective uid: what counts, whatever User= says."""
    ids = parse_status_ids(hf.section(ctx, "hc_main_status").out)
    if "Uid" not in ids:
        raise CheckError("Uid: line of /proc/MainPID/status could not be read")
    return ids["Uid"][0], ids["Uid"][1]


def _account_problems(user: str, real: int) -> list[str]:
    """User= root, or an account that is not dedicated (nobody is shared by daemons)."""
    if user in ("root", "0"):
        return [f"User={user}"]
    if user in ("nobody", "65534") or (not user and real == 65534):
        return [f"{'User=' + user if user else 'its processes run as nobody'}: "
                "shared by unrelated services, not dedicated"]
    return []


def _root_main_problems(user: str, dynamic: bool, pid: str, real: int, eff: int) -> list[str]:
    """The main process running as root, saying why when the unit asks for no user."""
    if real == 0 or eff == 0:
        why = "no User= in the unit and no privilege drop in ExecStart=: " if not user and \
            not dynamic else ""
        return [f"{why}MainPID {pid} runs with uid {real}/euid {eff} (root): Claude "
                "Code refuses --dangerously-skip-permissions as root"]
    return []


def _root_others_problems(others: list[_Uid]) -> list[str]:
    """The unit's other processes running as root (the first five are named)."""
    root_kids = [u for u in others if u.real == 0 or u.effective == 0]
    if root_kids:
        return ["processes of the unit run as root: " + ", ".join(
            f"pid {u.pid} ({u.comm}) uid {u.real}/euid {u.effective}" for u in root_kids[:5])]
    return []


def _runs_as(procs: list[_Uid], real: int) -> str:
    """MainPID's account by name when a process of the unit with that uid has one."""
    names = {u.name for u in procs if u.real == real and u.name != "-"}
    return f"{sorted(names)[0]} (uid {real})" if names else f"uid {real}"


def _how_unprivileged(user: str, dynamic: bool) -> str:
    """How the unit came to run unprivileged: its own setting or a drop in ExecStart=."""
    if user or dynamic:
        return f"User={user}" if user else "DynamicUser=yes"
    return ("no User= in the unit, so systemd starts it as root, but ExecStart= drops "
            "privileges")


@dataclass(frozen=True)
class _Uid:
    pid: int
    real: int
    effective: int
    name: str
    comm: str


def _unit_uids(ctx: CheckContext) -> list[_Uid]:
    """Every process of the unit with its real and effective uid (hc_unit_uids)."""
    out: list[_Uid] = []
    seen: set[int] = set()
    for line in hf.section(ctx, "hc_unit_uids").out.splitlines():
        f = line.split(None, 5)
        if len(f) < 5 or f[0] != "U":
            continue
        pid = whole_or_none(f[1], high=U32_MAX)
        real = whole_or_none(f[2], high=U32_MAX)
        eff = whole_or_none(f[3], high=U32_MAX)
        if pid is None or real is None or eff is None:
            raise CheckError(f"cannot parse the unit's process uids: {line[:80]!r} is not "
                             "'U <pid> <uid> <euid> <name> <comm>'")
        if pid not in seen:
            seen.add(pid)
            out.append(_Uid(pid, real, eff, f[4], f[5] if len(f) > 5 else "?"))
    return out


def _started(ctx: CheckContext, p: dict[str, str]) -> str:
    """", main process started N ago (timestamp)", or "" when unknown. Only decorates the
    message: an unknown or unreadable uptime must not hide the restart policy."""
    mono = whole_or_none(p.get("ExecMainStartTimestampMonotonic", ""), high=U64_MAX)  # usec
    try:
        up = hf.section(ctx, "hc_uptime").out.split()
    except CheckError:
        return ""
    uptime = decimal_or_none(up[0], high=UPTIME_MAX) if up else None
    if not mono or uptime is None or uptime < mono / 1e6:
        return ""
    return (f", main process started {_ago(int(uptime - mono / 1e6))} ago "
            f"({p.get('ExecMainStartTimestamp', '?')})")


def _effective_stream(p: dict[str, str], name: str) -> str:
    """What a standard stream is connected to, following inherit (systemd.exec(5))."""
    value = hf.prop(p, name)
    if value != "inherit":
        return value
    if name == "StandardError":
        return _effective_stream(p, "StandardOutput")
    if name == "StandardOutput":
        stdin = p.get("StandardInput", "null")
        return "null" if stdin == "null" else stdin
    return value


@control(
    "JADA-UNIT-04",
    title="The orchestrator logs reach the journal, and it is not running out of descriptors",
    severity="medium",
    side="host",
    rationale="""
StandardOutput=/StandardError= journal (the default; inherit follows stdin resp. stdout) send a
service's output to the journal (systemd.exec(5), Logging and Standard Input/Output); the journal
is where `journalctl -u` finds it. EMFILE, "Too many open files" (errno(3)), in the window means
the process hit RLIMIT_NOFILE and dropped work. Matched case-insensitively as the runtimes print
it: Go "accept4: too many open files" (net/http Serve), Node.js "EMFILE", Python "[Errno 24] Too
many open files", Java "java.net.SocketException: Too many open files".
""",
    remediation="""
systemctl edit jada-agent.service -> [Service] StandardOutput=journal StandardError=journal;
for EMFILE: raise LimitNOFILE (JADA-FD-01) and look at journalctl -u jada-agent.service -g EMFILE
""",
    fix=dropin("60-journal.conf", "StandardOutput=journal\nStandardError=journal")
    + """
# EMFILE in the journal: raise LimitNOFILE (JADA-FD-01's fix), then look again
journalctl -u {unit} -g EMFILE --since -1h --no-pager""",
)
def journal_logging(ctx: CheckContext) -> Outcome:
    window = int(ctx.expect["thresholds"]["journal_window_minutes"])
    p = hf.unit_props(ctx)
    out, err = _effective_stream(p, "StandardOutput"), _effective_stream(p, "StandardError")
    facts: dict[str, str] = {}
    minutes: dict[int, int] = {}
    latest = ""
    for line in hf.section(ctx, "hc_journal").out.splitlines():
        key, _, rest = line.partition(" ")
        if key == "M":  # awk: M <minute since the epoch> <EMFILE lines in it>
            f = rest.split()
            if len(f) != 2:
                raise CheckError(f"journal count line {line[:80]!r} is not 'M <minute> <count>'")
            minute = whole(f[0], "a journal minute (M line)", high=MINUTE_MAX)
            minutes[minute] = whole(f[1], "a journal EMFILE count (M line)", high=S64_MAX)
        elif key == "L":
            latest = rest
        elif key:
            facts[key] = rest.strip()
    if facts.get("access") != "full":
        raise CheckError("the SSH user cannot read the system journal (needs root, adm or "
                         "systemd-journal)")
    if "now" not in facts:
        raise CheckError("the target's clock (date +%s) could not be read")
    now = whole(facts["now"], "the target's clock (date +%s)", high=S64_MAX)
    start = now // 60 - min(window, 1440)
    count = sum(c for m, c in minutes.items() if m >= start)
    last = facts.get("last", "-")
    observed = (f"StandardOutput->{out} StandardError->{err}; entries from the unit's "
                f"processes: {'none' if last == '-' else 'yes'}; EMFILE lines in {window} min: "
                f"{count}")
    expected = "stdout/stderr to the journal; entries present; 0 EMFILE lines in the window"
    source = f"systemctl show StandardOutput/StandardError; journalctl -u {ctx.expect['unit']}"
    problems = []
    for name, target in (("StandardOutput", out), ("StandardError", err)):
        if target not in TO_JOURNAL:
            problems.append(f"{name} goes to {target}, not the journal")
    if last == "-":
        problems.append("the journal has no entries from the unit's processes "
                        f"(journalctl _SYSTEMD_UNIT={ctx.expect['unit']})")
    if count:
        problems.append(f"{count} 'Too many open files'/EMFILE lines in the last {window} min; "
                        f"latest: {iso_line(latest)[:300]}")
    if problems:
        return failed("; ".join(problems), observed=observed, expected=expected, source=source)
    return passed(f"logs reach the journal (stdout->{out}, stderr->{err}); no EMFILE lines in "
                  f"the last {window} min", observed=observed, expected=expected, source=source)


@control(
    "JADA-UNIT-05",
    title="The unit's sandboxing exposure is within the threshold",
    severity="low",
    side="host",
    rationale="""
`systemd-analyze security UNIT` scores a service's sandboxing settings (ProtectSystem=,
PrivateTmp=, NoNewPrivileges=, CapabilityBoundingSet=, ...) from 0.0 (confined) to 10.0 (exposed)
(systemd-analyze(1), "security"). An orchestrator that runs agents with broad permissions
benefits most from the kernel-level confinement those settings give.
""",
    remediation="""
systemctl edit jada-agent.service -> [Service] NoNewPrivileges=yes ProtectSystem=strict
ReadWritePaths=/srv/jada ProtectHome=read-only PrivateTmp=yes ...; check: systemd-analyze security
jada-agent.service
""",
    fix=dropin("60-hardening.conf", "NoNewPrivileges=yes\nProtectSystem=strict\n"
                            "ReadWritePaths={home}\nPrivateTmp=yes") + """
systemd-analyze security --no-pager {unit}""",
)
def hardening(ctx: CheckContext) -> Outcome:
    limit = float(ctx.expect["thresholds"]["exposure_max"])
    sec = hf.section(ctx, "hc_analyze")
    m = _EXPOSURE.search(sec.out)
    if not m:
        raise CheckError("systemd-analyze security printed no overall exposure level")
    exposure = decimal(m.group(2), "the overall exposure level (systemd-analyze security)",
                       high=EXPOSURE_MAX)
    observed = f"{exposure:.1f} {m.group(3)}".strip()
    expected = f"<= {limit:g}"
    source = f"systemd-analyze security {ctx.expect['unit']}"
    if exposure > limit:
        return failed(f"overall exposure {exposure:.1f} {m.group(3)} > {limit:g}",
                      observed=observed, expected=expected, source=source)
    return passed(f"overall exposure {exposure:.1f} {m.group(3)} <= {limit:g}",
                  observed=observed, expected=expected, source=source)
