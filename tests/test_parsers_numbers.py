"""Every parser that reads a number from a target: plain digits in range, or rejected.

The oracle is deliberately simple and independent of the parsers: a value is acceptable
when, blanks around it aside, it is ASCII digits only and fits the field. ``int()`` and
``float()`` take far more (``inf``, ``1e999``, ``-1``, ``1_0``, other scripts' digits).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from jada_checks.model import CheckError
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
