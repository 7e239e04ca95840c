"""The read helper under attack (issue 26): the audit user's login tries to make
ci/libexec/jada-checks-read run anything but the suite's exact reads.

Every call keeps its argv intact: a batch of calls is one bash script sent over SSH as
``jada-audit``, each call ``sudo -n -- HELPER ARG...`` with every argument shlex-quoted, so
an argument with spaces, tabs or newlines reaches the helper as ONE argument (the refusal
tests in test_least_privilege.py go through a shell that splits on spaces, which is why
they could not see the issue). Each batch runs from a directory the attacker owns, in which
every relative argument of every call is planted as an executable that records that it ran
(and as whom): a helper that executed a caller's word would leave a record, so each batch
asserts there is none.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import shlex
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jada_checks.facts.cfg_probes import ENV_GREP
from tests.support.sandbox_harness import SandboxHarness

pytestmark = pytest.mark.sandbox_hosts("least-privilege")

HOST = "least-privilege"
USER = "jada-audit"
READ = "/usr/local/libexec/jada-checks-read"
SVC = "jada"  # the service user of the host's jada-agent.service
WORK = "/home/jada-audit/attack"  # the attacker's own directory: every batch runs here
RAN = f"{WORK}/ran"  # where a planted program records that it ran (mode 0777)
SETTINGS = "/home/jada/.claude/settings.json"
# Symlinks the attacker plants in directories it may write (its home, /tmp).
LINKS = {f"{WORK}/proc": "/proc", f"{WORK}/fd": "/root", f"{WORK}/environ": "/etc/shadow",
         f"{WORK}/cwd": "/root", f"{WORK}/somaxconn": "/etc/shadow",
         "/tmp/jada-attack-root": "/root", "/tmp/jada-attack-shadow": "/etc/shadow"}


@dataclass(frozen=True)
class Call:
    rc: int
    out: bytes
    err: str

    @property
    def refused(self) -> bool:
        return self.rc == 64 and "jada-checks-read: refused: " in self.err and not self.out


def plant_script() -> str:
    """As the attacker: a fresh WORK with the symlinks and the record directory."""
    links = "; ".join(f"ln -sfn {shlex.quote(dst)} {shlex.quote(src)}"
                      for src, dst in LINKS.items())
    return (f"rm -rf {WORK} && mkdir -p {RAN} && chmod 0777 {RAN} && cd {WORK} && {links}"
            f" && printf '#!/bin/sh\\necho \"$(id -u) $0\" >> {RAN}/log\\n' > {WORK}/.plant"
            f" && chmod 0755 {WORK}/.plant")


def plantable(arg: str) -> bool:
    """A relative word that a careless helper could run from WORK."""
    return bool(arg) and not arg.startswith("/") and "\0" not in arg and \
        ".." not in arg.split("/") and not arg.endswith("/") and arg not in (".", "./")


# On the host, as the attacker: plant each word (JSON list on stdin's first line) as an
# executable that records; after the calls, print every call's result in one go.
PLANT_PY = r"""
import json, os, shutil, sys
work = sys.argv[1]
for word in json.loads(sys.stdin.readline()):
    path = os.path.join(work, word)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if not os.path.lexists(path):
            shutil.copy(os.path.join(work, ".plant"), path)
    except OSError:
        pass
"""
REPORT_PY = r"""
import base64, os, sys
t, n = sys.argv[1], int(sys.argv[2])
def b(name):
    with open(os.path.join(t, name), "rb") as f:
        return base64.b64encode(f.read()).decode()
for i in range(n):
    with open(os.path.join(t, f"{i}.r")) as f:
        rc = f.read().strip()
    print("@@C", i, rc, b(f"{i}.o"), b(f"{i}.e"))
