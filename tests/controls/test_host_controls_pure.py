"""Host controls as pure functions of facts: pass, fail, and never pass on bad facts."""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jada_checks.controls import catalogue
from jada_checks.facts.host import HostFacts, Section
from jada_checks.facts.probes import PROBES
from jada_checks.model import REGISTRY, CheckError, Outcome

# Every host control but the CFG ones (their facts are settings files and processes:
# tests/controls/test_cfg_controls.py), from the registry: a new one joins by itself, and
# test_failures_name_values_and_sources then asks for its fault case.
MINE = [c.id for c in catalogue() if c.side == "host" and c.area != "cfg"]
EXPECT = {"unit": "jada-agent.service", "nofile_min": 16384, "nproc_min": 4096,
          "tasks_min": 512, "somaxconn_min": 4096, "tcp_max_syn_backlog_min": 4096,
          "listen_backlog_min": 4096,
          "thresholds": {"max_restarts": 3, "fd_usage_max_percent": 80,
                         "journal_window_minutes": 60, "exposure_max": 9.6}}


def b64(text: str | bytes) -> str:
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def dump(path: str, data: str) -> str:
    return f"F {b64(path)} ok {b64(data)}\n"


UNIT_CG = "/system.slice/jada-agent.service"
LIMITS = ("Limit                     Soft Limit           Hard Limit           Units     \n"
          "Max processes             4096                 4096                 processes \n"
          "Max open files            16384                16384                files     \n")
SHOW = ("Id=jada-agent.service\nMainPID=35\nUser=jada\nLoadState=loaded\nActiveState=active\n"
        "SubState=running\nUnitFileState=enabled\nRestart=on-failure\n"
        "NRestarts=0\nExecMainStartTimestamp=Wed 2026-11-25 18:43:30 UTC\n"
        "ExecMainStartTimestampMonotonic=5000000\nDynamicUser=no\nStandardInput=null\n"
        "StandardOutput=journal\nStandardError=inherit\nLimitNOFILE=16384\n"
        "LimitNOFILESoft=16384\nLimitNPROC=4096\nLimitNPROCSoft=4096\nTasksMax=4096\n")
GOOD = {
    "unit_show": SHOW,
    "hc_main_limits": LIMITS,
    "hc_main_status": "Name:\tpython3\nUid:\t990\t990\t990\t990\n",
    "hc_uptime": "65.00 100.00\n",
    "hc_unit_procs": (f"source cgroup {UNIT_CG}\nhierarchy /sys/fs/cgroup\n"
                      f"G {b64(UNIT_CG)} 35 40\nP 35 70 16384 python3\nP 40 5 16384 claude\n"),
    "hc_sysctl_runtime": "V host fs/nr_open 1048576\nV host fs/file-max 9223372036854775807\n"
                         "V host fs/file-nr 800\t0\t9223372036854775807\n"
                         "V host net/core/somaxconn 8192\nV host net/ipv4/tcp_max_syn_backlog "
                         "8192\nNS host net:[1]\nNS service net:[1]\n",
    "hc_sysctl_files": (f"D {b64('/etc/sysctl.d')}\n"
                        + dump("/etc/sysctl.d/60-jada.conf", "net.core.somaxconn = 8192\r\n"
                               "net.ipv4.tcp_max_syn_backlog = 8192\n")
                        + f"D {b64('/usr/lib/sysctl.d')}\n"),
    "hc_limits_files": (dump("/etc/security/limits.conf", "# nothing\n")
                        + dump("/etc/security/limits.d/60-jada.conf",
                               "root - nofile 16384\nroot - nproc 8192\n")),
    "hc_session": ("user root\nuid 0\ngid 0\ngids 0\ngroups root\nsudo \nnofile 16384 16384\n"
                   "nproc 8192 8192\nos ID=debian\n"),
    "hc_nofile_lines": ("FILE unit /etc/systemd/system/jada-agent.service\n"
                        "LINE unit /etc/systemd/system/jada-agent.service 13:LimitNOFILE=16384\n"),
    "hc_journal": "now 1700000000\naccess full\nlast 1699999990.1\n",
    "hc_analyze": "-> Overall exposure level for jada-agent.service: 9.2 UNSAFE :-{\n",
    "hc_listen": 'LISTEN 0 8192 0.0.0.0:7070 0.0.0.0:* users:(("python3",pid=35,fd=3))\n',
    "hc_unit_uids": ("U 35 990 990 jada python3\nU 35 990 990 jada python3\n"
                     "U 40 990 990 jada claude\n"),
    "hc_boot_facts": "release 6.1.0-28-amd64\ncmdline \ncontainer none\nehash 262144\n",
    "hc_boot_route": ("default graphical.target\nP multi-user.target\nT jada-agent.service\n"
                      "T * `-multi-user.target\nT *   `-graphical.target\n"
                      f"L {b64('multi-user.target')} "
                      f"{b64('/etc/systemd/system/multi-user.target.wants/jada-agent.service')}\n"),
}


