"""fs.nr_open after the next boot: the ceiling a nofile limit must fit then, not just now.

A value written with ``sysctl -w fs.nr_open=...`` lasts until reboot. At boot the kernel
starts from its default and systemd-sysctl writes the sysctl.d assignment, if any
(:mod:`jada_checks.parsers.sysctl` resolves which one):

* Kernel default ``sysctl_nr_open = 1024*1024`` (fs/file.c). Debian 12's systemd 252 is
  built without ``bump-proc-sys-fs-nr-open``, so PID 1 does not raise it (its binary has
  no "bump fs.nr_open" message; it has the one for fs.file-max). Where PID 1 does raise it
  (Fedora, Arch), the real boot value is higher than assumed here: that can only make a
  check stricter, never pass a limit that breaks.
* The write goes through ``proc_dointvec_minmax`` (fs/file_table.c; kernel/sysctl.c
  before 6.x): leading blanks skipped, an optional ``-``, a number in C base-0 syntax
  (``0x`` hex, leading ``0`` octal) followed by a blank or the end, which must lie in
  ``[sysctl_nr_open_min, sysctl_nr_open_max]`` = [64, 2147483584] on 64-bit. Anything
  else is EINVAL: systemd-sysctl logs it and the kernel default stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jada_checks.parsers.boot_sysctl import BootFacts, cmdline_sysctls
from jada_checks.parsers.numbers import NR_OPEN_MAX
from jada_checks.parsers.sysctl import Resolution

KEY = "fs/nr_open"
KERNEL_DEFAULT = 1024 * 1024
NR_OPEN_MIN = 64  # BITS_PER_LONG
# NR_OPEN_MAX = 2147483584: min(INT_MAX, SIZE_MAX / sizeof(void *)) & -BITS_PER_LONG
_NUMBER = re.compile(r"(-?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")


def kernel_accepts(text: str) -> int | None:
    """The value the kernel stores when ``text`` is written to fs.nr_open; None: EINVAL."""
    tokens = text.split()
    m = _NUMBER.fullmatch(tokens[0]) if tokens else None
    if m is None:
        return None
    sign, digits = m.groups()
    hexadecimal = digits[:2].lower() == "0x"
    if len((digits[2:] if hexadecimal else digits).lstrip("0")) > 22:
        return None  # beyond 64 bits: the kernel's parser overflows (EINVAL); no huge int()
    if hexadecimal:
        value = int(digits, 16)
    else:
        value = int(digits, 8 if digits.startswith("0") else 10)
    if sign:
        value = -value
    return value if NR_OPEN_MIN <= value <= NR_OPEN_MAX else None


@dataclass(frozen=True)
class BootNrOpen:
    value: int
    where: str  # file:line of the assignment systemd-sysctl writes, or why it is the default

    def __str__(self) -> str:
        return f"{self.value} ({self.where})"


def _before_sysctl_d(facts: BootFacts | None) -> BootNrOpen:
    """fs.nr_open when systemd-sysctl starts: ``sysctl.fs.nr_open=`` on the kernel command
    line (Linux 5.8+) if the kernel accepts it, else the kernel default."""
    k = facts.kernel() if facts else None
    if facts is not None and k is not None and k >= (5, 8):
        raw = cmdline_sysctls(facts.cmdline).get(KEY)
        if raw is not None:
            value = kernel_accepts(raw)
            if value is not None:
                return BootNrOpen(value, f"kernel command line sysctl.fs.nr_open={raw} "
                                         "(/proc/cmdline, applied before init since Linux 5.8)")
    return BootNrOpen(KERNEL_DEFAULT, "kernel default, fs/file.c")


def nr_open_at_boot(res: Resolution, facts: BootFacts | None = None) -> BootNrOpen:
    """fs.nr_open once systemd-sysctl has run at the next boot."""
    a = res.boot_value(KEY)
    base = _before_sysctl_d(facts)
    if a is None or a.value is None:
        return BootNrOpen(base.value, f"{base.where}: no sysctl.d file sets fs.nr_open")
    value = kernel_accepts(a.value)
    if value is None:
        return BootNrOpen(base.value, f"{base.where}: 'fs.nr_open = {a.value[:40]}' at "
                                      f"{a.where} is refused with EINVAL (not an integer "
                                      f"in {NR_OPEN_MIN}..{NR_OPEN_MAX})")
    return BootNrOpen(value, a.where)