"""


def run_batch(sandbox: SandboxHarness, calls: list[list[str]]) -> tuple[list[Call], str]:
    """Run every call as the audit user from WORK, each argument intact; the calls'
    results, and what planted programs recorded (empty: none ran)."""
    plant = sorted({a for argv in calls for a in argv if plantable(a)})
    lines = ["set -u", plant_script(),
             f"printf '%s\\n' {shlex.quote(json.dumps(plant))} | "
             f"python3 -c {shlex.quote(PLANT_PY)} {WORK}",
             f"cd {WORK} && T=$(mktemp -d) || exit 99"]
    for i, argv in enumerate(calls):
        lines.append(shlex.join(["sudo", "-n", "--", READ, *argv])
                     + f" </dev/null >$T/{i}.o 2>$T/{i}.e; echo $? >$T/{i}.r")
    lines.append(f"python3 -c {shlex.quote(REPORT_PY)} $T {len(calls)}; rm -rf \"$T\"; "
                 f"printf '@@RAN %s\\n' \"$(cat {RAN}/log 2>/dev/null | tr '\\n' '|')\"")
    res = sandbox.sandbox.ssh_raw(sandbox.sandbox.address(HOST), "bash -s", user=USER,
                                  timeout=300, stdin="\n".join(lines) + "\n")
    results: dict[int, Call] = {}
    ran = None
    for line in res.stdout.splitlines():
        if line.startswith("@@C "):
            f = line.split(" ")
            results[int(f[1])] = Call(int(f[2]), base64.b64decode(f[3]),
                                      base64.b64decode(f[4]).decode(errors="replace"))
        elif line.startswith("@@RAN"):
            ran = line[len("@@RAN "):]
    assert ran is not None and len(results) == len(calls), (res.returncode, res.stdout[-2000:],
                                                             res.stderr[-2000:])
    return [results[i] for i in range(len(calls))], ran


@dataclass(frozen=True)
class Target:
    pid: str  # the agent's main process
    gid: str  # the service user's primary group

    def reads(self) -> list[list[str]]:
        """Every read of the fact script, exactly as it calls the helper (R ...)."""
        p = self.pid
        return [
            ["version"],
            ["ls", "-U", f"/proc/{p}/fd"],
            ["readlink", f"/proc/{p}/cwd"],
            ["readlink", f"/proc/{p}/exe"],
            ["readlink", f"/proc/{p}/ns/net"],
            [*ENV_GREP.split(), f"/proc/{p}/environ"],
            ["ss", "-H", "-l", "-n", "-t", "-p"],
            ["nsenter", "-t", p, "-n", "ss", "-H", "-l", "-n", "-t", "-p"],
            ["nsenter", "-t", p, "-n", "cat", "/proc/sys/net/core/somaxconn"],
            ["nsenter", "-t", p, "-n", "cat", "/proc/sys/net/ipv4/tcp_max_syn_backlog"],
            ["setpriv", f"--reuid={SVC}", f"--regid={self.gid}", "--init-groups", "test",
             "-r", SETTINGS],
        ]


def target_of(sandbox: SandboxHarness) -> Target:
    pid, gid = sandbox.ssh(HOST, "systemctl show -p MainPID --value jada-agent.service; "
                                 f"id -g {SVC}", timeout=120).split()
    assert int(pid) > 1
    return Target(pid, gid)


def canonical_of(sandbox: SandboxHarness, target: Target) -> dict[tuple[str, ...], Call]:
    """What each exact read answers (run twice: a read whose answer changes between two
    calls would make the comparison meaningless)."""
    reads = target.reads()
    results, ran = run_batch(sandbox, reads + reads)
    assert ran == ""
    first, again = results[:len(reads)], results[len(reads):]
    assert first == again
    for argv, res in zip(reads, first, strict=True):
        assert res.rc == 0 and "refused" not in res.err, (argv, res)
        assert res.out or argv[0] == "setpriv", (argv, res)
    assert first[0].out == b"jada-checks-read 4\n"
    return {tuple(argv): res for argv, res in zip(reads, first, strict=True)}


@pytest.fixture(scope="module")
def target(sandbox: SandboxHarness) -> Target:
    return target_of(sandbox)


@pytest.fixture(scope="module")
def canonical(sandbox: SandboxHarness, target: Target) -> dict[tuple[str, ...], Call]:
    return canonical_of(sandbox, target)


# -- the reproduction of the issue ----------------------------------------------------------
ISSUE_ARGS = ["cat /proc/sys/net/core/somaxconn", "cat /proc/sys/net/ipv4/tcp_max_syn_backlog",
              "ss -H -l -n -t -p"]


def test_the_issues_reproduction_is_refused_and_runs_nothing(sandbox: SandboxHarness,
                                                             target: Target) -> None:
    check_the_issues_reproduction(sandbox, target)


def check_the_issues_reproduction(sandbox: SandboxHarness, target: Target) -> None:
    """Issue 26: ONE argument "cat /proc/sys/net/core/somaxconn" passed the joined-string
    check and nsenter ran the attacker's file of that name, as root, from the caller's
    working directory. Now: exit 64, refused, and the planted file never runs."""
    calls = [["nsenter", "-t", pid, "-n", arg] for pid in ("1", target.pid)
             for arg in ISSUE_ARGS]
    results, ran = run_batch(sandbox, calls)
    for argv, res in zip(calls, results, strict=True):
        assert res.refused, (argv, res)
        assert f"'{argv[-1]}'" in res.err, res.err  # the message shows it as ONE argument
    assert ran == "", f"a planted program ran: {ran}"
    # the issue's own commands, word for word, from the attacker's home; its script also
    # leaves a marker file, which must not exist afterwards
    marker = "/home/jada-audit/issue-26-ran"
    exact = sandbox.sandbox.ssh_raw(sandbox.sandbox.address(HOST), "\n".join([
        f"rm -f {marker}",
        'cd ~ && mkdir -p "cat /proc/sys/net/core"',
        f"printf '#!/bin/sh\\nid; touch {marker}; head -c 60 /etc/shadow\\n' > "
        '"cat /proc/sys/net/core/somaxconn"',
        'chmod +x "cat /proc/sys/net/core/somaxconn"',
        f'sudo -n {READ} nsenter -t 1 -n "cat /proc/sys/net/core/somaxconn"',
        'echo "@@RC $?"; test -e ' + marker + ' && echo "@@MARKER"; true']), user=USER)
    assert "@@RC 64" in exact.stdout and "@@MARKER" not in exact.stdout, exact
    assert "uid=0" not in exact.stdout and "root:" not in exact.stdout, exact
    assert "jada-checks-read: refused: nsenter -t 1 -n 'cat /proc/sys/net/core/somaxconn'" \
        in exact.stderr, exact
    # the planted program is real: the attacker itself can run it, and it leaves a record
    proof = sandbox.sandbox.ssh_raw(sandbox.sandbox.address(HOST),
                                    f"cd {WORK} && ./{shlex.quote(ISSUE_ARGS[0])} && "
                                    f"cat {RAN}/log", user=USER)
    assert proof.returncode == 0 and ISSUE_ARGS[0] in proof.stdout, proof


# -- setpriv: only the service user, only its own primary group ---------------------------
def test_setpriv_runs_only_as_a_non_root_user_with_its_own_primary_group(
        sandbox: SandboxHarness, target: Target) -> None:
    check_setpriv(sandbox, target)


def check_setpriv(sandbox: SandboxHarness, target: Target) -> None:
    def sp(reuid: str, regid: str, path: str = SETTINGS) -> list[str]:
        return ["setpriv", f"--reuid={reuid}", f"--regid={regid}", "--init-groups", "test",
                "-r", path]

    refused = [
        sp("root", "0", "/root/.ssh/authorized_keys"), sp("root", "0", "/root/nonexistent"),
        sp("0", "0", "/etc/shadow"), sp("0", target.gid), sp("root", target.gid),
        sp(SVC, "0", "/etc/shadow"), sp(SVC, "42", "/etc/shadow"),  # 42: shadow
        sp(SVC, "shadow", "/etc/shadow"), sp(SVC, SVC), sp(SVC, f"{target.gid},42"),
        sp(SVC, f"0{target.gid}"), sp(SVC, f" {target.gid}"), sp(SVC, ""),
        sp(target.gid, target.gid), sp(f"{SVC} ", target.gid), sp(f"{SVC}\n", target.gid),
        sp(SVC, target.gid, "relative/path"), sp(SVC, target.gid, f"{SETTINGS}\n/etc/shadow"),
        sp(SVC, target.gid, f"{SETTINGS}\t"),
        ["setpriv", f"--reuid={SVC}", f"--regid={target.gid}", "--clear-groups", "test", "-r",
         SETTINGS],
        ["setpriv", f"--ruid={SVC}", f"--regid={target.gid}", "--init-groups", "test", "-r",
         SETTINGS],
        ["setpriv", "--reuid", SVC, f"--regid={target.gid}", "--init-groups", "test", "-r",
         SETTINGS],
        ["setpriv", f"--reuid={SVC}", f"--regid={target.gid}", "--init-groups", "cat",
         "/etc/shadow"],
        ["setpriv", f"--reuid={SVC}", f"--regid={target.gid}", "--init-groups", "test", "-r",
         SETTINGS, "-o", "-e", "/etc/shadow"],
    ]
    # answered as the service user, with its own groups: yes for what it reads, no for what
    # root or group shadow read, and the same no whether a root-only file exists or not
    answered = {
        tuple(sp(SVC, target.gid)): 0,
        tuple(sp(SVC, target.gid, "/etc/shadow")): 1,
        tuple(sp(SVC, target.gid, "/root/.ssh/authorized_keys")): 1,
        tuple(sp(SVC, target.gid, "/root/nonexistent")): 1,
        tuple(sp(SVC, target.gid, "/home/jada/../jada/.claude/settings.json")): 0,
        tuple(sp(SVC, target.gid, "/tmp/jada-attack-shadow")): 1,  # a symlink to /etc/shadow
    }
    results, ran = run_batch(sandbox, refused + [list(a) for a in answered])
    for argv, res in zip(refused, results[:len(refused)], strict=True):
        assert res.refused, (argv, res)
    for (argv, want), res in zip(answered.items(), results[len(refused):], strict=True):
        assert (res.rc, res.out) == (want, b""), (argv, res)
    assert ran == "", f"a planted program ran: {ran}"


def test_a_user_that_does_not_exist_is_not_a_no(sandbox: SandboxHarness,
                                                 target: Target) -> None:
    """setpriv's own failure would exit 1 like test -r's "no": the helper exits 65."""
    results, _ = run_batch(sandbox, [["setpriv", "--reuid=nosuchuser", f"--regid={target.gid}",
                                      "--init-groups", "test", "-r", SETTINGS]])
    assert results[0].rc == 65 and "no user nosuchuser" in results[0].err, results[0]


def test_the_environment_read_prints_no_other_entry(sandbox: SandboxHarness) -> None:
    """The one environment read prints whole NUL-terminated entries that start with an
    allowed name, and nothing of any other entry, even one whose value holds a newline
    followed by an allowed name (grep -z anchors ^ at each entry, not each line). The
    attacker's own process is the bait: it can set that environment itself."""
    bait = sandbox.sandbox.ssh_raw(
        sandbox.sandbox.address(HOST),
        "nohup env -i 'SECRET=bait-1' $'NOTE=x\\nHOME=/bait-2' $'HOME=/home/x\\nbait-3' "
        "CLAUDE_CONFIG_DIRX=bait-4 sleep 120 >/dev/null 2>&1 </dev/null & echo $!", user=USER)
    pid = bait.stdout.strip()
    assert bait.returncode == 0 and pid.isdigit(), bait
    results, ran = run_batch(sandbox, [[*ENV_GREP.split(), f"/proc/{pid}/environ"]])
    assert results[0].rc == 0 and results[0].out == b"HOME=/home/x\nbait-3\0", results[0]
    assert ran == ""


