"""JADA-FD: open file descriptors — what the kernel applies to the orchestrator."""

from __future__ import annotations

from jada_checks.context import CheckContext
from jada_checks.facts import host_facts as hf
from jada_checks.facts.probes import probe, unit_properties
from jada_checks.model import CheckError, Outcome, control, failed, passed
from jada_checks.parsers.nr_open import BootNrOpen
from jada_checks.parsers.numbers import U64_MAX, shown
from jada_checks.parsers.proc import (
    RLIM_INFINITY,
    FileNr,
    parse_file_nr,
    parse_rlimit,
    show_rlimit,
)
from jada_checks.parsers.unitlimits import NofileConfig, Setting, parse_nofile_lines
from jada_checks.remediation import dropin

probe("hc_main_limits", hf.MAIN_LIMITS)
probe("hc_unit_procs", hf.UNIT_PROCS)
probe("hc_sysctl_runtime", hf.SYSCTL_RUNTIME)
probe("hc_sysctl_files", hf.SYSCTL_FILES)
probe("hc_nofile_lines", hf.NOFILE_LINES)
probe("hc_boot_facts", hf.BOOT_FACTS)
unit_properties("LimitNOFILE", "LimitNOFILESoft")

SYSTEMD_DEFAULT = "systemd's built-in default (soft 1024, hard 524288 capped at fs.nr_open)"


def nofile_config(ctx: CheckContext) -> NofileConfig:
    cfg = parse_nofile_lines(hf.section(ctx, "hc_nofile_lines").out)
    if cfg.malformed:
        raise CheckError(f"cannot parse the LimitNOFILE= lines: {cfg.malformed[0]!r} is not "
                         "'LINE <unit|manager> <path> <line number>:<text>'")
    return cfg


def configured_origin(cfg: NofileConfig) -> str:
    """Where the unit's LimitNOFILE comes from, as a file:line or the default."""
    unit = cfg.unit_effective()
    if unit:
        return f"{unit.text} at {unit.where}"
    manager = cfg.manager_effective()
    if manager:
        return f"no LimitNOFILE in the unit; {manager.text} at {manager.where}"
    return f"no LimitNOFILE in the unit: {SYSTEMD_DEFAULT}"


@control(
    "JADA-FD-01",
    title="The orchestrator's process really has the open-file limit it needs",
    severity="high",
    side="host",
    rationale="""
A service gets its open-file limit from LimitNOFILE= or DefaultLimitNOFILE= (systemd.exec(5),
systemd-system.conf(5); since systemd 240 the default is soft 1024, hard 524288), never from
/etc/security/limits.conf, which pam_limits applies only to PAM sessions (pam_limits(8)). systemd
lowers a LimitNOFILE it cannot set to the closest possible value (setrlimit_closest(),
src/basic/rlimit-util.c), silently. What counts is /proc/<MainPID>/limits (proc(5)).
""",
    remediation="""
systemctl edit jada-agent.service  ->  [Service] LimitNOFILE=65536:65536
then: systemctl restart jada-agent.service; grep 'open files' /proc/$(systemctl show -p MainPID
--value jada-agent.service)/limits
""",
    fix=dropin("60-nofile.conf", "LimitNOFILE={nofile}:{nofile}") + """
grep 'open files' "/proc/$(systemctl show -p MainPID --value {unit})/limits\"""",
)
def nofile_effective(ctx: CheckContext) -> Outcome:
    minimum = int(ctx.expect["nofile_min"])
    limits = hf.main_limits(ctx)
    pair = limits.get("Max open files")
    if pair is None:
        raise CheckError("no 'Max open files' row in /proc/MainPID/limits")
    props = hf.unit_props(ctx)
    pid = hf.prop(props, "MainPID")
    cfg = nofile_config(ctx)
    conf_soft = props.get("LimitNOFILESoft", "?")
    conf_hard = props.get("LimitNOFILE", "?")
    configured = f"LimitNOFILE={conf_soft}:{conf_hard} ({configured_origin(cfg)})"
    notes = []
    for want, got, side in ((conf_soft, pair.soft, "soft"), (conf_hard, pair.hard, "hard")):
        want_n = parse_rlimit(want)  # only annotates: the decision is /proc's
        if want_n is not None and want_n > got:
            notes.append(f"{side} clamped from {show_rlimit(want_n)} to {show_rlimit(got)}")
    observed = f"{pair} (soft:hard)"
    expected = f">= {minimum}:{minimum}"
    source = f"/proc/{pid}/limits 'Max open files'; configured {configured}"
    tail = f"; configured {configured}" + (f"; {', '.join(notes)}" if notes else "")
    low = [f"{side} {value} < {minimum}" for side, value in (("soft", pair.soft),
                                                            ("hard", pair.hard))
           if value < minimum]
    if low:
        return failed(f"MainPID {pid} can open too few files: {' and '.join(low)} "
                      f"(from /proc/{pid}/limits){tail}",
                      observed=observed, expected=expected, source=source)
    if cfg.unit_effective() is None:
        tail += " — the unit relies on a default; set LimitNOFILE= in the unit"
    return passed(f"MainPID {pid} has open-file limit {pair} >= {minimum}{tail}",
                  observed=observed, expected=expected, source=source)


