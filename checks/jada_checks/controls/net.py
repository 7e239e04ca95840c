"""JADA-NET: listen backlogs — runtime sysctls, their persistence, the sockets themselves."""

from __future__ import annotations

from jada_checks.context import CheckContext
from jada_checks.facts import host_facts as hf
from jada_checks.facts.listeners import register as register_listeners
from jada_checks.facts.listeners import unit_listeners
from jada_checks.facts.probes import probe
from jada_checks.model import CheckError, Outcome, control, failed, passed, skipped
from jada_checks.parsers.boot_sysctl import before_sysctl_d
from jada_checks.parsers.ss import Listener
from jada_checks.parsers.sysctl import resolve
from jada_checks.remediation import SYSCTL_DROPIN

probe("hc_sysctl_runtime", hf.SYSCTL_RUNTIME)
probe("hc_sysctl_files", hf.SYSCTL_FILES)
register_listeners()
probe("hc_boot_facts", hf.BOOT_FACTS)

SOMAXCONN, SYN_BACKLOG = "net/core/somaxconn", "net/ipv4/tcp_max_syn_backlog"


def dotted(key: str) -> str:
    return key.replace("/", ".")


def runtime_int(ctx: CheckContext, key: str) -> tuple[int, str]:
    """The value that applies to the service's sockets (its netns), and where it was read."""
    values, own_ns = hf.runtime_values(ctx, service=True)
    scope = "service" if own_ns else "host"
    where = f"/proc/sys/{key}" + (" in the service's network namespace" if own_ns else "")
    return hf.sysctl_int(values.get((scope, key)), key, where), where


def _minimum_check(ctx: CheckContext, key: str, minimum: int, effect: str) -> Outcome:
    value, where = runtime_int(ctx, key)
    name = dotted(key)
    observed, expected = f"{name} = {value}", f"{name} >= {minimum}"
    if value < minimum:
        return failed(f"{name} is {value} < {minimum} (runtime, {where}): {effect}",
                      observed=observed, expected=expected, source=where)
    return passed(f"{name} is {value} >= {minimum} ({where})", observed=observed,
                  expected=expected, source=where)


@control(
    "JADA-NET-01",
    title="net.core.somaxconn admits the orchestrator's listen backlog",
    severity="high",
    side="host",
    rationale="""
listen() silently caps the requested backlog at net.core.somaxconn of the socket's network
namespace (__sys_listen(), net/socket.c; listen(2), NOTES). A burst of agent connections beyond
the accept queue is dropped or retried with SYN backoff (tcp(7)).
""",
    remediation="""
echo 'net.core.somaxconn = 8192' > /etc/sysctl.d/60-jada.conf
sysctl -p /etc/sysctl.d/60-jada.conf, then restart the service so its sockets listen() again.
""",
    fix=SYSCTL_DROPIN,
)
def somaxconn(ctx: CheckContext) -> Outcome:
    return _minimum_check(ctx, SOMAXCONN, int(ctx.expect["somaxconn_min"]),
                          "every listen() backlog is capped to it")


@control(
    "JADA-NET-02",
    title="Listen-queue sysctls persist: boot-time value equals the runtime value",
    severity="medium",
    side="host",
    rationale="""
A value set with `sysctl -w` lasts until reboot. At boot systemd-sysctl applies sysctl.d files
from /etc, /run, /usr/local/lib and /usr/lib (a same-named file in an earlier directory hides the
later; files apply in name order across directories; the last assignment wins), sysctl.d(5) and
src/sysctl/sysctl.c (systemd 252). /etc/sysctl.conf is read only through Debian/Ubuntu's
/etc/sysctl.d/99-sysctl.conf symlink. The boot value is computed here with those rules. A key no
sysctl.d file sets gets `sysctl.KEY=` from the kernel command line (Linux 5.8+, applied before
init; kernel-parameters.txt; initial namespaces only, so not inside a container), else the
kernel default: net.core.somaxconn SOMAXCONN = 4096 since Linux 5.4 (include/linux/socket.h),
tcp_max_syn_backlog max(128, TCP ehash buckets / 128) (tcp_sk_init(), net/ipv4/tcp_ipv4.c;
buckets from /proc/sys/net/ipv4/tcp_ehash_entries, Linux 6.1+). A runtime value equal to that
is what a boot gives: nothing is lost.
""",
    remediation="""
Persist the runtime value: echo 'net.core.somaxconn = <value>' > /etc/sysctl.d/60-jada.conf
(and net.ipv4.tcp_max_syn_backlog); verify with /lib/systemd/systemd-sysctl --cat-config
""",
    fix=SYSCTL_DROPIN + """
# what boot will apply, file by file:
/lib/systemd/systemd-sysctl --cat-config | grep -E 'somaxconn|syn_backlog'""",
)
def sysctl_persist(ctx: CheckContext) -> Outcome:
    listing, contents = hf.sysctl_listing(ctx)
    res = resolve(listing, contents)
    if res.unreadable:
        raise CheckError(f"cannot read {', '.join(res.unreadable)}: the boot value is unknown")
    values, _ = hf.runtime_values(ctx)
    facts = hf.boot_facts(ctx)
    problems, observed = [], []
    for key in (SOMAXCONN, SYN_BACKLOG):
        name = dotted(key)
        runtime = hf.sysctl_int(values.get(("host", key)), key, f"/proc/sys/{key}")
        boot = res.boot_value(key)
        if boot is None:
            base = before_sysctl_d(key, facts)
            if base.value is None:
                raise CheckError(f"{name} is not set in any sysctl.d file and its value at "
                                 f"boot is unknown: {base.where}")
            observed.append(f"{name}: runtime {runtime}, boot {base.value} (not in sysctl.d: "
                            f"{base.where})")
            if base.value != runtime:
                problems.append(f"{name} is {runtime} at runtime but not set in any sysctl.d "
                                f"file: lost on reboot, which gives {base}")
            continue
        assert boot.value is not None
        boot_n = hf.sysctl_int(boot.value, key, boot.where)  # the kernel refuses others
        observed.append(f"{name}: runtime {runtime}, boot {boot_n} ({boot.where})")
        if boot_n != runtime:
            problems.append(f"{name} is {runtime} at runtime but {boot_n} after reboot "
                            f"({boot.where}): the runtime value is lost on reboot")
    expected = ("boot value (sysctl.d, else kernel command line, else kernel default) == "
                "runtime value")
    source = ("/proc/sys (host netns); " + (", ".join(res.files) or "no sysctl.d files")
              + "; /proc/cmdline sysctl.*; /proc/sys/kernel/osrelease; "
              "/proc/sys/net/ipv4/tcp_ehash_entries")
    if problems:
        return failed("; ".join(problems), observed="; ".join(observed), expected=expected,
                      source=source)
    return passed("; ".join(observed), observed="; ".join(observed), expected=expected,
                  source=source)


