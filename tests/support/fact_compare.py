"""Compare two answers of the fact script (old vs new) from one host, seconds apart.

Everything is compared: the exit status and the stderr outside any section, every
section's presence, exit status, stdout and stderr lines (the order of the sections is
not a fact and is not compared), and what the controls make of them (:func:`outcomes`:
every host-side control of the catalogue run on each answer, through a real
:class:`~jada_checks.context.FactStore` holding that answer as the target's host facts).

Only values that change on their own between two runs a few seconds apart are
normalised, each by one :class:`Rule`: one field of one kind of line of one section,
replaced by a placeholder of the same shape (so the parsers still read it), the reason
beside it. A field that is not known to move is compared byte for byte.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jada_checks.facts.host import HostFacts, Section
from tests.support.fact_scripts import Answer

if TYPE_CHECKING:
    from tests.support.sandbox_harness import SandboxHarness

# Hosts compared at once: each waits mostly on ssh and on its host's bash.
THREADS = 6


@dataclass(frozen=True)
class Rule:
    """In stdout lines of ``section`` that match ``line`` in full, each named group's text
    becomes ``placeholder``; the rest of the line is compared as it is."""

    section: str
    line: re.Pattern[str]
    placeholder: str
    reason: str

    def apply(self, text: str) -> str:
        m = self.line.fullmatch(text)
        if m is None:
            return text
        out, at = [], 0
        for name in m.re.groupindex:
            start, end = m.span(name)
            out += [text[at:start], self.placeholder]
            at = end
        return "".join(out) + text[at:]


RULES: tuple[Rule, ...] = (
    Rule("hc_uptime", re.compile(r"(?P<up>\d+\.\d+) (?P<idle>\d+\.\d+)"), "0.00",
         "/proc/uptime: seconds since boot and summed idle seconds of all CPUs (proc(5)); "
         "both grow between two runs"),
    Rule("hc_journal", re.compile(r"now (?P<now>\d+)"), "0",
         "date +%s when the probe ran: the clock"),
    Rule("hc_sysctl_runtime",
         re.compile(r"V (?:host|service) fs/file-nr (?P<allocated>\d+)\t\d+\t\d+"), "0",
         "fs.file-nr's first field is the number of file handles allocated in the whole "
         "kernel (Documentation/admin-guide/sysctl/fs.rst), which every process of this "
         "machine moves; its other two fields are compared"),
)


def normalise(sections: dict[str, Section], rules: tuple[Rule, ...] = RULES
              ) -> dict[str, Section]:
    """The sections with every rule applied to its section's stdout lines."""
    out = dict(sections)
    for rule in rules:
        sec = out.get(rule.section)
        if sec is not None:
            lines = [rule.apply(ln) for ln in sec.out.split("\n")]
            out[rule.section] = replace(sec, out="\n".join(lines))
    return out


def first_difference(old: list[str], new: list[str]) -> str:
    """'line N: old '...' / new '...'' at the first line where the two differ."""
    for i in range(max(len(old), len(new))):
        a = old[i] if i < len(old) else None
        b = new[i] if i < len(new) else None
        if a != b:
            return (f"line {i + 1}: old {_show(a)} / new {_show(b)}")
    return "no difference"


def _show(line: str | None) -> str:
    return "(no line)" if line is None else repr(line[:300])


def differences(host: str, old: Answer, new: Answer) -> list[str]:
    """Every difference between the two answers after :func:`normalise`, one message each,
    naming the host, the section and the first differing line of each side."""
    found = []
    if old.rc != new.rc:
        found.append(f"{host}: the script's exit status: old {old.rc} / new {new.rc}")
    if old.stderr != new.stderr:
        found.append(f"{host}: stderr outside the sections, "
                     + first_difference(old.stderr.splitlines(), new.stderr.splitlines()))
    a, b = normalise(old.sections), normalise(new.sections)
    for name in sorted(set(a) | set(b)):
        if name not in b:
            found.append(f"{host} {name}: missing from the new script's answer")
        elif name not in a:
            found.append(f"{host} {name}: only in the new script's answer")
        else:
            found += [f"{host} {name}: {d}" for d in _section_differences(a[name], b[name])]
    return found


def _section_differences(a: Section, b: Section) -> list[str]:
    found = []
    if a.rc != b.rc:
        found.append(f"exit status old {a.rc} / new {b.rc}")
    if a.out != b.out:
        found.append("stdout " + first_difference(_lines(a.out), _lines(b.out)))
    if a.err != b.err:
        found.append("stderr " + first_difference(_lines(a.err), _lines(b.err)))
    return found


def _lines(text: str) -> list[str]:
    """Lines as split_sections joined them (a final newline ends the last line)."""
    return text[:-1].split("\n") if text.endswith("\n") else text.split("\n")


