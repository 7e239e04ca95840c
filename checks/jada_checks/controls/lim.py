"""JADA-LIM: login-session limits (pam_limits) and the unit's process budget."""

from __future__ import annotations

from jada_checks.context import CheckContext
from jada_checks.facts import host_facts as hf
from jada_checks.facts.probes import probe, unit_properties
from jada_checks.model import CheckError, Outcome, control, failed, passed
from jada_checks.parsers.limits import (
    Identity,
    Limit,
    becomes_nr_open,
    entries,
    evaluate,
    nofile_value,
    shadowed_by,
)
from jada_checks.parsers.numbers import U32_MAX, NumberError, whole
from jada_checks.parsers.proc import RLIM_INFINITY, parse_rlimit, show_rlimit
from jada_checks.remediation import dropin

probe("hc_limits_files", hf.LIMITS_FILES)
probe("hc_session", hf.SESSION)
probe("hc_sysctl_runtime", hf.SYSCTL_RUNTIME)
probe("hc_sysctl_files", hf.SYSCTL_FILES)
probe("hc_main_limits", hf.MAIN_LIMITS)
probe("hc_boot_facts", hf.BOOT_FACTS)
unit_properties("LimitNPROC", "LimitNPROCSoft", "TasksMax")

PAM_SRC = "linux-pam 1.5.2 modules/pam_limits/pam_limits.c + Debian patches 027/032"


def identity(facts: dict[str, str]) -> Identity:
    """The SSH user as pam_limits sees it; ids are uid_t/gid_t (32 bits)."""
    try:
        return Identity(
            name=facts["user"], uid=whole(facts["uid"], "uid (id -u)", high=U32_MAX),
            gid=whole(facts["gid"], "gid (id -g)", high=U32_MAX),
            gids=frozenset(whole(g, "a group id (id -G)", high=U32_MAX)
                           for g in facts.get("gids", "").split()),
            groups=frozenset(facts.get("groups", "").split()))
    except KeyError:
        raise CheckError("the SSH user's identity (id -u/-g/-G/-Gn) could not be read") from None
    except NumberError as exc:
        raise CheckError(f"the SSH user's identity could not be read: {exc}") from None


def session_pair(facts: dict[str, str], key: str) -> tuple[int, int] | None:
    fields = facts.get(key, "").split()
    if len(fields) != 2:
        return None
    soft, hard = parse_rlimit(fields[0]), parse_rlimit(fields[1])
    return (soft, hard) if soft is not None and hard is not None else None


def _describe(item: str, limit: Limit) -> str:
    parts = []
    for side_name in ("soft", "hard"):
        side = getattr(limit, side_name)
        if side.entry is None:
            parts.append(f"{side_name}: no entry")
        else:
            parts.append(f"{side_name} {show_rlimit(side.value)} from {side.entry.where} "
                         f"({side.entry.text()})")
    return f"{item}: " + "; ".join(parts)


