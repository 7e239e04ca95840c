"""Numbers read from targets: plain digits in the range the source can hold, or a reason.

Facts are text printed by the kernel (/proc), systemd, ss, journalctl and date, or JSON from
the Lightsail API. Python's ``int()`` and ``float()`` accept much more than those programs
ever print: ``inf``, ``INFINITY``, ``nan``, ``1e999``, ``-5``, ``+5``, ``1_000``, ``" 5 "``,
digits of other scripts (``"٣"``); ``float("1e999")`` is infinity, which ``int()`` cannot
convert (OverflowError), ``"9" * 400`` is infinity as a float, and 5000 digits exceed
``int()``'s own limit (ValueError). A fact that is not what its source can print is
*unparseable*: the control reports an error naming the fact and what was expected, never
a crash and never a pass.

Two flavours: :func:`whole` / :func:`decimal` / :func:`finite` raise :class:`NumberError`
(a :class:`~jada_checks.model.CheckError`, so a control that calls them reports *error*),
``*_or_none`` return None for parsers whose contract is None-on-bad-input.
"""

from __future__ import annotations

import math
import re

from jada_checks.model import CheckError

INT_MAX = 2**31 - 1  # C int: most /proc/sys integers (somaxconn, tcp_max_syn_backlog)
U32_MAX = 2**32 - 1  # uid_t, gid_t, the accept queue sizes ss prints, systemd's NRestarts
S64_MAX = 2**63 - 1  # time_t, off_t, C long (fs.file-max)
U64_MAX = 2**64 - 1  # rlim_t, usec_t, C unsigned long
PID_MAX = 4_194_304 - 1  # pids are below PID_MAX_LIMIT (include/linux/threads.h, 64-bit)
NR_OPEN_MAX = 2_147_483_584  # sysctl_nr_open_max on 64-bit (fs/file.c)

# Longer than anything a 64-bit kernel prints, short enough that int() never meets its
# 4300-digit limit and that a flood of digits costs nothing.
_MAX_DIGITS = 40
_WHOLE = {10: re.compile(r"[0-9]+"), 8: re.compile(r"[0-7]+")}
_DECIMAL = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
_BLANKS = " \t\r\n"


class NumberError(CheckError, ValueError):
    """A fact is not a number its source can print; the message names the fact, shows the
    text (cut short) and says what was expected."""


def shown(value: object) -> str:
    """The offending value for a message, at most 40 characters so a flood of garbage
    cannot flood the report; text is repr'd (blanks and control characters visible)."""
    s = str(value)
    cut = s[:40] if len(s) > 40 else s
    return (repr(cut) if isinstance(value, str) else cut) + ("..." if len(s) > 40 else "")


def _whole(text: str, low: int, high: int, base: int) -> tuple[int | None, str]:
    """(value, "") or (None, why not)."""
    pattern = _WHOLE[base]
    what = "octal digits" if base == 8 else "digits"
    s = text.strip(_BLANKS)
    if not pattern.fullmatch(s):
        return None, f"not a whole number ({what} only)"
    if len(s.lstrip("0")) > _MAX_DIGITS:
        return None, "out of range"
    value = int(s, base)
    if not low <= value <= high:
        return None, "out of range"
    return value, ""


def whole(text: str, fact: str, *, low: int = 0, high: int = U64_MAX, base: int = 10) -> int:
    """A whole number as the kernel, systemd or ss print it: ASCII digits only (blanks
    around are allowed), from ``low`` to ``high`` (what the field can hold), else
    NumberError naming ``fact``."""
    value, why = _whole(text, low, high, base)
    if value is None:
        raise NumberError(f"{fact} is {shown(text)}: {why}, expected a whole number "
                          f"{_span(low, high, base)}")
    return value


def whole_or_none(text: str, *, low: int = 0, high: int = U64_MAX, base: int = 10) -> int | None:
    """:func:`whole` for parsers that answer None for what they cannot read."""
    return _whole(text, low, high, base)[0]


def _decimal(text: str, low: float, high: float) -> tuple[float | None, str]:
    s = text.strip(_BLANKS)
    m = _DECIMAL.fullmatch(s)
    if not m:
        return None, "not a decimal number (digits with an optional .fraction)"
    if len(m.group(1).lstrip("0")) > _MAX_DIGITS or len(m.group(2) or "") > _MAX_DIGITS:
        return None, "out of range"
    value = float(s)  # finite: at most 40 digits before the point
    if not low <= value <= high:
        return None, "out of range"
    return value, ""


def decimal(text: str, fact: str, *, low: float = 0.0, high: float) -> float:
    """A non-negative decimal as /proc/uptime or systemd-analyze print it (``65.00``,
    ``9.2``): never an exponent, ``inf`` or ``nan``; from ``low`` to ``high``."""
    value, why = _decimal(text, low, high)
    if value is None:
        raise NumberError(f"{fact} is {shown(text)}: {why}, expected a decimal number "
                          f"{low:g}..{high:g}")
    return value


def decimal_or_none(text: str, *, low: float = 0.0, high: float) -> float | None:
    """:func:`decimal` for callers that treat an unreadable value as unknown."""
    return _decimal(text, low, high)[0]


def finite(value: object, fact: str, *, low: float, high: float) -> float:
    """A number already decoded from JSON (the Lightsail API): a real int or float, not a
    bool, not NaN or infinity (Python's json accepts ``NaN`` and ``Infinity``), from
    ``low`` to ``high``. Integers are compared before conversion: ``float(10**400)``
    raises OverflowError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise NumberError(f"{fact} is {shown(value)} ({type(value).__name__}): expected a "
                          f"number {low:g}..{high:g}")
    if isinstance(value, float) and not math.isfinite(value):
        raise NumberError(f"{fact} is {value}: expected a finite number {low:g}..{high:g}")
    if not low <= value <= high:
        raise NumberError(f"{fact} is {shown(value)}: out of range, expected "
                          f"{low:g}..{high:g}")
    return float(value)


def integer(value: object, fact: str, *, low: int, high: int) -> int:
    """An integer already decoded from JSON (a port number): a real int, not a bool or a
    float, from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise NumberError(f"{fact} is {shown(value)} ({type(value).__name__}): expected a "
                          f"whole number {low}..{high}")
    if not low <= value <= high:
        raise NumberError(f"{fact} is {shown(value)}: out of range, expected {low}..{high}")
    return value


def saturating(digits: bytes, top: int) -> int:
    """C ``strtoull()`` of a run of ASCII digits: a value above ``top`` is ``top`` (ERANGE),
    decided without building a huge int."""
    digits = digits.lstrip(b"0") or b"0"
    if len(digits) > _MAX_DIGITS:
        return top
    return min(int(digits), top)


def _span(low: int, high: int, base: int) -> str:
    if base == 8:
        return f"{low:o}..{high:o} (octal)"
    return f"{low}..{high}"
