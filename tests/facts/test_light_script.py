"""Issue 25: the light fact script gathers the same facts as the old one, on every host.

The old script is frozen (tests/data/fact_script/, main at 634bbe9); the new one is
today's ``build_script``. Both run on every sandbox host, one right after the other, over
the suite's own SSH path, once as the profile logs in (root) and, on hosts with an audit
user, as that user through sudo; their answers and every host control's outcome on them
must be the same (tests/support/fact_compare.py says what is normalised, and why).
The pure tests below prove the comparator can fail.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from jada_checks.facts.host import Section
from jada_checks.facts.remote import Unreachable
from tests.support.fact_compare import (
    RULES,
    Rule,
    asked,
    compare_hosts,
    differences,
    normalise,
)
from tests.support.fact_scripts import OLD_SHA256, Answer, old_digest, old_script
from tests.support.sandbox_harness import SCRATCH, SandboxHarness, all_host_dirs

# fault-hang's getent sleeps 600 s: every script there times out, by design
# (tests/facts/test_faults_ssh.py); the scratch hosts are copies of compliant.
NOT_COMPARED = {"fault-hang", *SCRATCH}


def test_old_and_new_scripts_give_the_same_facts_on_every_host(
        sandbox: SandboxHarness, tmp_path: Path) -> None:
    hosts = sorted(h for h in all_host_dirs() if h not in NOT_COMPARED)
    assert len(hosts) >= 60, hosts
    found = compare_hosts(sandbox, hosts, tmp_path)
    assert not found, "\n".join(found)


# -- the comparator itself (no host) ------------------------------------------------------

def test_the_old_script_is_the_frozen_one() -> None:
    assert old_digest() == OLD_SHA256, "tests/data/fact_script/ must never be edited"
    script = old_script("a b.service", sudo=True)
    assert script.startswith("UNIT='a b.service'\nJADA_SUDO=1\nexport LC_ALL=C\n")
    assert old_script("x.service", sudo=False).startswith("UNIT=x.service\nJADA_SUDO=\n")
    assert "\n#" not in script.split("export LC_ALL=C", 1)[0]  # the header is dropped


def _answer(**sections: tuple[int, str, str]) -> Answer:
    return Answer(0, "", {n: Section(n, rc, out, err) for n, (rc, out, err) in sections.items()})


BASE = {"unit_show": (0, "MainPID=35\nNRestarts=0\n", ""),
        "hc_uptime": (0, "21850.06 42992.15\n", ""),
        "hc_journal": (0, "now 1796578448\naccess full\nlast 1796578423.253392\n", ""),
        "hc_sysctl_runtime": (0, "V host fs/nr_open 1048576\n"
                                 "V host fs/file-nr 25841\t0\t2466246\n", ""),
        "hc_unit_procs": (0, "P 35 60 16384 python3\n", "@@JADA-REFUSED ls: no\n")}


def _changed(name: str, rc: int | None = None, out: str | None = None,
             err: str | None = None) -> Answer:
    old = BASE[name]
    return _answer(**{**BASE, name: (old[0] if rc is None else rc,
                                     old[1] if out is None else out,
                                     old[2] if err is None else err)})


def test_values_that_move_on_their_own_are_no_difference() -> None:
    later = _answer(**{**BASE,
                       "hc_uptime": (0, "21856.12 42993.59\n", ""),
                       "hc_journal": (0, "now 1796578453\naccess full\n"
                                         "last 1796578423.253392\n", ""),
                       "hc_sysctl_runtime": (0, "V host fs/nr_open 1048576\n"
                                                "V host fs/file-nr 25775\t0\t2466246\n", "")})
    assert differences("h", _answer(**BASE), later) == []


@pytest.mark.parametrize(("changed", "message"), [
    (_changed("unit_show", out="MainPID=36\nNRestarts=0\n"),
     "h unit_show: stdout line 1: old 'MainPID=35' / new 'MainPID=36'"),
    (_changed("hc_unit_procs", out="P 35 61 16384 python3\n"),  # an fd count is a fact
     "h hc_unit_procs: stdout line 1: old 'P 35 60 16384 python3' / "
     "new 'P 35 61 16384 python3'"),
    (_answer(**{k: v for k, v in BASE.items() if k != "hc_journal"}),
     "h hc_journal: missing from the new script's answer"),
    (_answer(**BASE, extra=(0, "", "")), "h extra: only in the new script's answer"),
    (_changed("unit_show", rc=1), "h unit_show: exit status old 0 / new 1"),
    (_changed("hc_unit_procs", err="@@JADA-REFUSED ls: yes\n"),
     "h hc_unit_procs: stderr line 1: old '@@JADA-REFUSED ls: no' / "
     "new '@@JADA-REFUSED ls: yes'"),
    (_changed("hc_unit_procs", out="P 35 60 16384 python3\nP 43 3 16384 claude\n"),
     "h hc_unit_procs: stdout line 2: old (no line) / new 'P 43 3 16384 claude'"),
    # a normalised field still must have its shape, and the rest of its line is compared
    (_changed("hc_uptime", out="garbage\n"),
     "h hc_uptime: stdout line 1: old '0.00 0.00' / new 'garbage'"),
    (_changed("hc_journal", out="now 1796578448\naccess limited\nlast 1796578423.253392\n"),
     "h hc_journal: stdout line 2: old 'access full' / new 'access limited'"),
    (_changed("hc_journal", out="now 1796578448\naccess full\nlast -\n"),
     "h hc_journal: stdout line 3: old 'last 1796578423.253392' / new 'last -'"),
    (_changed("hc_sysctl_runtime", out="V host fs/nr_open 1048576\n"
                                       "V host fs/file-nr 25841\t0\t9\n"),
     "h hc_sysctl_runtime: stdout line 2: old 'V host fs/file-nr 0\\t0\\t2466246' / "
     "new 'V host fs/file-nr 0\\t0\\t9'"),
], ids=["value", "fd-count", "missing", "extra", "rc", "stderr", "one-more-line",
        "uptime-shape", "journal-access", "journal-last", "file-max"])
def test_every_other_change_is_a_difference(changed: Answer, message: str) -> None:
    assert differences("h", _answer(**BASE), changed) == [message]


def test_the_script_status_and_its_own_stderr_are_compared() -> None:
    base = _answer(**BASE)
    assert differences("h", base, Answer(2, "", base.sections)) == \
        ["h: the script's exit status: old 0 / new 2"]
    assert differences("h", base, Answer(0, "bash: x: unbound\n", base.sections)) == \
        ["h: stderr outside the sections, line 1: old (no line) / new 'bash: x: unbound'"]


def test_each_rule_is_one_field_with_its_reason() -> None:
    for rule in RULES:
        assert len(rule.reason) > 20, rule
        assert rule.line.groupindex, rule  # a field, never a whole line or section
        assert not re.search(r"\.\*|\\S\*|\.\+", rule.line.pattern), rule
    one = Rule("s", re.compile(r"a (?P<v>\d+) b"), "0", "why")
    sec = {"s": Section("s", 0, "a 12 b\na 12 c\n", ""), "t": Section("t", 0, "a 12 b\n", "")}
    got = normalise(sec, (one,))
    assert (got["s"].out, got["t"].out) == ("a 0 b\na 12 c\n", "a 12 b\n")


def test_a_failed_login_is_tried_once_more_then_raised() -> None:
    calls: list[str] = []
    answer = _answer(**BASE)

    def flaky(target: object, script: str) -> Answer:
        calls.append(script)
        if len(calls) == 1:
            raise Unreachable("connection closed by the target")
        return answer

    assert asked(flaky, None, "s") is answer and calls == ["s", "s"]

    def down(target: object, script: str) -> Answer:
        calls.append(script)
        raise Unreachable("connection refused (sshd not running?)")

    calls.clear()
    with pytest.raises(Unreachable, match="connection refused"):
        asked(down, None, "s")
    assert calls == ["s", "s"]


@pytest.mark.sandbox_hosts("compliant")
def test_the_unit_object_path_is_the_one_load_unit_answers(sandbox: SandboxHarness) -> None:
    """The cfg sections' one busctl asks the object path the script computes from the unit
    name; systemd's LoadUnit answers the same path for every valid name (a unit it loads,
    or one not found), so the properties are the unit's as the sections read them before."""
    from jada_checks.facts import cfg_probes

    names = ["jada-agent.service", "a@b.service", "x1-2_3.service", "2go.service",
             "a.b:c.service", "foo\\x2dbar.service", "Z9.socket", "user-0.slice"]
    script = cfg_probes.BUS.split("\nCFG_BUS=")[0] + "\n" + "".join(
        f"jada_bus_path {shlex.quote(n)}; echo \"$JADA_BUS_PATH\"\n"
        f"busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 "
        f"org.freedesktop.systemd1.Manager LoadUnit s {shlex.quote(n)}\n" for n in names)
    lines = sandbox.ssh("compliant", f"bash -c {shlex.quote(script)}").splitlines()
    assert len(lines) == 2 * len(names), lines
    for name, ours, theirs in zip(names, lines[::2], lines[1::2], strict=True):
        assert theirs == f'o "{ours}"', name