@control(
    "JADA-LIM-01",
    title="Login sessions of the SSH user get the nofile/nproc limits agents need",
    severity="high",
    side="host",
    rationale="""
Agents started over SSH get limits from pam_limits, which sshd runs for every session with
UsePAM yes, non-interactive commands included (sshd.c calls do_pam_session() after
authentication). pam_limits reads limits.conf, then limits.d/*.conf in C-locale order; a user
entry beats @group beats *, a later entry of equal or higher priority wins, and on Debian/Ubuntu
group and * entries do not apply to root (limits.conf(5); pam_limits.c; Debian patch 027). The
entries are resolved here with those rules and cross-checked against `ulimit` in the session.
""",
    remediation="""
echo '<user> - nofile 65536' >> /etc/security/limits.d/60-jada.conf (and '<user> - nproc 8192');
check with: ssh <user>@<host> 'ulimit -Sn; ulimit -Hn; ulimit -Su; ulimit -Hu'
""",
    fix="""\
cat > /etc/security/limits.d/60-jada.conf <<'EOF'
{ssh_user} - nofile {nofile}
{ssh_user} - nproc {nproc}
EOF
# takes effect for new sessions; check from your workstation:
# ssh -p {ssh_port} {ssh_user}@{ssh_host} 'ulimit -Sn; ulimit -Hn; ulimit -Su; ulimit -Hu'""",
)
def session_limits(ctx: CheckContext) -> Outcome:
    facts = hf.session_facts(ctx)
    who = identity(facts)
    files, problems = hf.limits_files(ctx)
    if problems:
        raise CheckError("; ".join(problems))
    result = evaluate(files, who, hf.nr_open(ctx), debian=hf.is_debian_family(facts))
    want = {"nofile": int(ctx.expect["nofile_min"]), "nproc": int(ctx.expect["nproc_min"])}
    source = f"{', '.join(result.files)} ({PAM_SRC}); ulimit -Sn/-Hn/-Su/-Hu in the session"
    expected = f"nofile >= {want['nofile']}, nproc >= {want['nproc']} (soft and hard)"
    sudo = " (facts gathered through sudo: session values are the sudo shell's)" \
        if facts.get("sudo") == "yes" else ""
    if result.disabled_by is not None:
        e = result.disabled_by
        return failed(f"pam_limits stops at {e.where} ('{e.domain.decode(errors='replace')} -'):"
                      f" no limits are applied to {who.name}'s sessions",
                      observed=f"disabled by {e.where}", expected=expected, source=source)
    problems_out, observed = [], []
    for item in ("nofile", "nproc"):
        limit = result.limits[item]
        session = session_pair(facts, item)
        if session is None:
            raise CheckError(f"the session's ulimit for {item} could not be read")
        conf = limit.session_pair()
        observed.append(f"{item} config {show_rlimit(conf[0])}:{show_rlimit(conf[1])} "
                        f"session {show_rlimit(session[0])}:{show_rlimit(session[1])}")
        for i, side_name in enumerate(("soft", "hard")):
            side = getattr(limit, side_name)
            configured = conf[i]
            effective: int = configured if configured is not None else session[i]
            origin = (f"{side.entry.where}" if side.entry else
                      "no limits.conf/limits.d entry: inherited default")
            if effective < want[item]:
                problems_out.append(f"{item} {side_name} for {who.name} is "
                                    f"{show_rlimit(effective)} < {want[item]} ({origin})")
            if conf[i] is not None and conf[i] != session[i]:
                problems_out.append(
                    f"{item} {side_name}: limits files give {show_rlimit(conf[i])} ({origin}) but "
                    f"the SSH session has {show_rlimit(session[i])} — pam_limits did not apply "
                    f"it (value above fs.nr_open? pam_limits missing from /etc/pam.d/sshd or "
                    f"UsePAM no?){sudo}")
    detail = " | ".join(_describe(i, result.limits[i]) for i in ("nofile", "nproc"))
    if problems_out:
        return failed("; ".join(problems_out) + f" [{detail}]", observed="; ".join(observed),
                      expected=expected, source=source)
    return passed(f"{who.name}: {detail}; the session agrees{sudo}",
                  observed="; ".join(observed), expected=expected, source=source)


