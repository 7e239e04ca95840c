"""Every parser that reads a number from a target: plain digits in range, or rejected.

The oracle is deliberately simple and independent of the parsers: a value is acceptable
when, blanks around it aside, it is ASCII digits only and fits the field. ``int()`` and
``float()`` take far more (``inf``, ``1e999``, ``-1``, ``1_0``, other scripts' digits).
"""

from __future__ import annotations

import base64
import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from jada_checks.aws.lightsail import metric_value
from jada_checks.facts.host import split_sections
from jada_checks.facts.host_facts import SYSCTL_MAX, sysctl_int
from jada_checks.model import CheckError
from jada_checks.parsers.cfg_facts import FactError, parse_procs
from jada_checks.parsers.cgroup import parse_cgroup_tree
from jada_checks.parsers.limits import strtoul
from jada_checks.parsers.nr_open import NR_OPEN_MIN, kernel_accepts
from jada_checks.parsers.numbers import (
    INT_MAX,
    NR_OPEN_MAX,
    PID_MAX,
    U32_MAX,
    U64_MAX,
    NumberError,
    decimal,
    decimal_or_none,
    finite,
    integer,
    saturating,
    whole,
    whole_or_none,
)
from jada_checks.parsers.proc import (
    RLIM_INFINITY,
    Pair,
    parse_fd_table,
    parse_file_nr,
    parse_int,
    parse_limits,
    parse_rlimit,
    parse_status_ids,
)
from jada_checks.parsers.ss import parse_listeners
from jada_checks.parsers.unitlimits import parse_nofile_lines, parse_value

# What int()/float() accept and no kernel, systemd or ss ever prints, and what overflows.
NASTY = ["inf", "INFINITY", "-inf", "Infinity", "nan", "NaN", "1e999", "1e3", "-1", "-0",
         "+5", "1_000", "0x10", "1.5", "٣", "²", "１２", "12abc", "", " ", "\x00", "9" * 400,
         "9" * 5000, str(2**64), str(2**64 - 1), str(2**32), str(2**31), "0" * 50 + "7"]
NUMBERISH = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"[ \t]?[+-]?[0-9]{0,25}(\.[0-9]{0,3})?([eE][+-]?[0-9]{1,4})?[ \t]?",
                  fullmatch=True),
    st.integers(min_value=-2, max_value=2**70).map(str),
    st.sampled_from(NASTY),
)


def nasty(test):  # type: ignore[no-untyped-def]
    """Every NASTY string as an explicit example of a one-argument property test."""
    for text in NASTY:
        test = example(text)(test)
    return test


def inline(text: str) -> bool:
    """True when ``text`` stays one line (str.splitlines() also breaks at \\x1e, \\x85...)."""
    return len(f"a{text}b".splitlines()) == 1


def plain(text: str, high: int, low: int = 0) -> int | None:
    """The oracle: ASCII digits only (blanks around allowed) within low..high, else None."""
    s = text.strip(" \t\r\n")
    if not (s.isascii() and s.isdigit()) or len(s.lstrip("0")) > 40:
        return None
    value = int(s)
    return value if low <= value <= high else None


# -- the numbers module -----------------------------------------------------------------

@nasty
@given(NUMBERISH)
def test_whole_is_plain_digits_in_range(text: str) -> None:
    for high in (255, INT_MAX, U32_MAX, U64_MAX):
        want = plain(text, high)
        assert whole_or_none(text, high=high) == want
        if want is None:
            with pytest.raises(NumberError, match="^uid is "):
                whole(text, "uid", high=high)
        else:
            assert whole(text, "uid", high=high) == want


@nasty
@given(NUMBERISH)
def test_decimal_is_finite_digits_in_range(text: str) -> None:
    s = text.strip(" \t\r\n")
    head, _, tail = s.partition(".")
    ok = bool(head) and (head + tail).isascii() and head.isdigit() and \
        (tail.isdigit() or "." not in s) and len(head.lstrip("0")) <= 40 and len(tail) <= 40
    value = decimal_or_none(text, high=10.0)
    if ok and float(s) <= 10.0:
        assert value == float(s)
    else:
        assert value is None
        with pytest.raises(NumberError, match="^exposure is "):
            decimal(text, "exposure", high=10.0)


