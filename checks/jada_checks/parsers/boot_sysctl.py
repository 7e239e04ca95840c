"""What a boot gives a sysctl: sysctl.d, else ``sysctl.*=`` on the kernel command line,
else the kernel's own default. A runtime value equal to it is not lost on reboot.

Order at boot:

1. The kernel's default, set when the value's table (or network namespace) is made:
   ``fs.nr_open`` 1048576 (``sysctl_nr_open``, fs/file.c); ``net.core.somaxconn``
   ``SOMAXCONN``, 4096 since Linux 5.4 (commit 19f92a030ca6, include/linux/socket.h),
   128 before; ``net.ipv4.tcp_max_syn_backlog`` ``max(128, ehash buckets / 128)``
   (``tcp_sk_init()``, net/ipv4/tcp_ipv4.c), where the bucket count is
   ``/proc/sys/net/ipv4/tcp_ehash_entries`` (Linux 6.1+; negative: the namespace shares
   the initial namespace's table of that size, Documentation/networking/ip-sysctl.rst).
2. ``sysctl.KEY=VALUE`` on the kernel command line (Linux 5.8+, commit 3db978d480e2,
   ``do_sysctl_args()``, fs/proc/proc_sysctl.c): written "right before loading the init
   process, as if the value was written to the respective /proc/sys/... file"
   (Documentation/admin-guide/kernel-parameters.txt); '.' and '/' both separate; what
   follows ``--`` belongs to init. It reaches the initial namespaces only, so a ``net.*``
   key inside a container (its own network namespace) does not get it.
3. systemd-sysctl writes the sysctl.d assignment (:mod:`jada_checks.parsers.sysctl`).
   systemd 252's systemd-sysctl does not read the kernel command line (only the
   ``sysctl.extra`` credential, not modelled here).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from jada_checks.parsers.numbers import whole_or_none
from jada_checks.parsers.sysctl import normalize

SOMAXCONN_NEW, SOMAXCONN_OLD = 4096, 128
NR_OPEN_DEFAULT = 1024 * 1024
_RELEASE = re.compile(r"^(\d+)\.(\d+)")


@dataclass(frozen=True)
class BootFacts:
    """What the target says about its kernel: release, command line, container, TCP table."""

    release: str = ""
    cmdline: str = ""
    container: str = "none"  # systemd-detect-virt --container
    ehash_entries: int | None = None  # /proc/sys/net/ipv4/tcp_ehash_entries, absolute

    def kernel(self) -> tuple[int, int] | None:
        m = _RELEASE.match(self.release)
        return (int(m.group(1)), int(m.group(2))) if m else None


@dataclass(frozen=True)
class BootValue:
    value: int | None  # None: unknown (the message says why in ``where``)
    where: str

    def __str__(self) -> str:
        return f"{self.value} ({self.where})"


def parse_boot_facts(text: str) -> BootFacts:
    """The probe's ``release``/``cmdline``/``container``/``ehash`` lines."""
    got: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        got[key] = value.strip()
    ehash = got.get("ehash", "")
    n = whole_or_none(ehash.lstrip("-"), high=2**31) if ehash else None
    return BootFacts(release=got.get("release", ""), cmdline=got.get("cmdline", ""),
                     container=got.get("container", "none") or "none", ehash_entries=n)


def cmdline_sysctls(cmdline: str) -> dict[str, str]:
    """``sysctl.*`` options of a kernel command line, the last one of a key winning (the
    kernel writes them in order); normalized keys (net/core/somaxconn)."""
    try:
        words = shlex.split(cmdline)  # the kernel's next_arg() honours double quotes
    except ValueError:
        words = cmdline.split()
    out: dict[str, str] = {}
    for word in words:
        if word == "--":
            break
        name, sep, value = word.partition("=")
        # process_sysctl_arg(): "sysctl" then '.' or '/', then the path with '.' -> '/'
        if sep and name[:7] in ("sysctl.", "sysctl/") and len(name) > 7:
            out[normalize(name[7:].replace(".", "/"))] = value
    return out


def kernel_default(key: str, facts: BootFacts) -> BootValue:
    """The value the kernel gives ``key`` before anyone writes it."""
    key = normalize(key)
    if key == "fs/nr_open":
        return BootValue(NR_OPEN_DEFAULT, "kernel default, fs/file.c sysctl_nr_open")
    if key == "net/core/somaxconn":
        k = facts.kernel()
        if k is None:
            return BootValue(None, f"kernel release {facts.release[:40]!r} unreadable, so "
                                   "SOMAXCONN (4096 since 5.4, 128 before) is unknown")
        if k >= (5, 4):
            return BootValue(SOMAXCONN_NEW, f"kernel default SOMAXCONN since Linux 5.4 "
                                            f"(include/linux/socket.h; kernel {facts.release})")
        return BootValue(SOMAXCONN_OLD, f"kernel default SOMAXCONN before Linux 5.4 "
                                        f"(kernel {facts.release})")
    if key == "net/ipv4/tcp_max_syn_backlog":
        if facts.ehash_entries is None:
            return BootValue(None, "kernel default max(128, TCP ehash buckets / 128) unknown: "
                                   "/proc/sys/net/ipv4/tcp_ehash_entries (Linux 6.1+) unreadable")
        return BootValue(max(128, facts.ehash_entries // 128),
                         f"kernel default max(128, {facts.ehash_entries} TCP ehash buckets / "
                         "128), tcp_sk_init() in net/ipv4/tcp_ipv4.c")
    return BootValue(None, f"no kernel default known for {key.replace('/', '.')}")


def before_sysctl_d(key: str, facts: BootFacts) -> BootValue:
    """The value ``key`` has when systemd-sysctl starts: the command line's, else the
    kernel default. Strings that are not plain integers are left to the caller."""
    key = normalize(key)
    k = facts.kernel()
    in_init_ns = not key.startswith("net/") or facts.container == "none"
    if k is not None and k >= (5, 8) and in_init_ns:
        value = cmdline_sysctls(facts.cmdline).get(key)
        if value is not None:
            n = whole_or_none(value)
            if n is not None:
                return BootValue(n, f"kernel command line sysctl.{key.replace('/', '.')}="
                                    f"{value} (/proc/cmdline; Linux 5.8+ applies it before init)")
    return kernel_default(key, facts)