@control(
    "JADA-FD-02",
    title="The orchestrator's processes have descriptor headroom",
    severity="high",
    side="host",
    rationale="""
A process that reaches its soft RLIMIT_NOFILE gets EMFILE ("Too many open files") from every
open(), socket() and accept() (open(2), errors; getrlimit(2), RLIMIT_NOFILE). Counts the entries
of /proc/<pid>/fd (proc(5)) of every process of the unit against that process's own soft limit
from /proc/<pid>/limits. cgroup.procs lists one cgroup's processes only, so every cgroup of the
unit's subtree is read: with Delegate= a service may move processes into child cgroups, and
DelegateSubgroup= starts the main process in one (systemd.resource-control(5); cgroup-v2.rst).
A cgroup that cannot be read is an error; without a cgroup, MainPID's descendants are counted.
""",
    remediation="""
Raise the unit's limit (systemctl edit jada-agent.service -> [Service] LimitNOFILE=65536) or find
the leak: ls -l /proc/<pid>/fd | awk '{print $NF}' | sort | uniq -c | sort -rn | head
""",
    fix="""\
# raise the unit's limit (JADA-FD-01's fix) or find the leak: descriptors by target
pid=$(systemctl show -p MainPID --value {unit})
ls -l "/proc/$pid/fd" | awk '{print $NF}' | sort | uniq -c | sort -rn | head""",
)
def fd_headroom(ctx: CheckContext) -> Outcome:
    threshold = float(ctx.expect["thresholds"]["fd_usage_max_percent"])
    how, procs, tree = hf.unit_processes(ctx)
    unreadable = [p for p in procs if p.open_fds is None or p.soft is None]
    if unreadable:
        names = ", ".join(f"{p.pid} ({p.comm})" for p in unreadable[:5])
        raise CheckError(f"/proc/<pid>/fd or limits unreadable for {names} "
                         "(run as root or with ssh.sudo)")
    rows = []
    for p in procs:
        assert p.open_fds is not None and p.soft is not None
        pct = 100.0 * p.open_fds / p.soft if p.soft else 100.0
        rows.append((pct, p))
    rows.sort(key=lambda r: -r[0])
    over = [(pct, p) for pct, p in rows if pct > threshold]
    # rounded, without pids: an unchanged host must render the same twice (drift reports)
    observed = "; ".join(f"{p.comm} {pct:.0f}% of {show_rlimit(p.soft)}"
                         for pct, p in rows[:5])
    expected = f"<= {threshold:g}% of each process's soft nofile"
    source = f"/proc/<pid>/fd and /proc/<pid>/limits of {len(procs)} processes ({how})"
    if over:
        worst = "; ".join(f"pid {p.pid} ({p.comm}){hf.in_cgroup(tree, p.pid)} has "
                          f"{p.open_fds} of {show_rlimit(p.soft)} descriptors open "
                          f"({pct:.1f}% > {threshold:g}%)" for pct, p in over)
        return failed(worst, observed=observed, expected=expected, source=source)
    pct, top = rows[0]
    return passed(f"{len(procs)} processes ({how}) within {threshold:g}%; highest pid "
                  f"{top.pid} ({top.comm}){hf.in_cgroup(tree, top.pid)} "
                  f"{top.open_fds}/{show_rlimit(top.soft)} ({pct:.1f}%)",
                  observed=observed, expected=expected, source=source)