def outcomes(target: Any, profile: Any, answer: Answer) -> dict[str, tuple[Any, ...]]:
    """Every host-side control's outcome (status, message, observed, expected, source) on
    this answer's normalised sections, or ('raised', type, message) for an exception, as
    the run would judge them: a real FactStore whose host facts for ``target`` are these
    (the store's own cache, filled once, as ``FactStore.host_facts`` fills it)."""
    from jada_checks.context import CheckContext, FactStore
    from jada_checks.controls import catalogue

    store = FactStore(profile)
    facts = HostFacts(normalise(answer.sections))
    store.cached("host", target, lambda: facts)
    ctx = CheckContext(target, store)
    judged: dict[str, tuple[Any, ...]] = {}
    for control in catalogue():
        if control.side != "host":
            continue
        try:
            o = control.check(ctx)
            judged[control.id] = (o.status, o.message, repr(o.observed), repr(o.expected),
                                  o.source)
        except Exception as exc:  # noqa: BLE001 - CheckError is the run's "error": compared
            judged[control.id] = ("raised", type(exc).__name__, str(exc))
    return judged


def outcome_differences(host: str, old: dict[str, tuple[Any, ...]],
                        new: dict[str, tuple[Any, ...]]) -> list[str]:
    return [f"{host} {cid}: old {_brief(old.get(cid))} / new {_brief(new.get(cid))}"
            for cid in sorted(set(old) | set(new)) if old.get(cid) != new.get(cid)]


def _brief(judged: tuple[Any, ...] | None) -> str:
    return "(not judged)" if judged is None else repr(judged)[:400]


@dataclass(frozen=True)
class Login:
    """One way the suite logs in to a host: the profile's own (root), or a host's audit
    user with ``ssh.sudo`` (the least-privilege path, whose root reads go through sudo)."""

    label: str
    target: Any  # jada_checks.profile.Target

    @property
    def unit(self) -> str:
        return str(self.target.expect["unit"])

    @property
    def sudo(self) -> bool:
        return bool(self.target.ssh.get("sudo"))


def logins(profile: Any, users: dict[str, list[str]]) -> list[Login]:
    """The profile's targets as they are, and as each of ``users[host]`` through sudo."""
    found = []
    for t in profile.targets:
        found.append(Login(t.name, t))
        for user in users.get(t.name, []):
            found.append(Login(f"{t.name} as {user} with sudo",
                               replace(t, ssh={**t.ssh, "user": user, "sudo": True})))
    return found


def compare_login(login: Login, profile: Any) -> list[str]:
    """Run the old script, then at once the new one, on one login and compare answers and
    outcomes. On a difference, the old script runs a second time: a difference that the
    two old runs show too moves on its own, and the message says so (add a :class:`Rule`
    for that field, with its reason, rather than ignore it)."""
    from jada_checks.facts.remote import Unreachable
    from tests.support.fact_scripts import new_script, old_script, run_script

    t, label = login.target, login.label
    try:
        old = asked(run_script, t, old_script(login.unit, sudo=login.sudo))
        new = asked(run_script, t, new_script(login.unit, sudo=login.sudo))
    except Unreachable as exc:  # never a pass: the host was not compared
        return [f"{label}: could not be asked twice in a row, nothing compared: {exc}"]
    found = differences(label, old, new) + outcome_differences(
        label, outcomes(t, profile, old), outcomes(t, profile, new))
    if not old.sections:
        found.append(f"{label}: the old script gave no sections (exit {old.rc}): "
                     f"{old.stderr.strip()[-300:]!r}; nothing was compared")
    if found:
        try:
            again = asked(run_script, t, old_script(login.unit, sudo=login.sudo))
        except Unreachable:
            return found  # the differences stand; only the diagnosis is missing
        moving = {_where(d) for d in differences(label, old, again)}
        found = [f"{d}  [the old script's two runs differ here too: it moves on its own]"
                 if _where(d) in moving else d for d in found]
    return found


def asked(run: Any, target: Any, script: str) -> Answer:
    """``run(target, script)``, once more after a failed login (Unreachable): on this
    2-core machine shared by many sandboxes a login can time out under load; that is no
    difference between the scripts, and a second failure is reported, never skipped."""
    from jada_checks.facts.remote import Unreachable

    try:
        return run(target, script)  # type: ignore[no-any-return]
    except Unreachable:
        time.sleep(1)
        return run(target, script)  # type: ignore[no-any-return]


def _where(difference: str) -> str:
    """A difference's place (host, section, stream, line), without the values."""
    return difference.split(" old ", 1)[0]


def compare_hosts(sandbox: SandboxHarness, hosts: list[str], tmp: Path) -> list[str]:
    """Old vs new on every login of ``hosts`` (root, and each host's ``ssh-users``
    through sudo), :data:`THREADS` logins at a time; every difference found."""
    from jada_checks.profile import load_profile
    from jada_checks.sandbox.hostdir import load_hostdir
    from tests.support.sandbox_harness import all_host_dirs

    profile = load_profile(sandbox.profile_for(hosts, tmp / "old-new.yaml"))
    every = all_host_dirs()
    users = {h: load_hostdir(h, every[h]).ssh_users for h in hosts if h in every}
    todo = logins(profile, users)
    assert len(todo) >= len(hosts), (todo, hosts)
    with ThreadPoolExecutor(THREADS) as pool:
        return [d for ds in pool.map(lambda lg: compare_login(lg, profile), todo) for d in ds]