@given(st.one_of(st.floats(), st.integers(min_value=-(2**1100), max_value=2**1100),
                 st.booleans(), st.none(), st.text(max_size=5)))
@example(math.inf)
@example(math.nan)
@example(10**400)
@example(True)
@example(-1)
@example("5")
def test_finite_json_numbers(value: object) -> None:
    try:
        got = finite(value, "average", low=0.0, high=100.0)
    except NumberError as exc:
        assert str(exc).startswith("average is ")
        assert isinstance(value, bool) or not isinstance(value, int | float) \
            or not (isinstance(value, int) or math.isfinite(value)) or not 0 <= value <= 100
    else:
        assert math.isfinite(got) and 0.0 <= got <= 100.0 and got == value
        assert not isinstance(value, bool)


@given(st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.floats(),
                 st.booleans(), st.none()))
@example(True)
@example(22.0)
@example(65536)
def test_integer_json_numbers(value: object) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool) and -1 <= value <= 65535
    if ok:
        assert integer(value, "fromPort", low=-1, high=65535) == value
    else:
        with pytest.raises(NumberError, match="^fromPort is "):
            integer(value, "fromPort", low=-1, high=65535)


@given(st.text(alphabet="0123456789", min_size=1, max_size=5000).map(str.encode))
@example(b"9" * 5000)
@example(b"0" * 4999 + b"1")
def test_saturating_never_builds_a_huge_int(digits: bytes) -> None:
    got = saturating(digits, U64_MAX)
    stripped = digits.lstrip(b"0") or b"0"
    assert got == (U64_MAX if len(stripped) > 40 else min(int(stripped), U64_MAX))


def test_messages_name_the_fact_the_text_and_the_expectation() -> None:
    with pytest.raises(NumberError) as err:
        whole("INFINITY", "unit property NRestarts", high=U32_MAX)
    assert str(err.value) == ("unit property NRestarts is 'INFINITY': not a whole number "
                              "(digits only), expected a whole number 0..4294967295")
    with pytest.raises(NumberError) as err:
        whole("4294967296", "uid (id -u)", high=U32_MAX)
    assert str(err.value) == ("uid (id -u) is '4294967296': out of range, expected a whole "
                              "number 0..4294967295")
    with pytest.raises(NumberError) as err:
        whole("9" * 5000, "fs.nr_open", high=NR_OPEN_MAX)
    assert str(err.value) == (f"fs.nr_open is '{'9' * 40}'...: out of range, expected a whole "
                              "number 0..2147483584")
    with pytest.raises(NumberError) as err:
        whole("0", "a pid", low=1, high=PID_MAX)
    assert str(err.value) == "a pid is '0': out of range, expected a whole number 1..4194303"
    with pytest.raises(NumberError) as err:
        whole("0778", "mode", high=0o7777, base=8)
    assert str(err.value) == ("mode is '0778': not a whole number (octal digits only), "
                              "expected a whole number 0..7777 (octal)")
    with pytest.raises(NumberError) as err:
        decimal("1e999", "/proc/uptime", high=1e9)
    assert str(err.value) == ("/proc/uptime is '1e999': not a decimal number (digits with an "
                              "optional .fraction), expected a decimal number 0..1e+09")
    with pytest.raises(NumberError) as err:
        decimal("10.1", "the overall exposure level", high=10.0)
    assert str(err.value) == ("the overall exposure level is '10.1': out of range, expected a "
                              "decimal number 0..10")
    with pytest.raises(NumberError) as err:
        finite(math.nan, "a datapoint's Average", low=0, high=100)
    assert str(err.value) == "a datapoint's Average is nan: expected a finite number 0..100"
    with pytest.raises(NumberError) as err:
        finite(True, "a datapoint's Sum", low=0, high=1)
    assert str(err.value) == "a datapoint's Sum is True (bool): expected a number 0..1"
    with pytest.raises(NumberError) as err:
        finite(10**400, "a datapoint's Sum", low=0, high=1e300)
    assert str(err.value) == (f"a datapoint's Sum is 1{'0' * 39}...: out of range, expected "
                              "0..1e+300")
    with pytest.raises(NumberError) as err:
        integer(True, "fromPort", low=-1, high=65535)
    assert str(err.value) == "fromPort is True (bool): expected a whole number -1..65535"
    # a NumberError is a CheckError: a control that meets one reports *error*
    assert issubclass(NumberError, CheckError) and issubclass(NumberError, ValueError)