@control(
    "JADA-FD-03",
    title="System-wide descriptor capacity: file-max headroom, nothing configured above nr_open",
    severity="high",
    side="host",
    rationale="""
fs.file-nr's first field counts allocated file handles system-wide; at fs.file-max every open()
fails with ENFILE (proc_sys_fs(5)). The kernel refuses a nofile hard limit above fs.nr_open with
EPERM (do_prlimit(), kernel/sys.c; nr_open itself is capped at sysctl_nr_open_max = 2147483584 on
64-bit, fs/file.c), and systemd then silently applies the closest value it can
(setrlimit_closest(), src/basic/rlimit-util.c). Checks the unit's LimitNOFILE= and every
DefaultLimitNOFILE= against fs.nr_open now and after the next boot: a `sysctl -w fs.nr_open` is
lost on reboot, and systemd-sysctl then applies sysctl.d (sysctl.d(5)) on top of the kernel
default 1048576 (fs/file.c; Debian's PID 1 does not raise it), or `sysctl.fs.nr_open=` of the
kernel command line (Linux 5.8+). Only lines that apply are judged: the last valid LimitNOFILE= of
the unit file and its drop-ins, read in file-name order across /etc, /run and /usr/lib with a
name in an earlier directory hiding the same name in a later one (systemd.unit(5), "Drop-in
files"; systemd 252), and the last valid DefaultLimitNOFILE= of system.conf and system.conf.d
(systemd-system.conf(5)); an overridden line is named as such. limits.conf values are JADA-LIM-02's.
""",
    remediation="""
Lower the value to at most fs.nr_open (sysctl fs.nr_open), or raise fs.nr_open persistently:
echo 'fs.nr_open = 2097152' > /etc/sysctl.d/60-nr-open.conf && sysctl --system
""",
    fix="""\
# a limit above fs.nr_open cannot be applied: lower the limit named above to at most
sysctl -n fs.nr_open
# or raise fs.nr_open persistently (its own drop-in) before raising the limit:
cat > /etc/sysctl.d/60-nr-open.conf <<'EOF'
fs.nr_open = 2097152
EOF
sysctl -p /etc/sysctl.d/60-nr-open.conf""",
)
def fd_system(ctx: CheckContext) -> Outcome:
    threshold = float(ctx.expect["thresholds"]["fd_usage_max_percent"])
    values, _ = hf.runtime_values(ctx)
    nr = hf.nr_open(ctx)
    file_nr = _file_nr(values.get(("host", "fs/file-nr")))
    props = hf.unit_props(ctx)
    cfg = _readable_nofile_config(ctx)
    checked = _configured_nofile(cfg, props)
    boot = hf.boot_nr_open(ctx)
    used = 100.0 * file_nr.allocated / file_nr.max if file_nr.max else 100.0
    # the system-wide count moves all the time: observed says which side of the threshold
    observed = (f"file handles {'<=' if used <= threshold else '>'} {threshold:g}% of "
                f"fs.file-max; fs.nr_open {nr} (runtime), {boot.value} (after the next boot); "
                f"highest configured nofile {max((v for _, v, _ in checked), default='none')}")
    expected = (f"allocated <= {threshold:g}% of file-max; every configured nofile <= "
                "fs.nr_open at runtime and after the next boot")
    source = ("/proc/sys/fs/file-nr, /proc/sys/fs/nr_open, unit files, system.conf(.d); "
              f"fs.nr_open at boot: {boot.where}")
    problems = []
    if used > threshold:
        problems.append(f"{file_nr.allocated} of {file_nr.max} system-wide file handles in use "
                        f"({used:.1f}% > {threshold:g}%, /proc/sys/fs/file-nr)")
    problems += _nr_open_problems(checked, nr, boot)
    info = _overridden_note(cfg)
    if problems:
        return failed("; ".join(problems) + info, observed=observed, expected=expected,
                      source=source)
    return passed(f"{file_nr.allocated} of fs.file-max {file_nr.max} file handles in use "
                  f"({used:.2f}%); {len(checked)} configured nofile values all <= fs.nr_open "
                  f"{nr} now and {boot} after the next boot{info}",
                  observed=observed, expected=expected, source=source)