@dataclass
class FakeCtx:
    expect: dict[str, Any]
    host: HostFacts


def ctx(overrides: dict[str, str | None] | None = None, rc: dict[str, int] | None = None,
        **expect: Any) -> FakeCtx:
    facts = dict(GOOD, **(overrides or {}))
    sections = {n: Section(n, (rc or {}).get(n, 0), out, "boom" if (rc or {}).get(n) else "")
                for n, out in facts.items() if out is not None}
    return FakeCtx(dict(EXPECT, **expect), HostFacts(sections))


def evaluate(control: str, c: FakeCtx) -> Outcome:
    try:
        return REGISTRY[control].check(c)  # type: ignore[arg-type]
    except CheckError as exc:
        return Outcome("error", str(exc))


@pytest.mark.parametrize("control", MINE)
def test_good_facts_pass(control: str) -> None:
    out = evaluate(control, ctx())
    assert out.status == "pass", out
    assert out.observed and out.expected and out.source


@pytest.mark.parametrize("control", MINE)
def test_missing_or_failed_facts_error(control: str) -> None:
    for name in GOOD:
        out = evaluate(control, ctx({name: None}))
        assert out.status != "pass" or name not in _needs(control), (name, out)
        out = evaluate(control, ctx(rc={name: 2}))
        assert out.status != "pass" or name not in _needs(control), (name, out)


def _needs(control: str) -> set[str]:
    """Sections whose absence the control must notice (found by removing each one)."""
    needed = set()
    for name in GOOD:
        if evaluate(control, ctx({name: None})).status == "error":
            needed.add(name)
    return needed


def test_each_control_depends_on_facts() -> None:
    for control in MINE:
        assert _needs(control), control


PRIMARY = {"JADA-UNIT-02": "unit_show", "JADA-UNIT-03": "hc_main_status",
           "JADA-UNIT-04": "hc_journal", "JADA-UNIT-05": "hc_analyze",
           "JADA-FD-01": "hc_main_limits", "JADA-FD-02": "hc_unit_procs",
           "JADA-FD-03": "hc_sysctl_runtime", "JADA-LIM-01": "hc_session",
           "JADA-LIM-02": "hc_limits_files", "JADA-LIM-03": "unit_show",
           "JADA-NET-01": "hc_sysctl_runtime", "JADA-NET-02": "hc_sysctl_files",
           "JADA-NET-03": "hc_sysctl_runtime", "JADA-NET-04": "hc_listen"}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(GOOD)), st.text(max_size=300))
# Found by hypothesis in development runs; kept because CI replays no example database.
@example(name="hc_uptime", garbage="INFINITY")  # float() took it; int(inf): OverflowError
@example(name="hc_uptime", garbage="INF")
def test_garbage_facts_never_raise(name: str, garbage: str) -> None:
    for control in MINE:
        out = evaluate(control, ctx({name: garbage}))  # anything but CheckError propagates
        assert out.status in ("error", "fail", "pass", "skipped")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
@example(garbage="D ")  # a sysctl.d listing of directory '': NET-02 failed instead of erroring
def test_garbage_in_the_deciding_fact_is_an_error(garbage: str) -> None:
    for control, name in PRIMARY.items():
        out = evaluate(control, ctx({name: garbage}))
        if control == "JADA-NET-04" and not garbage.strip():
            assert out.status == "skipped"
        else:
            assert out.status == "error", (control, garbage, out)


