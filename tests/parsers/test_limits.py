"""pam_limits re-enactment: priorities, file order, Debian's root rule, dirty input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from jada_checks.parsers.limits import (
    RLIM_INFINITY,
    Identity,
    becomes_nr_open,
    entries,
    evaluate,
    limits_order,
    nofile_value,
    strtoul,
)
from tests.support.paths import DATA

DEBIAN_CONF = (DATA / "limits.conf.debian12").read_bytes()
JADA = Identity("jada", 990, 990, frozenset({990, 27}), frozenset({"jada", "sudo"}))
ROOT = Identity("root", 0, 0, frozenset({0}), frozenset({"root"}))
NR_OPEN = 1048576
CONF = "/etc/security/limits.conf"


def ev(files: dict[str, bytes], who: Identity = JADA, debian: bool = True):
    return evaluate({CONF: DEBIAN_CONF, **files}, who, NR_OPEN, debian=debian)


def nofile(res) -> tuple[int | None, int | None]:
    return res.limits["nofile"].soft.value, res.limits["nofile"].hard.value


def test_debian_default_limits_conf_sets_nothing() -> None:
    res = evaluate({CONF: DEBIAN_CONF}, JADA, NR_OPEN)
    assert nofile(res) == (None, None)
    assert res.limits["nproc"].hard.entry is None
    assert res.skipped == []  # only comments


def test_limits_d_read_after_limits_conf_in_c_order() -> None:
    order = limits_order(["/etc/security/limits.d/b.conf", "/etc/security/limits.d/B.conf",
                          CONF, "/etc/security/limits.d/a.conf",
                          "/etc/security/limits.d/.hidden.conf",
                          "/etc/security/limits.d/x.conf.dpkg-old"])
    assert order == [CONF, "/etc/security/limits.d/B.conf", "/etc/security/limits.d/a.conf",
                     "/etc/security/limits.d/b.conf"]


def test_user_beats_group_beats_star_regardless_of_order() -> None:
    res = ev({"/etc/security/limits.d/10.conf": b"jada - nofile 4000\n",
              "/etc/security/limits.d/20.conf": b"@sudo - nofile 5000\n* - nofile 6000\n"})
    assert nofile(res) == (4000, 4000)
    assert res.limits["nofile"].hard.entry.where == "/etc/security/limits.d/10.conf:1"


def test_later_entry_of_same_priority_wins() -> None:
    res = ev({"/etc/security/limits.d/10.conf": b"jada hard nofile 4000\n",
              "/etc/security/limits.d/20.conf": b"jada hard nofile 9000\n"})
    assert res.limits["nofile"].hard.value == 9000
    assert res.limits["nofile"].hard.entry.path.endswith("20.conf")


def test_group_overrides_earlier_star() -> None:
    res = ev({"/etc/security/limits.d/a.conf": b"* soft nofile 100\n@sudo soft nofile 200\n"})
    assert res.limits["nofile"].soft.value == 200


def test_star_and_groups_do_not_apply_to_root_on_debian() -> None:
    files = {"/etc/security/limits.d/a.conf": b"* - nofile 100\n@root - nofile 200\n"}
    assert nofile(ev(files, ROOT)) == (None, None)
    assert nofile(ev(files, ROOT, debian=False)) == (200, 200)
    both = {"/etc/security/limits.d/a.conf": b"* - nofile 100\nroot - nofile 300\n"}
    assert nofile(ev(both, ROOT)) == (300, 300)


def test_percent_domains_are_maxlogins_only() -> None:
    assert nofile(ev({"/etc/security/limits.d/a.conf": b"%sudo - nofile 100\n"})) == (None, None)


def test_uid_and_gid_ranges() -> None:
    def soft(domain: bytes) -> int | None:
        f = {"/etc/security/limits.d/a.conf": domain + b" soft nofile 111\n"}
        return ev(f).limits["nofile"].soft.value

    assert soft(b"900:1000") == 111
    assert soft(b"991:") is None
    assert soft(b"990:") == 111
    assert soft(b":990") == 111
    assert soft(b":991") is None
    assert soft(b"@900:1000") == 111  # primary gid 990
    assert soft(b"@:27") == 111  # supplementary gid, exact match
    assert soft(b"@27:30") is None  # ranges look at the primary gid only
    assert soft(b"abc:10") is None  # invalid range: line skipped


def test_unlimited_nofile_means_nr_open() -> None:
    for word in (b"unlimited", b"infinity", b"-1", b"-", b"UNLIMITED"):
        res = ev({"/etc/security/limits.d/a.conf": b"jada hard nofile " + word + b"\n"})
        assert res.limits["nofile"].hard.value == NR_OPEN
        assert res.limits["nofile"].hard.infinite
    res = ev({"/etc/security/limits.d/a.conf": b"jada hard nproc unlimited\n"})
    assert res.limits["nproc"].hard.value == RLIM_INFINITY


def test_strtoull_quirks() -> None:
    assert strtoul(b"12abc") == (12, 2)
    assert strtoul(b"abc") == (0, 0)
    assert strtoul(b"-5")[0] == 2**64 - 5
    assert strtoul(b"99999999999999999999999")[0] == 2**64 - 1
    res = ev({"/etc/security/limits.d/a.conf": b"jada soft nofile abc\njada soft nofile 7x\n"})
    assert res.limits["nofile"].soft.value == 7
    assert any("wrong limit value" in s for s in res.skipped)


def test_values_strtoull_saturates_become_nr_open_like_unlimited() -> None:
    """process_limit() checks only "0 and nothing parsed", never errno: ERANGE gives
    ULLONG_MAX == RLIM_INFINITY, which nofile replaces with fs.nr_open."""
    for value in (b"99999999999999999999", b"18446744073709551615", b"18446744073709551616",
                  b"-99999999999999999999"):
        res = ev({"/etc/security/limits.d/a.conf": b"jada hard nofile " + value + b"\n"})
        assert res.limits["nofile"].hard.value == NR_OPEN, value
        assert not res.limits["nofile"].hard.infinite  # written as a number
        (e,) = entries({"/etc/security/limits.d/a.conf": b"jada hard nofile " + value + b"\n"})
        parsed = nofile_value(e)
        assert parsed is not None and becomes_nr_open(parsed[0]), value
    (e,) = entries({CONF: b"jada hard nofile 18446744073709551614\n"})  # one below: stays
    parsed = nofile_value(e)
    assert parsed == (2**64 - 2, False) and not becomes_nr_open(parsed[0])


def test_dash_line_stops_everything() -> None:
    res = ev({"/etc/security/limits.d/a.conf": b"jada -\n",
              "/etc/security/limits.d/b.conf": b"jada - nofile 5\n"})
    assert res.disabled_by is not None and res.disabled_by.line == 1
    assert nofile(res) == (None, None)
    other = ev({"/etc/security/limits.d/a.conf": b"* -\njada - nofile 5\n"})
    assert other.disabled_by is None and nofile(other) == (5, 5)  # "* -" never matches


def test_lost_soft_side_skips_hard_side_of_dash_entry() -> None:
    res = ev({"/etc/security/limits.d/a.conf": b"jada soft nofile 10\n* - nofile 20\n"})
    assert nofile(res) == (10, None)


def test_soft_above_hard_is_lowered_at_session() -> None:
    res = ev({"/etc/security/limits.d/a.conf": b"jada soft nofile 900\njada hard nofile 500\n"})
    assert res.limits["nofile"].session_pair() == (500, 500)


def test_crlf_tabs_comments_and_case() -> None:
    text = b"# comment\r\n\tJADA soft nofile 1\r\njada\tSOFT\tNOFILE\t2048 # trailing\r\n\r\n"
    res = ev({"/etc/security/limits.d/a.conf": text})
    assert res.limits["nofile"].soft.value == 2048
    assert res.limits["nofile"].soft.entry.line == 3


def test_garbage_and_non_utf8_lines_are_skipped() -> None:
    text = b"\xff\xfe garbage\n\x00jada - nofile 5\njada - nofile 6\x00 7\njada - \xe9 1\n"
    res = ev({"/etc/security/limits.d/a.conf": text})
    assert nofile(res) == (6, 6)  # a NUL ends the C string
    assert res.skipped


def test_long_lines_are_cut_like_fgets() -> None:
    # fgets(buf, 1024) hands the tail of a long line over as a line of its own
    res = ev({"/etc/security/limits.d/a.conf": b" " * 1030 + b"jada - nofile 5\n"})
    assert nofile(res) == (5, 5)
    res = ev({"/etc/security/limits.d/a.conf": b"#" + b"x" * 1022 + b"jada - nofile 6\n"})
    assert nofile(res) == (6, 6)  # the tail of a long comment is not a comment any more


def test_entries_and_nofile_value() -> None:
    files = {CONF: b"@x hard nofile 2000000\n%g - nofile 9\n* soft nofile unlimited\n"
                   b"* bogus nofile 1\n"}
    found = [(e.line, nofile_value(e)) for e in entries(files)]
    assert found == [(1, (2000000, False)), (2, None), (3, (RLIM_INFINITY, True)), (4, None)]


@given(st.binary(max_size=2000))
def test_never_raises_and_unknown_stays_unset(data: bytes) -> None:
    res = evaluate({CONF: data}, JADA, NR_OPEN)
    for item in ("nofile", "nproc"):
        for side in (res.limits[item].soft, res.limits[item].hard):
            assert (side.value is None) == (side.entry is None)
    for e in entries({CONF: data}):
        nofile_value(e)


@given(st.lists(st.sampled_from([b"jada", b"*", b"@sudo", b"root", b"990:", b"%x", b"@:27"]),
                min_size=1, max_size=6),
       st.lists(st.integers(min_value=0, max_value=10**7), min_size=6, max_size=6))
def test_winner_is_last_of_highest_priority(domains: list[bytes], values: list[int]) -> None:
    pairs = zip(domains, values[:len(domains)], strict=True)
    lines = [d + b" hard nofile " + str(v).encode() for d, v in pairs]
    res = ev({"/etc/security/limits.d/a.conf": b"\n".join(lines) + b"\n"})
    prio = {b"jada": 0, b"990:": 0, b"@sudo": 1, b"@:27": 1, b"*": 4}
    applicable = [(prio[d], i) for i, d in enumerate(domains) if d in prio]
    hard = res.limits["nofile"].hard
    if not applicable:
        assert hard.value is None
    else:
        best = min(p for p, _ in applicable)
        last = max(i for p, i in applicable if p == best)
        assert hard.value == values[last] and hard.entry.line == last + 1
