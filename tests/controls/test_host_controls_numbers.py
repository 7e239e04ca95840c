"""Host controls fed numbers no target prints: an error naming the fact, never a pass.

Each slot puts one text where a control reads a number (NRestarts, /proc/sys values,
limits, ids, counts, pids, ss queues, the clock, the exposure score). If the text is not
a value that field can hold, the control's outcome must be *error*; if it is, the
control decides (pass, fail, or skipped for NET-04 when the pid is not the unit's). The
helpers are those of test_host_controls_pure.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import example, given, settings
from hypothesis import strategies as st

from jada_checks.parsers.numbers import INT_MAX, NR_OPEN_MAX, PID_MAX, S64_MAX, U32_MAX, U64_MAX
from tests.controls.test_host_controls_pure import GOOD, LIMITS, SHOW, ctx, dump, evaluate
from tests.parsers.test_numbers import NASTY, NUMBERISH, plain

RLIM = U64_MAX


def rlimit_ok(text: str) -> bool:
    return text in ("infinity", "unlimited") or plain(text, RLIM) is not None


def digits(high: int, low: int = 0) -> Callable[[str], bool]:
    return lambda text: plain(text, high, low) is not None


def runtime(key: str, value: str) -> str:
    return GOOD["hc_sysctl_runtime"].replace(f"V host {key} 8192" if "net" in key else
                                             "V host fs/nr_open 1048576",
                                             f"V host {key} {value}")


# name: (control, section, fact with the slot filled, is the text a value the field holds)
SLOTS: dict[str, tuple[str, str, Callable[[str], str], Callable[[str], bool]]] = {
    "NRestarts": ("JADA-UNIT-02", "unit_show",
                  lambda x: SHOW.replace("NRestarts=0", f"NRestarts={x}"), digits(U32_MAX)),
    "Uid": ("JADA-UNIT-03", "hc_main_status",
            lambda x: f"Name:\tpython3\nUid:\t{x}\t990\t990\t990\n", digits(U32_MAX)),
    "journal now": ("JADA-UNIT-04", "hc_journal",
                    lambda x: GOOD["hc_journal"].replace("now 1700000000", f"now {x}"),
                    digits(S64_MAX)),
    "journal minute": ("JADA-UNIT-04", "hc_journal",
                       lambda x: GOOD["hc_journal"] + f"M {x} 0\n", digits(S64_MAX // 60)),
    "journal count": ("JADA-UNIT-04", "hc_journal",
                      lambda x: GOOD["hc_journal"] + f"M 1 {x}\n", digits(S64_MAX)),
    "max open files": ("JADA-FD-01", "hc_main_limits",
                       lambda x: LIMITS.replace("16384                16384",
                                                f"{x}                16384"), rlimit_ok),
    # '-' is the probe's "could not read /proc/<pid>/fd": an error too
    "open fds": ("JADA-FD-02", "hc_unit_procs",
                 lambda x: f"P 35 {x} 16384 python3\n", digits(NR_OPEN_MAX)),
    "fd pid": ("JADA-FD-02", "hc_unit_procs",
               lambda x: f"P {x} 70 16384 python3\n", digits(PID_MAX, 1)),
    "fs.nr_open": ("JADA-FD-03", "hc_sysctl_runtime", lambda x: runtime("fs/nr_open", x),
                   digits(NR_OPEN_MAX)),
    "LimitNOFILE": ("JADA-FD-03", "unit_show",
                    lambda x: SHOW.replace("LimitNOFILE=16384\n", f"LimitNOFILE={x}\n"),
                    lambda x: x.strip() == "infinity" or plain(x, RLIM) is not None),
    "uid": ("JADA-LIM-01", "hc_session",
            lambda x: GOOD["hc_session"].replace("uid 0", f"uid {x}"), digits(U32_MAX)),
    "session nofile": ("JADA-LIM-01", "hc_session",
                       lambda x: GOOD["hc_session"].replace("nofile 16384 16384",
                                                            f"nofile {x} 16384"), rlimit_ok),
    "TasksMax": ("JADA-LIM-03", "unit_show",
                 lambda x: SHOW.replace("TasksMax=4096", f"TasksMax={x}"),
                 lambda x: x.strip() in ("infinity", "unlimited") or plain(x, RLIM) is not None),
    "somaxconn": ("JADA-NET-01", "hc_sysctl_runtime",
                  lambda x: runtime("net/core/somaxconn", x), digits(INT_MAX)),
    "boot somaxconn": ("JADA-NET-02", "hc_sysctl_files",
                       lambda x: GOOD["hc_sysctl_files"].replace(
                           dump("/etc/sysctl.d/60-jada.conf", "net.core.somaxconn = 8192\r\n"
                                "net.ipv4.tcp_max_syn_backlog = 8192\n"),
                           dump("/etc/sysctl.d/60-jada.conf", f"net.core.somaxconn = {x}\n"
                                "net.ipv4.tcp_max_syn_backlog = 8192\n")), digits(INT_MAX)),
    "syn backlog": ("JADA-NET-03", "hc_sysctl_runtime",
                    lambda x: runtime("net/ipv4/tcp_max_syn_backlog", x), digits(INT_MAX)),
    "ss Send-Q": ("JADA-NET-04", "hc_listen",
                  lambda x: GOOD["hc_listen"].replace("LISTEN 0 8192", f"LISTEN 0 {x}"),
                  digits(U32_MAX)),
    "ss pid": ("JADA-NET-04", "hc_listen",
               lambda x: GOOD["hc_listen"].replace("pid=35", f"pid={x}"), digits(PID_MAX, 1)),
    "exposure": ("JADA-UNIT-05", "hc_analyze",
                 lambda x: f"-> Overall exposure level for jada-agent.service: {x} UNSAFE\n",
                 lambda x: _exposure_ok(x)),
}


def _exposure_ok(text: str) -> bool:
    head, dot, tail = text.partition(".")
    return text.isascii() and head.isdigit() and (not dot or tail.isdigit()) \
        and len(head.lstrip("0")) <= 40 and len(tail) <= 40 and float(text) <= 10.0


def token(text: str) -> bool:
    """One blank-free token: the slots are fields of space-separated lines."""
    return bool(text) and not any(c.isspace() for c in text) and "," not in text \
        and ")" not in text and len(f"a{text}b".splitlines()) == 1


def check_slot(name: str, text: str) -> None:
    control, section, fill, ok = SLOTS[name]
    out = evaluate(control, ctx({section: fill(text)}))  # anything but CheckError propagates
    if ok(text):  # decided; NET-04 skips when the pid is not the unit's
        assert out.status in ("pass", "fail", "skipped"), (name, text, out)
    else:
        assert out.status == "error", (name, text, out)


@settings(max_examples=150)
@given(st.sampled_from(sorted(SLOTS)), NUMBERISH.filter(token))
@example(name="open fds", text="-")  # found in a dev run: the oracle took '-' for a count
def test_numeric_slots_are_read_or_an_error(name: str, text: str) -> None:
    check_slot(name, text)


def test_nasty_numbers_in_every_slot() -> None:
    for name in SLOTS:
        for text in filter(token, NASTY):
            check_slot(name, text)


def test_error_messages_name_the_fact_and_the_expectation() -> None:
    cases = {
        "JADA-UNIT-02": ({"unit_show": SHOW.replace("NRestarts=0", "NRestarts=INFINITY")},
                         "unit property NRestarts is 'INFINITY': not a whole number (digits "
                         "only), expected a whole number 0..4294967295"),
        "JADA-UNIT-04": ({"hc_journal": GOOD["hc_journal"].replace("now 1700000000",
                                                                   "now 1e999")},
                         "the target's clock (date +%s) is '1e999': not a whole number"),
        "JADA-UNIT-05": ({"hc_analyze": "Overall exposure level for x.service: 11.0 UNSAFE\n"},
                         "the overall exposure level (systemd-analyze security) is '11.0': "
                         "out of range, expected a decimal number 0..10"),
        "JADA-FD-02": ({"hc_unit_procs": "P 35 inf 16384 python3\n"},
                       "cannot parse the unit's process table: 'P 35 inf 16384 python3'"),
        "JADA-FD-03": ({"unit_show": SHOW.replace("LimitNOFILE=16384\n", "LimitNOFILE=-1\n")},
                       "unit property LimitNOFILE is '-1': expected a whole number "
                       "0..18446744073709551615 or infinity"),
        "JADA-LIM-01": ({"hc_session": GOOD["hc_session"].replace("uid 0", "uid -1")},
                        "the SSH user's identity could not be read: uid (id -u) is '-1': not a "
                        "whole number (digits only), expected a whole number 0..4294967295"),
        "JADA-NET-01": ({"hc_sysctl_runtime": runtime("net/core/somaxconn", "99999999999")},
                        "net.core.somaxconn (/proc/sys/net/core/somaxconn) is '99999999999': "
                        "out of range, expected a whole number 0..2147483647"),
        "JADA-NET-02": ({"hc_sysctl_files": GOOD["hc_sysctl_files"].replace(
            dump("/etc/sysctl.d/60-jada.conf", "net.core.somaxconn = 8192\r\n"
                 "net.ipv4.tcp_max_syn_backlog = 8192\n"),
            dump("/etc/sysctl.d/60-jada.conf", "net.core.somaxconn = nan\n"))},
            "net.core.somaxconn (/etc/sysctl.d/60-jada.conf:1) is 'nan': not a whole number"),
        "JADA-NET-04": ({"hc_listen": GOOD["hc_listen"].replace("LISTEN 0 8192",
                                                                "LISTEN 0 1e999")},
                        "cannot parse ss output: 'LISTEN 0 1e999 0.0.0.0:7070"),
    }
    for control, (facts, words) in cases.items():
        out = evaluate(control, ctx(facts))
        assert out.status == "error", (control, out)
        assert words in out.message, (control, out.message)


def test_unreadable_uptime_only_drops_the_start_time() -> None:
    """The uptime decorates UNIT-02's message; the decision is Restart= and NRestarts."""
    assert "main process started 60 s ago" in evaluate("JADA-UNIT-02", ctx()).message
    for garbage in ("INFINITY", "1e999", "nan", "-5.0", "9" * 400, "3.0"):
        out = evaluate("JADA-UNIT-02", ctx({"hc_uptime": f"{garbage} 100.00\n"}))
        assert out.status == "pass" and "started" not in out.message, (garbage, out)