def test_failures_name_values_and_sources() -> None:
    cases = {
        "JADA-UNIT-01": {"unit_show": SHOW.replace("ActiveState=active", "ActiveState=failed")},
        "JADA-UNIT-02": {"unit_show": SHOW.replace("Restart=on-failure", "Restart=no")},
        "JADA-UNIT-03": {"hc_main_status": "Uid:\t0\t0\t0\t0\n"},
        "JADA-UNIT-04": {"hc_journal": GOOD["hc_journal"] + "M 28333333 2\nL 1700000 x: "
                         "[Errno 24] Too many open files\n"},
        "JADA-UNIT-05": {"hc_analyze": "Overall exposure level for x.service: 9.7 UNSAFE\n"},
        "JADA-FD-01": {"hc_main_limits": LIMITS.replace("16384                16384",
                                                        "1024                 16384")},
        "JADA-FD-02": {"hc_unit_procs": "P 35 15000 16384 python3\n"},
        "JADA-FD-03": {"hc_nofile_lines": GOOD["hc_nofile_lines"] + "LINE manager "
                       "/etc/systemd/system.conf 5:DefaultLimitNOFILE=4096:2000000\n"},
        "JADA-LIM-01": {"hc_session": GOOD["hc_session"].replace("nofile 16384 16384",
                                                                 "nofile 1024 16384")},
        "JADA-LIM-02": {"hc_limits_files": GOOD["hc_limits_files"] + dump(
            "/etc/security/limits.d/70-x.conf", "@ops hard nofile 2000000\n")},
        "JADA-LIM-03": {"unit_show": SHOW.replace("TasksMax=4096", "TasksMax=64")},
        "JADA-NET-01": {"hc_sysctl_runtime": GOOD["hc_sysctl_runtime"].replace(
            "somaxconn 8192", "somaxconn 128")},
        "JADA-NET-02": {"hc_sysctl_runtime": GOOD["hc_sysctl_runtime"].replace(
            "somaxconn 8192", "somaxconn 16384")},
        "JADA-NET-03": {"hc_sysctl_runtime": GOOD["hc_sysctl_runtime"].replace(
            "backlog 8192", "backlog 128")},
        "JADA-NET-04": {"hc_listen": GOOD["hc_listen"].replace("8192", "128")},
    }
    assert sorted(cases) == MINE
    for control, facts in cases.items():
        out = evaluate(control, ctx(facts))
        assert out.status == "fail", (control, out)
        assert out.observed and out.expected and out.source, (control, out)
    msg = evaluate("JADA-NET-02", ctx(cases["JADA-NET-02"])).message
    assert "16384 at runtime but 8192 after reboot (/etc/sysctl.d/60-jada.conf:1)" in msg
    msg = evaluate("JADA-LIM-02", ctx(cases["JADA-LIM-02"])).message
    assert "/etc/security/limits.d/70-x.conf:1" in msg and "2000000 > fs.nr_open" in msg


def test_unlimited_nofile_is_not_above_nr_open() -> None:
    facts = {"hc_limits_files": GOOD["hc_limits_files"] + dump(
        "/etc/security/limits.d/70-x.conf", "* hard nofile unlimited\n")}
    assert evaluate("JADA-LIM-02", ctx(facts)).status == "pass"


def test_no_listeners_is_skipped_and_no_owner_is_error() -> None:
    assert evaluate("JADA-NET-04", ctx({"hc_listen": ""})).status == "skipped"
    anon = "LISTEN 0 8192 0.0.0.0:7070 0.0.0.0:*\n"
    assert evaluate("JADA-NET-04", ctx({"hc_listen": anon})).status == "error"


def test_journal_needs_access_and_counts_only_the_window() -> None:
    limited = GOOD["hc_journal"].replace("access full", "access limited")
    assert evaluate("JADA-UNIT-04", ctx({"hc_journal": limited})).status == "error"
    old = GOOD["hc_journal"] + "M 28330000 5\nL old line\n"  # ~55 h before "now"
    assert evaluate("JADA-UNIT-04", ctx({"hc_journal": old})).status == "pass"
    null = SHOW.replace("StandardOutput=journal", "StandardOutput=inherit")
    out = evaluate("JADA-UNIT-04", ctx({"unit_show": null}))
    assert out.status == "fail" and "StandardOutput goes to null" in out.message


def test_clamped_limit_is_reported() -> None:
    show = SHOW.replace("LimitNOFILE=16384\n", "LimitNOFILE=2000000\n")
    out = evaluate("JADA-FD-01", ctx({"unit_show": show}))
    assert out.status == "pass" and "hard clamped from 2000000 to 16384" in out.message


def test_probe_snippets_are_valid_bash() -> None:
    for p in PROBES.values():
        res = subprocess.run(["bash", "-n", "-c", p.snippet], capture_output=True, text=True)
        assert res.returncode == 0, (p.name, res.stderr)


