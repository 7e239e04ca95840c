"""/proc parsers, ss, file dumps and unit LimitNOFILE lines: real samples and garbage."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from jada_checks.parsers.dump import parse_dump, parse_dump_line
from jada_checks.parsers.proc import (
    RLIM_INFINITY,
    parse_fd_table,
    parse_file_nr,
    parse_int,
    parse_limits,
    parse_rlimit,
    parse_status_ids,
    parse_values,
)
from jada_checks.parsers.ss import parse_listeners
from jada_checks.parsers.unitlimits import parse_nofile_lines, parse_value
from tests.support.paths import DATA


def test_proc_limits_real_sample() -> None:
    limits = parse_limits((DATA / "proc-limits.sample").read_text())
    assert "Max open files" in limits and "Max processes" in limits
    assert limits["Max cpu time"].soft == RLIM_INFINITY
    assert len(limits) == 16


def test_proc_limits_garbage_gives_nothing() -> None:
    assert parse_limits("Max open files            lots                 16384    files") == {}
    assert parse_limits("\x00\xff garbage\r\n") == {}
    crlf = "Max open files            1024                 4096                 files     \r\n"
    assert str(parse_limits(crlf)["Max open files"]) == "1024:4096"


def test_rlimit_values() -> None:
    assert parse_rlimit("infinity") == parse_rlimit("unlimited") == RLIM_INFINITY
    assert parse_rlimit("16384") == 16384
    for bad in ("", "-1", "1e3", "١٢", "12k", str(2**64)):
        assert parse_rlimit(bad) is None


def test_file_nr_and_ints() -> None:
    assert parse_file_nr("414\t0\t2466186\n") is not None
    assert parse_file_nr("414 0") is None and parse_file_nr("a b c") is None
    assert parse_int(" 4096\n") == 4096 and parse_int("4096 1") is None


def test_fd_table_and_values() -> None:
    how, procs, bad = parse_fd_table("source cgroup /system.slice/x\nP 12 70 16384 python3\n"
                                     "P 13 - 16384 claude code\nP x 1 2 y\ngarbage\n")
    assert how == "cgroup /system.slice/x"
    assert [(p.pid, p.open_fds, p.soft, p.comm) for p in procs] == [
        (12, 70, 16384, "python3"), (13, None, 16384, "claude code")]
    assert bad == ["P x 1 2 y"]  # a process left out silently could hide the one near its limit
    vals = parse_values("V host fs/nr_open 1048576\nV host fs/file-nr 1\t0\t9\n"
                        "V service net/core/somaxconn !unreadable\nV bad\n")
    assert vals[("host", "fs/nr_open")] == "1048576"
    assert vals[("host", "fs/file-nr")] == "1\t0\t9"
    assert vals[("service", "net/core/somaxconn")] is None


def test_status_ids() -> None:
    ids = parse_status_ids("Name:\tpython3\nUid:\t990\t990\t990\t990\nGid:\t990\t990\t990\n")
    assert ids == {"Uid": [990, 990, 990, 990]}


def test_ss_real_sample() -> None:
    listeners, bad = parse_listeners((DATA / "ss-listen.sample").read_text())
    assert bad == []
    by_port = {sock.local: sock for sock in listeners}
    v6 = next(s for s in listeners if s.local.startswith("[::1]"))
    assert v6.send_q == 4096 and v6.pids and v6.process == "python3"  # 5000 capped by somaxconn
    assert by_port["0.0.0.0:2024"].pids == ()  # another namespace's or unprivileged: no owner


def test_ss_garbage_lines_are_reported() -> None:
    listeners, bad = parse_listeners("LISTEN x y z w\nUNCONN 0 0 a b\n\n")
    assert listeners == [] and len(bad) == 2


def test_dump_roundtrip_and_corruption() -> None:
    data = b"a\r\nb\x00\xff"
    line = f"F {base64.b64encode(b'/etc/x.conf').decode()} ok {base64.b64encode(data).decode()}"
    item = parse_dump_line(line)
    assert item is not None and item.data == data and item.path == "/etc/x.conf"
    assert parse_dump_line("F !!! ok AAAA") is None
    bad = parse_dump_line(f"F {base64.b64encode(b'/x').decode()} ok %%%")
    assert bad is not None and bad.status == "unreadable"
    empty = parse_dump_line(f"F {base64.b64encode(b'/x').decode()} ok")
    assert empty is not None and empty.data == b""
    assert parse_dump("garbage\nF x\n") == []


def test_unit_nofile_lines() -> None:
    text = ("FILE unit /etc/systemd/system/jada-agent.service\n"
            "LINE unit /etc/systemd/system/jada-agent.service 14:LimitNOFILE=16384\r\n"
            "FILE unit /etc/systemd/system/jada-agent.service.d/10-x.conf\n"
            "LINE unit /etc/systemd/system/jada-agent.service.d/10-x.conf 2:LimitNOFILE=\n"
            "FILE manager /usr/lib/systemd/system.conf.d/50-a.conf\n"
            "LINE manager /usr/lib/systemd/system.conf.d/50-a.conf 1:DefaultLimitNOFILE=1:2\n"
            "FILE manager /etc/systemd/system.conf.d/50-a.conf\n"
            "FILE manager /etc/systemd/system.conf\n"
            "LINE manager /etc/systemd/system.conf 3:DefaultLimitNOFILE=4096\n"
            "UNREADABLE unit /x\n")
    cfg = parse_nofile_lines(text)
    # systemd 252 ignores the empty drop-in assignment: the fragment's line still wins
    assert cfg.unit_effective() is cfg.unit[0]
    assert cfg.unit[0].where == "/etc/systemd/system/jada-agent.service:14"
    # /etc's 50-a.conf hides /usr/lib's: only system.conf's line counts
    assert [s.where for s in cfg.manager] == ["/etc/systemd/system.conf:3"]
    assert cfg.unreadable == ["/x"]
    assert parse_value("1024:524288") == (1024, 524288, True)
    assert parse_value("infinity") == (RLIM_INFINITY, RLIM_INFINITY, True)
    assert parse_value("lots")[2] is False
    assert parse_value("")[2] is False and parse_value("10:5")[2] is False


@given(st.text(max_size=800))
def test_text_parsers_never_raise(text: str) -> None:
    parse_limits(text)
    parse_file_nr(text)
    parse_fd_table(text)
    parse_values(text)
    parse_status_ids(text)
    parse_listeners(text)
    parse_dump(text)
    cfg = parse_nofile_lines(text)
    for s in cfg.unit + cfg.manager:
        assert s.valid == (s.soft is not None and s.hard is not None and s.soft <= s.hard)


@given(st.text(alphabet="0123456789 unlimitedinfy-\t", max_size=40))
def test_limit_values_are_numbers_or_none(text: str) -> None:
    value = parse_rlimit(text)
    assert value is None or 0 <= value <= RLIM_INFINITY
