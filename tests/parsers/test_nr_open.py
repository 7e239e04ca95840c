"""fs.nr_open after the next boot: the sysctl.d value the kernel accepts, else its default."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from jada_checks.parsers.nr_open import (
    KERNEL_DEFAULT,
    NR_OPEN_MAX,
    NR_OPEN_MIN,
    kernel_accepts,
    nr_open_at_boot,
)
from jada_checks.parsers.sysctl import SYSCTL_DIRS, resolve


def boot(files: dict[str, bytes | None]):
    listing: dict[str, list[str]] = {d: [] for d in SYSCTL_DIRS}
    for path in files:
        d, _, name = path.rpartition("/")
        listing[d].append(name)
    return nr_open_at_boot(resolve([(d, listing[d]) for d in SYSCTL_DIRS], files))


def test_not_set_anywhere_is_the_kernel_default() -> None:
    got = boot({"/etc/sysctl.d/60-jada.conf": b"net.core.somaxconn = 8192\n"})
    assert got.value == KERNEL_DEFAULT == 1048576
    assert str(got) == "1048576 (kernel default, fs/file.c: no sysctl.d file sets fs.nr_open)"


def test_the_assignment_systemd_sysctl_applies_last_wins() -> None:
    got = boot({"/usr/lib/sysctl.d/50-vendor.conf": b"fs.nr_open = 2097152\n",
                "/etc/sysctl.d/90-local.conf": b"# raise\nfs/nr_open=524288\r\n"})
    assert got.value == 524288 and got.where == "/etc/sysctl.d/90-local.conf:2"
    masked = boot({"/usr/lib/sysctl.d/50-x.conf": b"fs.nr_open = 2097152\n",
                   "/etc/sysctl.d/50-x.conf": b""})  # a same-named /dev/null symlink masks
    assert masked.value == KERNEL_DEFAULT


def test_values_the_kernel_refuses_leave_the_default() -> None:
    for bad in ("4294967296", "2147483585", "63", "0", "-1", "1e6", "1048576abc", "08",
                "99999999999999999999", ""):
        got = boot({"/etc/sysctl.d/70-x.conf": f"fs.nr_open = {bad}\n".encode()})
        assert got.value == KERNEL_DEFAULT, bad
        assert "/etc/sysctl.d/70-x.conf:1 is refused with EINVAL" in got.where, bad


def test_kernel_number_syntax() -> None:
    """proc_dointvec_minmax: C base 0 (hex, octal), a blank ends the number."""
    assert kernel_accepts("524288") == 524288
    assert kernel_accepts("0x80000") == 524288
    assert kernel_accepts("02000000") == 524288
    assert kernel_accepts("  2097152\t") == 2097152
    assert kernel_accepts("100 200") == 100
    assert kernel_accepts(str(NR_OPEN_MIN)) == NR_OPEN_MIN
    assert kernel_accepts(str(NR_OPEN_MAX)) == NR_OPEN_MAX == 2147483584


@given(st.text(max_size=40))
def test_anything_accepted_is_in_the_kernels_range(text: str) -> None:
    value = kernel_accepts(text)
    assert value is None or NR_OPEN_MIN <= value <= NR_OPEN_MAX