# -- every process of the unit's cgroup subtree (Delegate=, DelegateSubgroup=) -------------

WORKERS = f"{UNIT_CG}/workers"


def subtree(worker: str, extra: str = "") -> str:
    """hc_unit_procs with a worker (pid 55) in the child cgroup workers/."""
    return (f"source cgroup {UNIT_CG}\nhierarchy /sys/fs/cgroup\nG {b64(UNIT_CG)} 35 40\n"
            f"G {b64(WORKERS)} 55\n{extra}P 35 70 16384 python3\nP 40 5 16384 claude\n"
            f"{worker}")


def test_fd_headroom_counts_processes_in_child_cgroups() -> None:
    out = evaluate("JADA-FD-02", ctx({"hc_unit_procs": subtree("P 55 14745 16384 python3\n")}))
    assert out.status == "fail", out
    assert (f"pid 55 (python3) in cgroup {WORKERS} has 14745 of 16384 descriptors open "
            "(90.0% > 80%)") in out.message
    assert f"cgroup {UNIT_CG} and its 1 child cgroup (/sys/fs/cgroup)" in (out.source or "")
    calm = evaluate("JADA-FD-02", ctx({"hc_unit_procs": subtree("P 55 10 16384 python3\n")}))
    assert calm.status == "pass" and "3 processes" in calm.message, calm


def test_an_unreadable_child_cgroup_is_an_error_never_a_pass() -> None:
    hidden = subtree("", extra=f"GX {b64(WORKERS + '/deep')} its child cgroups could not be "
                                "listed\n")
    for control in ("JADA-FD-02", "JADA-NET-04"):
        out = evaluate(control, ctx({"hc_unit_procs": hidden}))
        assert out.status == "error", out
        assert f"{WORKERS}/deep: its child cgroups could not be listed" in out.message
    other_ns = subtree("P 55 10 16384 python3\n").replace(f"{b64(WORKERS)} 55",
                                                          f"{b64(WORKERS)} 55 0")
    out = evaluate("JADA-FD-02", ctx({"hc_unit_procs": other_ns}))
    assert out.status == "error" and "PID namespace this session cannot see" in out.message


def test_listen_backlog_of_a_process_in_a_child_cgroup() -> None:
    listen = GOOD["hc_listen"] + ('LISTEN 0 128 0.0.0.0:7071 0.0.0.0:* '
                                  'users:(("python3",pid=55,fd=3))\n')
    facts = {"hc_unit_procs": subtree("P 55 10 16384 python3\n"), "hc_listen": listen}
    out = evaluate("JADA-NET-04", ctx(facts))
    assert out.status == "fail", out
    assert (f"0.0.0.0:7071 (python3, pid 55 in cgroup {WORKERS}) has backlog 128 < 4096 "
            "(Send-Q in ss)") in out.message
    assert "0.0.0.0:7070" not in out.message


# -- fs.nr_open after the next boot; values strtoull saturates ------------------------------

def sysctl_files(*files: tuple[str, str]) -> str:
    out = f"D {b64('/etc/sysctl.d')}\n" + dump("/etc/sysctl.d/60-jada.conf",
                                               "net.core.somaxconn = 8192\n"
                                               "net.ipv4.tcp_max_syn_backlog = 8192\n")
    for path, text in files:
        out += dump(path, text)
    return out + f"D {b64('/usr/lib/sysctl.d')}\n"


BOOT_524288 = sysctl_files(("/etc/sysctl.d/70-nr-open.conf", "# boot value\nfs.nr_open = 524288\n"))


def test_limits_nofile_that_fits_only_the_runtime_nr_open_fails() -> None:
    limits = GOOD["hc_limits_files"] + dump("/etc/security/limits.d/70-x.conf",
                                            "@ops - nofile 800000\n")
    out = evaluate("JADA-LIM-02", ctx({"hc_limits_files": limits,
                                      "hc_sysctl_files": BOOT_524288}))
    assert out.status == "fail", out
    assert ("/etc/security/limits.d/70-x.conf:1: '@ops - nofile 800000' — 800000 fits the "
            "runtime fs.nr_open 1048576 (/proc/sys/fs/nr_open) but is above fs.nr_open after "
            "the next boot, 524288 (/etc/sysctl.d/70-nr-open.conf:2)") in out.message
    assert "after a reboot the kernel refuses it (EPERM)" in out.message
    assert evaluate("JADA-LIM-02", ctx({"hc_limits_files": limits})).status == "pass"