# -- every parser that feeds a number ---------------------------------------------------

@nasty
@given(NUMBERISH)
@example("0\x85")  # found in a dev run: str.strip() took U+0085 (NEL) for a blank
def test_proc_parsers(text: str) -> None:
    word = text.strip(" \t\r\n")
    want = RLIM_INFINITY if word in ("unlimited", "infinity") else plain(text, RLIM_INFINITY)
    assert parse_rlimit(text) == want
    assert parse_int(text) == plain(text, U64_MAX)
    fields = text.split()  # the table parsers split fields like str.split()
    one = fields[0] if len(fields) == 1 else None
    nr = parse_file_nr(f"{text}\t0\t9223372036854775807")
    assert (nr is None) == (one is None or plain(one, U64_MAX) is None)
    ids = parse_status_ids(f"Uid:\t{text}\t0\t0\t0\n")
    uid = plain(one, U32_MAX) if one is not None and inline(text) else None
    assert ids.get("Uid", [None])[0] == uid
    if one is not None:
        row = parse_limits(f"Max open files            {one}           4096          files\n")
        soft = parse_rlimit(one)
        assert row.get("Max open files") == (None if soft is None else Pair(soft, 4096))


@nasty
@given(NUMBERISH)
def test_fd_table(text: str) -> None:
    if not text or any(c.isspace() for c in text):
        return  # the numbers are whitespace-separated fields of one line (str.split)
    for line, field in ((f"P {text} 70 16384 python3", "pid"), (f"P 35 {text} 16384 python3",
                                                                 "nfds"),
                        (f"P 35 70 {text} python3", "soft")):
        _, procs, bad = parse_fd_table(line)
        if field == "pid":
            ok = plain(text, PID_MAX, low=1) is not None
        elif field == "nfds":
            ok = text == "-" or plain(text, NR_OPEN_MAX) is not None
        else:
            ok = text == "-" or parse_rlimit(text) is not None
        assert (len(procs), len(bad)) == ((1, 0) if ok else (0, 1)), (line, procs, bad)


@nasty
@given(NUMBERISH)
def test_ss_queues_and_pids(text: str) -> None:
    if not text or any(c.isspace() for c in text) or "," in text or ")" in text:
        return
    for line, high, low in (
            (f'LISTEN {text} 128 0.0.0.0:1 0.0.0.0:* users:(("p",pid=7,fd=3))', U32_MAX, 0),
            (f'LISTEN 0 {text} 0.0.0.0:1 0.0.0.0:* users:(("p",pid=7,fd=3))', U32_MAX, 0),
            (f'LISTEN 0 128 0.0.0.0:1 0.0.0.0:* users:(("p",pid={text},fd=3))', PID_MAX, 1)):
        listeners, bad = parse_listeners(line)
        ok = plain(text, high, low) is not None
        assert (len(listeners), len(bad)) == ((1, 0) if ok else (0, 1)), (line, bad)


@nasty
@given(NUMBERISH)
@example(" 1")  # found in a dev run: a blank before the number belongs to the path
@example("1:2")
def test_unit_limit_lines(text: str) -> None:
    def one(v: str) -> int | None:
        return RLIM_INFINITY if v.strip(" \t\r\n") == "infinity" else plain(v, RLIM_INFINITY)

    soft_text, sep, hard_text = text.strip(" \t\r\n").partition(":")
    soft = one(soft_text)
    hard = one(hard_text) if sep else soft
    valid = soft is not None and hard is not None and soft <= hard
    assert parse_value(text) == (soft, hard, valid)
    assert parse_value(f"{text}:{text}") == (one(text), one(text), one(text) is not None) \
        or ":" in text
    if not text or any(c.isspace() for c in text) or not inline(text):
        return  # the line number is the field after the path's blank (paths may hold blanks)
    cfg = parse_nofile_lines(f"LINE unit /u.service {text}:LimitNOFILE=1\n")
    number = plain(text.partition(":")[0], U32_MAX, low=1)  # grep -n: up to the first ':'
    assert [s.line for s in cfg.unit] == ([] if number is None else [number])
    assert len(cfg.malformed) == (number is None)