@control(
    "JADA-NET-03",
    title="net.ipv4.tcp_max_syn_backlog holds connection bursts",
    severity="medium",
    side="host",
    rationale="""
net.ipv4.tcp_max_syn_backlog bounds half-open connections (SYN received, not yet ACKed) per
listener; beyond it, without syncookies, new SYNs are dropped (tcp(7), ip-sysctl.rst).
""",
    remediation="""
echo 'net.ipv4.tcp_max_syn_backlog = 8192' >> /etc/sysctl.d/60-jada.conf && sysctl --system
""",
    fix=SYSCTL_DROPIN,
)
def syn_backlog(ctx: CheckContext) -> Outcome:
    return _minimum_check(ctx, SYN_BACKLOG, int(ctx.expect["tcp_max_syn_backlog_min"]),
                          "connection bursts overflow the SYN queue")


@control(
    "JADA-NET-04",
    title="The orchestrator's listening sockets really have the backlog they need",
    severity="high",
    side="host",
    rationale="""
For a LISTEN socket, ss(8) shows the granted backlog (sk_max_ack_backlog) as Send-Q and the
current accept queue as Recv-Q (tcp_diag_get_info(), net/ipv4/tcp_diag.c). That is min(the
backlog passed to listen(), net.core.somaxconn at the time of listen()) (net/socket.c), so
raising somaxconn needs a service restart to take effect. The unit's processes are those of every
cgroup of its subtree (child cgroups made under Delegate= included, systemd.resource-control(5)).
""",
    remediation="""
Start the agent with a larger backlog (e.g. --backlog 8192) and make sure net.core.somaxconn is
at least as large, then: systemctl restart jada-agent.service; check: ss -lntp
""",
    fix="""\
# start the agent with a larger listen backlog (e.g. --backlog {backlog});
# net.core.somaxconn caps it, so it must be at least as large:
sysctl -n net.core.somaxconn
systemctl restart {unit}
ss -lntp""",
)
def listen_backlog(ctx: CheckContext) -> Outcome:
    minimum = int(ctx.expect["listen_backlog_min"])
    mine, pids, how, tree = unit_listeners(ctx)
    source = (f"ss -H -l -n -t -p (Send-Q of LISTEN sockets), filtered by the pids of the "
              f"unit's {len(pids)} processes ({how})")
    expected = f"Send-Q (backlog) >= {minimum}"
    if not mine:
        return skipped(f"the unit's {len(pids)} processes have no listening TCP sockets",
                       observed="none", expected=expected, source=source)

    def owner(s: Listener) -> str:
        mine_pids = sorted(set(s.pids) & pids)
        where = "".join(sorted({hf.in_cgroup(tree, p) for p in mine_pids}))
        return f"{s.process}, pid {','.join(map(str, mine_pids))}{where}"

    observed = "; ".join(f"{s.local} backlog {s.send_q} ({s.process})" for s in mine)
    low = [s for s in mine if s.send_q < minimum]
    if low:
        return failed("; ".join(f"{s.local} ({owner(s)}) has backlog {s.send_q} < {minimum} "
                                "(Send-Q in ss)" for s in low),
                      observed=observed, expected=expected, source=source)
    detail = "; ".join(f"{s.local} backlog {s.send_q}, {s.recv_q} queued ({owner(s)})"
                       for s in mine)
    return passed(f"{len(mine)} listening sockets with backlog >= {minimum}: {detail}",
                  observed=observed, expected=expected, source=source)