def test_unit_nofile_that_fits_only_the_runtime_nr_open_fails() -> None:
    lines = GOOD["hc_nofile_lines"] + ("LINE unit /etc/systemd/system/jada-agent.service.d/"
                                       "70-x.conf 4:LimitNOFILE=16384:800000\n")
    out = evaluate("JADA-FD-03", ctx({"hc_nofile_lines": lines, "hc_sysctl_files": BOOT_524288}))
    assert out.status == "fail", out
    assert ("LimitNOFILE=16384:800000 at /etc/systemd/system/jada-agent.service.d/70-x.conf:4: "
            "800000 fits the runtime fs.nr_open 1048576 (/proc/sys/fs/nr_open) but is above "
            "fs.nr_open after the next boot, 524288 (/etc/sysctl.d/70-nr-open.conf:2)") \
        in out.message
    assert "fs.nr_open at boot: /etc/sysctl.d/70-nr-open.conf:2" in (out.source or "")
    assert evaluate("JADA-FD-03", ctx({"hc_nofile_lines": lines})).status == "pass"


def test_boot_nr_open_the_kernel_refuses_leaves_the_default() -> None:
    refused = sysctl_files(("/etc/sysctl.d/70-nr-open.conf", "fs.nr_open = 4294967296\n"))
    runtime = GOOD["hc_sysctl_runtime"].replace("fs/nr_open 1048576", "fs/nr_open 2097152")
    limits = GOOD["hc_limits_files"] + dump("/etc/security/limits.d/70-x.conf",
                                            "root hard nofile 1500000\n")
    out = evaluate("JADA-LIM-02", ctx({"hc_limits_files": limits, "hc_sysctl_files": refused,
                                      "hc_sysctl_runtime": runtime}))
    assert out.status == "fail", out
    assert ("after the next boot, 1048576 (kernel default, fs/file.c: 'fs.nr_open = 4294967296' at "
            "/etc/sysctl.d/70-nr-open.conf:1 is refused with EINVAL") in out.message


def test_a_boot_value_above_the_runtime_one_still_needs_the_runtime_one() -> None:
    higher = sysctl_files(("/etc/sysctl.d/70-nr-open.conf", "fs.nr_open = 4194304\n"))
    limits = GOOD["hc_limits_files"] + dump("/etc/security/limits.d/70-x.conf",
                                            "root hard nofile 2000000\n")
    out = evaluate("JADA-LIM-02", ctx({"hc_limits_files": limits, "hc_sysctl_files": higher}))
    assert out.status == "fail" and "2000000 > fs.nr_open 1048576" in out.message, out


def test_nofile_that_strtoull_saturates_becomes_nr_open() -> None:
    limits = GOOD["hc_limits_files"] + dump("/etc/security/limits.d/70-x.conf",
                                            "* hard nofile 99999999999999999999\n"
                                            "* soft nofile 18446744073709551615\n")
    out = evaluate("JADA-LIM-02", ctx({"hc_limits_files": limits,
                                      "hc_sysctl_files": BOOT_524288}))
    assert out.status == "pass", out
    assert ("/etc/security/limits.d/70-x.conf:1, /etc/security/limits.d/70-x.conf:2: the value "
            "saturates strtoull (ERANGE), so pam_limits sets nofile to fs.nr_open") in out.message
    wraps = GOOD["hc_limits_files"] + dump("/etc/security/limits.d/70-x.conf",
                                           "* hard nofile -5\n")  # 2**64-5: not saturated
    assert evaluate("JADA-LIM-02", ctx({"hc_limits_files": wraps})).status == "fail"
def test_corrupt_sysctl_listing_is_an_error() -> None:
    out = evaluate("JADA-NET-02", ctx({"hc_sysctl_files": "D \n"}))
    assert out.status == "error" and "unexpected directory ''" in out.message, out
    misplaced = f"D {b64('/etc/sysctl.d')}\n" + dump("/usr/lib/sysctl.d/x.conf", "a = 1\n")
    out = evaluate("JADA-NET-02", ctx({"hc_sysctl_files": misplaced}))
    assert out.status == "error", out
    assert "'/usr/lib/sysctl.d/x.conf' listed under /etc/sysctl.d" in out.message