def _file_nr(raw_nr: str | None) -> FileNr:
    """fs.file-nr parsed; an unreadable or garbled value is an error, never a pass."""
    file_nr = parse_file_nr(raw_nr or "")
    if file_nr is None:
        raise CheckError("fs.file-nr could not be read from /proc/sys/fs/file-nr" + (
            f": {shown(raw_nr)} is not three whole numbers 0..{U64_MAX}" if raw_nr else ""))
    return file_nr


def _readable_nofile_config(ctx: CheckContext) -> NofileConfig:
    """The LimitNOFILE= lines; a file that cannot be read would hide a limit, so it is an error."""
    cfg = nofile_config(ctx)
    if cfg.unreadable:
        raise CheckError(f"cannot read {', '.join(cfg.unreadable)} (run as root or with sudo)")
    return cfg


def _configured_nofile(cfg: NofileConfig, props: dict[str, str]) -> list[tuple[str, int, str]]:
    """Every finite nofile value that applies, as (what, value, where), to judge against nr_open.

    Only the line that applies: the last valid LimitNOFILE= of the unit (fragment, then
    drop-ins in order) and the last valid DefaultLimitNOFILE= of the manager
    (system.conf, then system.conf.d); an earlier one is overridden, never set.
    """
    checked: list[tuple[str, int, str]] = []  # (what, value, where)
    for s in _applied(cfg):
        for v in sorted({x for x in (s.soft, s.hard) if x is not None} - {RLIM_INFINITY}):
            checked.append((s.text, v, s.where))
    _add_unit_property(checked, props.get("LimitNOFILE"))
    return checked


def _add_unit_property(checked: list[tuple[str, int, str]], hard: str | None) -> None:
    """Adds the unit's LimitNOFILE property when no line explains it: it was set some other way.

    A value systemctl shows but that does not parse is an error, never skipped.
    """
    hard_n = None if hard is None else parse_rlimit(hard)
    if hard is not None and hard_n is None:
        raise CheckError(f"unit property LimitNOFILE is {shown(hard)}: expected a whole number "
                         f"0..{RLIM_INFINITY} or infinity (systemctl show LimitNOFILE)")
    if hard_n is not None and hard_n != RLIM_INFINITY and all(v != hard_n for _, v, _ in checked):
        # set some other way (systemctl set-property, transient unit, default)
        checked.append((f"LimitNOFILE={hard}", hard_n, "systemctl show LimitNOFILE"))


def _applied(cfg: NofileConfig) -> list[Setting]:
    """The unit's and the manager's effective lines, those that exist."""
    return [s for s in (cfg.unit_effective(), cfg.manager_effective()) if s is not None]


def _nr_open_problems(checked: list[tuple[str, int, str]], nr: int,
                      boot: BootNrOpen) -> list[str]:
    """Configured values the kernel refuses now, or will refuse after the next boot."""
    problems = []
    for what, v, where in checked:
        if v > nr:
            problems.append(f"{what} at {where}: {v} is above fs.nr_open {nr}; the kernel "
                            "refuses it and systemd silently applies a lower value")
        elif v > boot.value:
            problems.append(f"{what} at {where}: {v} fits the runtime fs.nr_open {nr} "
                            f"(/proc/sys/fs/nr_open) but is above fs.nr_open after the next "
                            f"boot, {boot}: the runtime value is not persisted, and after a "
                            "reboot the kernel refuses the limit and systemd silently applies "
                            "a lower value")
    return problems


def _overridden_note(cfg: NofileConfig) -> str:
    """Names the earlier lines that were replaced, so nobody mistakes them for judged ones."""
    applied = _applied(cfg)
    shadowed = [s for s in cfg.unit + cfg.manager if s.valid and s not in applied]
    if not shadowed:
        return ""
    return "; overridden, so not judged: " + "; ".join(
        f"{s.text} at {s.where} (replaced by {_winner(cfg, s).where})" for s in shadowed)


def _winner(cfg: NofileConfig, s: Setting) -> Setting:
    """The line that overrides ``s``: the applied one of the same scope."""
    won = cfg.unit_effective() if s in cfg.unit else cfg.manager_effective()
    assert won is not None
    return won