@control(
    "JADA-LIM-02",
    title="No nofile value in limits.conf/limits.d exceeds fs.nr_open",
    severity="critical",
    side="host",
    rationale="""
The kernel refuses a nofile hard limit above fs.nr_open with EPERM (do_prlimit(), kernel/sys.c).
Debian/Ubuntu's pam_limits then logs "Could not set limit for 'nofile'" and lets the session go
on with its old limits (Debian patch 032_pam_limits_EPERM_NOT_FATAL); upstream linux-pam denies
the login (PAM_PERM_DENIED). Either way the configured limit never applies and every login
logs the failure. A soft value above the hard one is silently lowered to it. "unlimited",
"infinity", "-1" and "-" for nofile become fs.nr_open itself (pam_limits.c), and so does a value
strtoull() saturates (99999999999999999999: ERANGE gives ULLONG_MAX = RLIM_INFINITY, and
process_limit() does not check errno), so they are fine. Each value must fit fs.nr_open now and
after the next boot: a `sysctl -w fs.nr_open` is lost on reboot, and systemd-sysctl then applies
sysctl.d (sysctl.d(5)) on top of the kernel default 1048576 (fs/file.c). An entry that a later
entry of the same domain replaces (limits.conf, then limits.d/*.conf in order; the last entry of
the same priority wins per side, pam_limits.c parse_config_file()/process_limit()) never applies
and is not judged; the message names it.
""",
    remediation="""
Edit the named line to a value <= fs.nr_open (sysctl fs.nr_open), e.g. 'root - nofile 65536',
or raise fs.nr_open persistently in /etc/sysctl.d/ before raising the limit.
""",
    fix="""\
# pam_limits refuses the whole login when a nofile value exceeds fs.nr_open:
sysctl -n fs.nr_open
# edit the line named above to a value at most that, e.g. '{ssh_user} - nofile {nofile}':
grep -rn nofile /etc/security/limits.conf /etc/security/limits.d/""",
)
def limits_lockout(ctx: CheckContext) -> Outcome:
    files, problems = hf.limits_files(ctx)
    if problems:
        raise CheckError("; ".join(problems))
    nr = hf.nr_open(ctx)
    boot = hf.boot_nr_open(ctx)
    seen, above, saturated, shadowed = 0, [], [], []
    every = entries(files)
    for e in every:
        parsed = nofile_value(e)
        if parsed is None:
            continue
        later = shadowed_by(every, e)
        if later:  # replaced for every user it names: pam_limits never applies it
            shadowed.append(f"{e.where} '{e.text()}' (replaced by "
                            f"{', '.join(f'{w.where} {w.text()!r}' for w in later)})")
            continue
        seen += 1
        value, infinite = parsed
        if becomes_nr_open(value):  # pam_limits reads fs.nr_open at login: always fits
            if not infinite:
                saturated.append(e.where)
            continue
        hard = e.type != b"soft"
        if value > nr:
            effect = ("the kernel refuses it (EPERM): the limit never applies and every login "
                      "logs \"Could not set limit for 'nofile'\"" if hard else
                      "it is lowered to the hard limit at login, so it never applies")
            above.append(f"{e.where}: '{e.text()}' — {show_rlimit(value)} > fs.nr_open {nr}; "
                         f"{effect}")
        elif value > boot.value:
            effect = ("the kernel refuses it (EPERM) and every login logs \"Could not set "
                      "limit for 'nofile'\"" if hard else
                      "it is lowered to the hard limit at login")
            above.append(f"{e.where}: '{e.text()}' — {value} fits the runtime fs.nr_open {nr} "
                         f"(/proc/sys/fs/nr_open) but is above fs.nr_open after the next boot, "
                         f"{boot}: the runtime value is not persisted, and after a reboot "
                         f"{effect}")
    observed = (f"{seen} nofile entries; fs.nr_open {nr} (runtime), {boot.value} (after the "
                "next boot)")
    expected = "every nofile value <= fs.nr_open at runtime and after the next boot"
    source = (", ".join(sorted(files)) + f", /proc/sys/fs/nr_open; fs.nr_open at boot: "
              f"{boot.where}")
    info = ("; not applied, so not judged: " + "; ".join(shadowed)) if shadowed else ""
    if above:
        return failed("; ".join(above) + info, observed=observed, expected=expected,
                      source=source)
    note = (f"; {', '.join(saturated)}: the value saturates strtoull (ERANGE), so pam_limits "
            "sets nofile to fs.nr_open, like 'unlimited'" if saturated else "") + info
    return passed(f"all {seen} nofile entries are <= fs.nr_open {nr} now and {boot} after the "
                  f"next boot{note}", observed=observed, expected=expected, source=source)


@control(
    "JADA-LIM-03",
    title="The unit's LimitNPROC and TasksMax leave room for agent processes",
    severity="medium",
    side="host",
    rationale="""
Each agent is a process tree. TasksMax= caps tasks (threads included) in the unit's cgroup
(systemd.resource-control(5), pids controller); LimitNPROC= is RLIMIT_NPROC, counted over all
processes of the service user's real uid system-wide (systemd.exec(5), setrlimit(2)). Either one
makes fork()/clone() fail with EAGAIN.
""",
    remediation="""
systemctl edit jada-agent.service  ->  [Service] LimitNPROC=4096 and TasksMax=4096 (or infinity)
""",
    fix=dropin("60-tasks.conf", "LimitNPROC={tasks}\nTasksMax={tasks}"),
)
def unit_tasks(ctx: CheckContext) -> Outcome:
    minimum = int(ctx.expect["tasks_min"])
    props = hf.unit_props(ctx)
    values = {}
    for name in ("LimitNPROCSoft", "LimitNPROC", "TasksMax"):
        raw = hf.prop(props, name)
        value = parse_rlimit(raw)
        if value is None:
            raise CheckError(f"unit property {name}={raw!r} is not a number or infinity")
        values[name] = value
    effective = hf.main_limits(ctx).get("Max processes")
    observed = ", ".join(f"{k}={show_rlimit(v)}" for k, v in values.items())
    if effective is not None:
        observed += f"; MainPID 'Max processes' {effective}"
    low = [f"{k}={show_rlimit(v)} < {minimum}" for k, v in values.items()
           if v != RLIM_INFINITY and v < minimum]
    if effective is not None and effective.soft < minimum:
        low.append(f"MainPID 'Max processes' soft {show_rlimit(effective.soft)} < {minimum}")
    expected = f">= {minimum} (or infinity)"
    source = "systemctl show LimitNPROC, LimitNPROCSoft, TasksMax; /proc/MainPID/limits"
    if low:
        return failed("the unit leaves too little room for processes: " + "; ".join(low),
                      observed=observed, expected=expected, source=source)
    return passed(f"{observed} all >= {minimum}", observed=observed, expected=expected,
                  source=source)