# sudo's own ways to change how a command runs: its environment, working directory,
# root directory, user, group, shell, descriptors, timeout. The sudoers rule grants none.
SUDO_OPTIONS = [["-E"], ["--preserve-env=PATH"], ["-D", "/tmp"], ["-R", "/tmp"],
                ["-u", "jada"], ["-g", "shadow"], ["-s"], ["-i"], ["-C", "5"], ["-T", "1"],
                ["LD_PRELOAD=/tmp/x.so"], ["SHELLOPTS=xtrace"], ["ENV=/tmp/x"],
                ["PATH=/home/jada-audit/attack"], ["PS4=$(id>/tmp/x)"]]


def test_sudo_options_cannot_change_how_the_helper_runs(sandbox: SandboxHarness) -> None:
    check_sudo_options(sandbox)


def check_sudo_options(sandbox: SandboxHarness) -> None:
    """Each is refused by sudo itself (exit 1), before the helper runs (no marker)."""
    script = "\n".join(
        f"{shlex.join(['sudo', '-n', *opts, '--', READ, 'version'])} </dev/null "
        f"2>&1; echo \"@@RC $?\"" for opts in SUDO_OPTIONS)
    res = sandbox.sandbox.ssh_raw(sandbox.sandbox.address(HOST), "bash -s", user=USER,
                                  timeout=120, stdin=script + "\n")
    answers = res.stdout.split("@@RC ")
    assert len(answers) == len(SUDO_OPTIONS) + 1, res
    for opts, before, after in zip(SUDO_OPTIONS, answers[:-1], answers[1:], strict=True):
        said = before.split("\n", 1)[-1] if before.startswith(("0", "1")) else before
        assert after.startswith("1\n") and said.startswith("sudo: "), (opts, said, after)
        assert "@@JADA-READ ran" not in said and "jada-checks-read 4" not in said, (opts, said)