@nasty
@given(NUMBERISH)
def test_cgroup_pids_and_boot_nr_open(text: str) -> None:
    value = kernel_accepts(text)  # C base-0 syntax on purpose; never a huge int(), never raises
    assert value is None or NR_OPEN_MIN <= value <= NR_OPEN_MAX
    if not text or any(c.isspace() for c in text):
        return  # pids are blank-separated fields of one line
    tree = parse_cgroup_tree(f"source cgroup /x\nG {base64.b64encode(b'/x').decode()} {text}\n")
    pid = plain(text, PID_MAX)
    if pid is None:
        assert tree.problems == ["/x: cgroup.procs is not a list of pids"] and not tree.members
    elif pid == 0:
        assert "PID namespace" in tree.problems[0] and not tree.members
    else:
        assert tree.members == {pid: "/x"} and not tree.problems


@nasty
@given(NUMBERISH)
def test_limits_conf_values(text: str) -> None:
    value, used = strtoul(text.encode("utf-8", "surrogateescape"))
    assert 0 <= value <= U64_MAX and 0 <= used <= len(text.encode("utf-8", "surrogateescape"))


@nasty
@given(NUMBERISH)
def test_probe_exit_status(text: str) -> None:
    if "\n" in text or "\r" in text:
        return
    sections = split_sections(f"@@JADA-BEGIN a\nout\n@@JADA-END a {text}\n")
    fields = text.split()
    rc = plain(fields[0], 255) if fields else None
    assert sections["a"].rc == (-1 if rc is None else rc)


@nasty
@given(NUMBERISH)
def test_sysctl_values(text: str) -> None:
    for key, high in SYSCTL_MAX.items():
        want = plain(text, high)
        if want is None:
            with pytest.raises(NumberError, match=f"^{key.replace('/', '.')} \\(/proc/sys/"):
                sysctl_int(text, key, f"/proc/sys/{key}")
        else:
            assert sysctl_int(text, key, f"/proc/sys/{key}") == want


@nasty
@given(NUMBERISH)
@example("\x1e")  # found in a dev run: str.splitlines() also breaks at U+001E
def test_cfg_process_records(text: str) -> None:
    if "\t" in text or not inline(text):
        return
    for record, field, high in ((f"C\t{text}\n", "scanned", PID_MAX),
                                (f"P\t{text}\tL3RtcA==\t0\tL3Jvb3Q=\tok\n", "pid", PID_MAX),
                                (f"P\t5\tL3RtcA==\t{text}\tL3Jvb3Q=\tok\n", "euid", U32_MAX)):
        low = 1 if field == "pid" else 0
        want = None if text in ("", "-") else plain(text, high, low)
        try:
            fact = parse_procs(record)
        except FactError as exc:
            assert want is None and "expected a whole number" in str(exc) or \
                (field == "pid" and text in ("", "-")), (record, exc)
        else:
            got = {"scanned": fact.scanned, "pid": fact.claude[0].pid if fact.claude else None,
                   "euid": fact.claude[0].euid if fact.claude else None}[field]
            assert got == (want or 0 if field == "scanned" else want), (record, got)


@given(st.one_of(st.floats(), st.integers(min_value=-(2**1100), max_value=2**1100),
                 st.booleans(), st.text(max_size=5)), st.sampled_from(["Percent", "Count"]))
@example(math.inf, "Percent")
@example(-1, "Count")
@example(101, "Percent")
@example(10**400, "Count")
def test_lightsail_datapoints(value: object, unit: str) -> None:
    high = 100.0 if unit == "Percent" else 1e300
    try:
        got = metric_value(value, "BurstCapacityPercentage", "Average", unit)
    except NumberError as exc:
        assert str(exc).startswith(f"a BurstCapacityPercentage datapoint's Average ({unit}) is ")
    else:
        assert math.isfinite(got) and 0 <= got <= high
