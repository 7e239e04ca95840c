"""systemd-sysctl re-enactment: directory precedence, name order, last wins, dirty input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from jada_checks.parsers.sysctl import (
    SYSCTL_DIRS,
    normalize,
    parse_file,
    read_lines,
    read_lines_slowly,
    resolve,
)
from tests.support.paths import DATA

DEBIAN_SYSCTL_CONF = (DATA / "sysctl.conf.debian12").read_bytes()
KEY = "net.core.somaxconn"


def res(files: dict[str, bytes | None]):
    listing: dict[str, list[str]] = {d: [] for d in SYSCTL_DIRS}
    for path in files:
        d, _, name = path.rpartition("/")
        listing[d].append(name)
    return resolve([(d, listing[d]) for d in SYSCTL_DIRS], files)


def test_normalize_follows_the_first_separator() -> None:
    assert normalize("net.core.somaxconn") == "net/core/somaxconn"
    assert normalize("net/core/somaxconn") == "net/core/somaxconn"
    assert normalize("net.ipv4.conf.enp3s0/200.forwarding") == "net/ipv4/conf/enp3s0.200/forwarding"
    assert normalize("net/ipv4/conf/enp3s0.200/forwarding") == "net/ipv4/conf/enp3s0.200/forwarding"
    assert normalize("/net//core/somaxconn/") == "net/core/somaxconn"


def test_debian_sysctl_conf_through_symlink_sets_nothing() -> None:
    r = res({"/etc/sysctl.d/99-sysctl.conf": DEBIAN_SYSCTL_CONF})
    assert r.boot_value(KEY) is None and r.warnings == []


def test_last_assignment_in_name_order_across_directories_wins() -> None:
    r = res({"/usr/lib/sysctl.d/90-vendor.conf": b"net.core.somaxconn = 100\n",
             "/etc/sysctl.d/60-jada.conf": b"net.core.somaxconn = 8192\n",
             "/run/sysctl.d/70-run.conf": b"net/core/somaxconn=300\n"})
    got = r.boot_value(KEY)
    assert got is not None and got.value == "100"
    assert got.where == "/usr/lib/sysctl.d/90-vendor.conf:1"
    assert r.files == ["/etc/sysctl.d/60-jada.conf", "/run/sysctl.d/70-run.conf",
                       "/usr/lib/sysctl.d/90-vendor.conf"]


def test_same_name_in_earlier_directory_masks() -> None:
    r = res({"/usr/lib/sysctl.d/50-x.conf": b"net.core.somaxconn = 100\n",
             "/etc/sysctl.d/50-x.conf": b""})  # e.g. a symlink to /dev/null
    assert r.boot_value(KEY) is None
    assert r.files == ["/etc/sysctl.d/50-x.conf"]


def test_within_a_file_last_wins_and_identical_keeps_first() -> None:
    r = res({"/etc/sysctl.d/a.conf": b"net.core.somaxconn=1\nnet.core.somaxconn = 2\n",
             "/etc/sysctl.d/b.conf": b"net.core.somaxconn = 2\n"})
    got = r.boot_value(KEY)
    assert got is not None and got.value == "2" and got.where == "/etc/sysctl.d/a.conf:2"


def test_dash_prefix_comments_and_exclusions() -> None:
    r = res({"/etc/sysctl.d/a.conf": b"; semicolon comment\n# hash\n-net.core.somaxconn = 5\n"})
    got = r.boot_value(KEY)
    assert got is not None and got.value == "5" and got.ignore_failure
    g = res({"/etc/sysctl.d/a.conf": b"net.core.* = 7\n"})
    assert g.boot_value(KEY).value == "7"  # type: ignore[union-attr]
    assert g.boot_value("net.core.a.b") is None  # a glob does not cross '/'
    ex = res({"/etc/sysctl.d/a.conf": b"net.core.* = 7\n-net.core.somaxconn\n"})
    assert ex.boot_value(KEY) is None


def test_crlf_cr_and_nul_line_endings() -> None:
    assert read_lines("a\r\nb\n\rc\rd\0e\n\nf") == ["a", "b", "c", "d", "e", "", "f"]
    r = res({"/etc/sysctl.d/a.conf": b"x.y = 1\r\nnet.core.somaxconn = 4096\r\n"})
    got = r.boot_value(KEY)
    assert got is not None and got.value == "4096" and got.line == 2


def test_garbage_lines_warn_and_non_utf8_survives() -> None:
    assignments, warnings = parse_file("/etc/sysctl.d/a.conf", "garbage\n\udcff = 1\n")
    assert warnings and len(assignments) == 1
    r = res({"/etc/sysctl.d/a.conf": b"\xff\xfe\nnet.core.somaxconn = \xff\n"})
    got = r.boot_value(KEY)
    assert got is not None and got.value is not None and not got.value.isdigit()


def test_unreadable_file_is_reported() -> None:
    r = res({"/etc/sysctl.d/a.conf": None})
    assert r.unreadable == ["/etc/sysctl.d/a.conf"]


def test_only_conf_names_not_hidden() -> None:
    r = res({"/etc/sysctl.d/.a.conf": b"net.core.somaxconn = 1\n",
             "/etc/sysctl.d/b.conf.bak": b"net.core.somaxconn = 2\n"})
    assert r.boot_value(KEY) is None


@given(st.binary(max_size=1500), st.binary(max_size=300))
def test_never_raises(a: bytes, b: bytes) -> None:
    r = res({"/etc/sysctl.d/a.conf": a, "/usr/lib/sysctl.d/a.conf": b,
             "/run/sysctl.d/z.conf": a + b})
    got = r.boot_value(KEY)
    if got is not None:
        assert got.value is not None and got.path in r.files


@given(st.lists(st.tuples(st.sampled_from(["10", "50", "90"]),
                          st.sampled_from(SYSCTL_DIRS[:4]),
                          st.integers(min_value=0, max_value=99999)), max_size=8))
def test_result_is_from_the_last_applied_file(items: list[tuple[str, str, int]]) -> None:
    files: dict[str, bytes | None] = {}
    for name, d, v in items:
        files[f"{d}/{name}.conf"] = f"{KEY} = {v}\n".encode()
    r = res(files)
    got = r.boot_value(KEY)
    if not items:
        assert got is None
        return
    winner_name = max(name for name, _, _ in items)
    winner_dir = min((SYSCTL_DIRS.index(d), d) for name, d, _ in items if name == winner_name)[1]
    path = f"{winner_dir}/{winner_name}.conf"
    # the winner's value; an identical earlier assignment keeps its (earlier) location
    assert got is not None
    assert got.value == files[path].decode().split("= ")[1].strip()  # type: ignore[union-attr]
    assert got.path == path or r.files.index(got.path) < r.files.index(path)


@given(st.text(alphabet="ab=# \n\t"))
def test_read_lines_fast_path_equals_the_reference(text: str) -> None:
    assert read_lines(text) == read_lines_slowly(text)