# -- every way to split and join the exact reads ------------------------------------------
def groupings(argv: list[str], sep: str, every: bool) -> list[list[str]]:
    """argv with adjacent arguments joined by ``sep``: every way (``every``, up to 7
    arguments), else each single join."""
    n = len(argv)
    if every and n <= 7:
        cuts = list(itertools.product((False, True), repeat=n - 1))
    else:
        cuts = [tuple(i == k for i in range(n - 1)) for k in range(n - 1)]
    out = []
    for joins in cuts:
        words = [argv[0]]
        for word, join in zip(argv[1:], joins, strict=True):
            if join:
                words[-1] += sep + word
            else:
                words.append(word)
        if words != argv:
            out.append(words)
    return out


def splits(argv: list[str]) -> list[list[str]]:
    """One argument cut in two, and with a space put in there: after its first character,
    in its middle, before its last, and after every ``/``, ``=`` and ``-``."""
    out = []
    for i, word in enumerate(argv):
        cuts = {1, len(word) // 2, len(word) - 1} | \
            {k for k in range(1, len(word)) if word[k - 1] in "/=-"}
        for k in sorted(c for c in cuts if 0 < c < len(word)):
            out.append([*argv[:i], word[:k], word[k:], *argv[i + 1:]])
            out.append([*argv[:i], f"{word[:k]} {word[k:]}", *argv[i + 1:]])
    return out


def judge(argv: list[str], res: Call, canonical: dict[tuple[str, ...], Call]) -> str | None:
    """None if the call did exactly an allowed read (the same answer as that read) or was
    refused (exit 64, "refused:"); else what is wrong. Stronger than "the same output or
    refused": any argv but an exact read is refused, with one exception, the setpriv
    yes/no, whose path is data (any absolute path without control characters, answered
    as the service user; test_setpriv_runs_only_as_... proves as whom)."""
    if tuple(argv) in canonical:
        want = canonical[tuple(argv)]
        return None if (res.rc, res.out) == (want.rc, want.out) else "not the exact read"
    setpriv = next(k for k in canonical if k[0] == "setpriv")
    if len(argv) == len(setpriv) and tuple(argv[:-1]) == setpriv[:-1] and \
            argv[-1].startswith("/") and not any(ord(c) < 32 or c == "\x7f" for c in argv[-1]):
        return None if res.rc in (0, 1) and not res.out else "setpriv did not answer yes/no"
    return None if res.refused else "accepted a shape that is not an exact read"


def assert_each_is_the_read_or_refused(sandbox: SandboxHarness, calls: list[list[str]],
                                       canonical: dict[tuple[str, ...], Call]) -> None:
    results, ran = run_batch(sandbox, calls)
    bad = [(argv, why, res) for argv, res in zip(calls, results, strict=True)
           if (why := judge(argv, res, canonical))]
    assert not bad, bad[:5]
    assert ran == "", f"a planted program ran: {ran}"


def test_every_split_and_join_of_each_read_is_that_read_or_refused(
        sandbox: SandboxHarness, canonical: dict[tuple[str, ...], Call]) -> None:
    check_every_split_and_join(sandbox, canonical)


def check_every_split_and_join(sandbox: SandboxHarness,
                               canonical: dict[tuple[str, ...], Call]) -> None:
    calls = []
    for argv in canonical:
        for sep in (" ", "", "=", "\t", "\n"):
            calls += groupings(list(argv), sep, every=sep == " ")
        calls += splits(list(argv))
    calls = [list(c) for c in dict.fromkeys(map(tuple, calls))]
    assert len(calls) > 500
    assert_each_is_the_read_or_refused(sandbox, calls, canonical)


# -- property test: the reads, mutated the ways an attacker would --------------------------
# a space most often: the joined argument that the "$*" check of versions 1 to 3 let through
SEPS = st.sampled_from([" ", " ", " ", " ", "", "=", "\t", "\n", "  ", "/", "\r", "\x0b"])
OPTIONS = st.sampled_from(["--", "-", "-e", "-x", "--help", "-r", "-U", "-a", "-z", "-i",
                           "--version", "--target=1", "-t", "1", "-n", "-p", "-K", "-a-z",
                           "-F", "--all", "-S", "0", "-w/", "--root=/", "-m", "-o",
                           "--setsockopt", "-H", "-l", "--init-groups", "--clear-groups",
                           "--reuid=root", "--regid=0", "-f", "--file=/etc/shadow"])
EQUAL_FORMS = {  # the same option spelled another way
    ("-t",): lambda p: [["-t" + p], ["-t=" + p], ["--target=" + p], ["--target", p]],
    ("-e",): lambda v: [["-e" + v], ["--regexp=" + v], ["--regexp", v], ["-e=" + v]],
}


def path_forms(path: str) -> list[str]:
    """The same file by another name: dots, slashes, symlinks planted in WORK and /tmp,
    relative names that resolve from WORK."""
    head, _, tail = path.rpartition("/")
    return [f"{head}/../{head.rsplit('/', 1)[-1]}/{tail}", f"{head}/./{tail}",
            path.replace("/", "//", 1), path + "/", path + "/.", path[1:], "./" + path[1:],
            f"{WORK}{path}", f"{WORK}/{tail}", f"/tmp/jada-attack-root/{tail}", "/tmp/../" +
            path[1:], path.replace("/proc/", "/proc/self/../", 1), path + " ",
            " " + path, path + "\n/etc/shadow"]


@st.composite
def variant(draw: st.DrawFn, reads: list[list[str]]) -> list[str]:
    """One exact read, then one change an attacker would try (sometimes two or three)."""
    argv = list(draw(st.sampled_from(reads)))
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        if not argv:
            argv = ["version"]
        i = draw(st.integers(0, len(argv) - 1))
        word = argv[i]
        kind = draw(st.sampled_from(["join", "join", "join", "split", "split", "pad",
                                     "insert", "path", "equal", "program", "pid", "drop",
                                     "dup"]))
        if kind == "join" and i + 1 < len(argv):
            argv[i:i + 2] = [argv[i] + draw(SEPS) + argv[i + 1]]
        elif kind == "split" and len(word) > 1:
            k = draw(st.integers(1, len(word) - 1))
            argv[i:i + 1] = draw(st.sampled_from([[word[:k], word[k:]],
                                                  [word[:k] + draw(SEPS) + word[k:]]]))
        elif kind == "pad":
            argv[i] = draw(st.sampled_from([f" {word}", f"{word} ", f"{word}\n", f"\t{word}",
                                            f"{word}\u00a0"]))
        elif kind == "insert":
            argv.insert(draw(st.integers(1, len(argv))), draw(OPTIONS))
        elif kind == "path" and word.startswith("/"):
            argv[i] = draw(st.sampled_from(path_forms(word)))
        elif kind == "equal" and (word,) in EQUAL_FORMS and i + 1 < len(argv):
            argv[i:i + 2] = draw(st.sampled_from(EQUAL_FORMS[(word,)](argv[i + 1])))
        elif kind == "equal" and word.startswith("--") and "=" in word:
            opt, _, val = word.partition("=")
            argv[i:i + 1] = draw(st.sampled_from([[opt, val], [opt + val], [opt + "=", val],
                                                  [opt[1:] + "=" + val]]))
        elif kind == "program" and word in ("cat", "ss", "test", "grep", "ls", "readlink"):
            argv[i] = draw(st.sampled_from([f"/bin/{word}", f"./{word}", f"/usr/bin/{word}",
                                            f"{WORK}/{word}", f"{word} ", f"./{word} -x"]))
        elif kind == "pid" and word.isdigit():
            argv[i] = draw(st.sampled_from([f"0{word}", f"+{word}", f"{word} ", f"-{word}",
                                            f"{word}.0", "self", f"{word}/../{word}"]))
        elif kind == "drop" and len(argv) > 1:
            del argv[i]
        elif kind == "dup":
            argv.insert(i, word)
    return argv


@settings(max_examples=5, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_property_every_mutated_read_is_that_read_or_refused(
        sandbox: SandboxHarness, canonical: dict[tuple[str, ...], Call],
        data: st.DataObject) -> None:
    """Each example is one batch (one SSH login) of 40 to 60 mutated reads."""
    reads = [list(k) for k in canonical]
    calls = data.draw(st.lists(variant(reads), min_size=40, max_size=60))
    assert_each_is_the_read_or_refused(sandbox, calls, canonical)


# -- what the helper itself is made of -------------------------------------------------------
def test_every_exec_is_a_fixed_program_by_absolute_path() -> None:
    """A static guard against the class of the bug: the helper execs only through run(),
    every run names its program by absolute path, and no run passes "$@" on except the
    grep read's -e list, which the helper builds itself from ENV_ALLOW."""
    from tests.test_least_privilege import HELPER

    lines = [re.sub(r"\s+# .*", "", ln).strip() for ln in HELPER.read_text().splitlines()
             if not ln.lstrip().startswith("#")]
    execs = [ln for ln in lines if ln.startswith("exec ") or " exec " in ln]
    assert execs == ['exec /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "$@"']
    runs = [ln.split("run ", 1)[1] for ln in lines if "run /" in ln]
    assert len(runs) == 10, runs  # one per allowed read: docs/least-privilege.md
    for cmd in runs:
        assert cmd.startswith("/"), cmd
        if '"$@"' in cmd:
            assert cmd.startswith('/bin/grep -az "$@" "/proc/$P/environ"'), cmd
    assert 'set --\n  for name in $ENV_ALLOW; do set -- "$@" -e "^$name="; done' in \
        HELPER.read_text()
    assert "cd / || exit 70" in lines and not any('"$*"' in ln for ln in lines)


def test_the_threat_model_names_tests_that_exist() -> None:
    """docs/least-privilege.md proves each point by naming a test: every name it gives
    (``tests/x.py::name``, or ``::name`` for the file named last) is a test of that file."""
    import ast

    from tests.support.sandbox_harness import REPO

    text = (REPO / "docs" / "least-privilege.md").read_text()
    named: list[tuple[str, str]] = []
    current = ""
    for path, name in re.findall(r"(tests/[\w/]+\.py)?::(\w+)", text):
        current = path or current
        named.append((current, name))
    assert len(named) >= 12, named
    for path, name in named:
        tree = ast.parse((REPO / path).read_text())
        tests = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert any(t.startswith(name) for t in tests), (path, name)
