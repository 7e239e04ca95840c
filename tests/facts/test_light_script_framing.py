"""The light fact script's framework (issue 25), run by this machine's bash: S() frames a
section's stdout, stderr and status without a sed per section, the prelude's shell
helpers give what the processes they replace gave, and the lanes keep every section whole
and in a fixed order whatever the timing."""

from __future__ import annotations

import base64
import os
import subprocess

import pytest

from jada_checks.facts import probes
from jada_checks.facts.host import split_sections


def run(body: str, unit: str = "no-such-unit-jada.service") -> str:
    script = f"UNIT={unit}\nJADA_SUDO=\n" + probes.PRELUDE.strip().replace(
        "@PROPS@", "Id,MainPID") + "\n" + body
    res = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=60, check=False)
    return res.stdout


def run_all(body: str) -> subprocess.CompletedProcess[bytes]:
    """``body`` after the prelude: its stdout, stderr and status, as bytes."""
    script = "UNIT=no-such-unit-jada.service\nJADA_SUDO=\n" + probes.PRELUDE.strip().replace(
        "@PROPS@", "Id,MainPID") + "\n" + body
    return subprocess.run(["bash", "--norc", "-c", script], capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=60, check=False)


def section(body: str) -> probes.Probe:
    return probes.Probe("t", body)


@pytest.mark.parametrize(("snippet", "out", "err", "rc"), [
    ("true", "", "", 0),                         # no output: never the status as stdout
    ("exit 7", "", "", 7),                       # a failing section keeps its status
    ("echo a; echo b", "a\nb\n", "", 0),
    ("echo out; echo e1 >&2; echo >&2; echo e3 >&2; exit 3", "out\n", "e1\n\ne3", 3),
    ("printf 'no newline' >&2; false", "", "no newline", 1),
    ("echo refused >&9 2>/dev/null; exec 2>/dev/null; echo x >&9", "", "refused\nx", 0),
])
def test_a_section_keeps_stdout_stderr_and_status(snippet: str, out: str, err: str,
                                                  rc: int) -> None:
    import shlex
    text = run(f"S t {shlex.quote(snippet)}\nS next 'echo after'\n")
    secs = split_sections(text)
    assert (secs["t"].out, secs["t"].err, secs["t"].rc) == (out, err, rc), text
    assert secs["next"].out == "after\n" and secs["next"].rc == 0, text


@pytest.mark.parametrize("value", ["", "a", "ab", "abc", "/system.slice/jada-agent.service",
                                   "caf\u00e9 \x01\x7f*?[x] $(x) 'q\"", "x\ny"])
def test_jada_b64_is_base64_of_the_bytes(value: str) -> None:
    import shlex
    q = shlex.quote(value)
    text = run(f"jada_b64 {q}; echo; jada_b64 {q} v; echo \"$v\"\n")
    want = base64.b64encode(value.encode()).decode()
    assert text.splitlines() == [want, want]


@pytest.mark.parametrize("path", ["/proc/sys/fs/nr_open", "/proc/sys/kernel/osrelease",
                                  "/proc/self/limits", "/etc/os-release"])
def test_jada_read_reads_the_whole_file_as_cat_does(path: str) -> None:
    """A /proc/sys file answers only a read at offset 0: a byte-wise read got one digit."""
    text = run(f"x=; jada_read x {path}; printf '%s\\n' \"$x\"; jada_read y /nonexistent "
               "|| echo failed; jada_read z /proc/self || echo 'failed (a directory)'\n")
    cat = subprocess.run(["cat", path], capture_output=True, text=True, check=True).stdout
    assert text == cat.rstrip("\n") + "\nfailed\nfailed (a directory)\n"


def test_the_lanes_hold_every_section_once_in_a_fixed_order(monkeypatch) -> None:
    """Sections in the process-substitution lanes print whole and in the same order on
    every run, however long each takes (the slow one is first in its lane)."""
    monkeypatch.setattr(probes, "PROBES", {})
    for i in range(9):
        probes.probe(f"s{i}", f"sleep 0.0{9 - i}; echo {i}; echo e{i} >&2; exit {i}")
    monkeypatch.setitem(probes.COST, "s0", 0.5)
    script = probes.build_script("no-such-unit-jada.service")
    assert script.count("exec {jada_fd}< <(") == probes.LANES - 1
    texts = set()
    for _ in range(3):
        res = subprocess.run(["bash", "--norc", "-c", script], capture_output=True,
                             text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)
        texts.add(res.stdout)
        secs = split_sections(res.stdout)
        for i in range(9):
            assert (secs[f"s{i}"].out, secs[f"s{i}"].err, secs[f"s{i}"].rc) == \
                (f"{i}\n", f"e{i}", i)
        assert {"unit_show", "sudo_preflight", "svc_user"} <= set(secs)
        assert res.stdout.count("@@JADA-BEGIN ") == 12
    assert len(texts) == 1


def test_unit_show_prints_only_the_asked_properties_in_systemctl_order() -> None:
    if not os.path.exists("/run/systemd/system"):
        pytest.skip("no systemd on this machine")
    script = probes.build_script("init.scope")
    asked = {"Id", "MainPID", "User", "WorkingDirectory", *probes.UNIT_PROPERTIES}
    res = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=60, check=False)
    got = [ln.split("=", 1)[0] for ln in split_sections(res.stdout)["unit_show"].out.splitlines()]
    assert got and set(got) <= asked and "ControlGroup" not in got


@pytest.mark.parametrize("ss", [
    "printf 'LISTEN 0 4096 *:7070 *:* users:((\"py\",pid=35,fd=3),(\"py\",pid=4,fd=3))\\n'",
    "printf 'a pid=9\\n\\n\\n'; echo 'ss: one' >&2; echo 'ss: two' >&2; return 3",
    "printf 'no newline pid=12'; printf 'err\\n\\n' >&2",
    "return 1",
])
def test_the_sockets_read_once_answer_as_each_section_reading_them(ss: str) -> None:
    """hc_listen and http_listen_units from the one read before the sections (R is the
    command itself) are what each gives reading ss itself: stdout, stderr and status.
    ``ss`` is a shell function here, which R runs as it would the program."""
    import shlex

    from jada_checks.facts import listeners

    sections = (f"S hc_listen {shlex.quote(listeners.LISTEN)}\n"
                f"S http_listen_units {shlex.quote(listeners.LISTEN_UNITS)}\n")
    fake = f"ss() {{ {ss}; }}\n"
    once = split_sections(run(fake + listeners.SHARED + "\n" + sections))
    each = split_sections(run(fake + "unset JADA_LISTEN_RC\n" + sections))
    assert once == each and set(once) == {"hc_listen", "http_listen_units"}
    assert run(fake + listeners.SHARED + '\necho "${JADA_LISTEN_RC-unset}"\n').strip() != "unset"


def test_jada_cat_prints_what_cat_prints(tmp_path) -> None:
    """Byte for byte, with cat's own words and status where bash cannot do it alone."""
    import shlex
    (tmp_path / "plain").write_bytes(b"a b\n\n  c\td\n")
    (tmp_path / "no-newline").write_bytes(b"x\ny")
    (tmp_path / "nul").write_bytes(b"a\0b\n")
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "dir").mkdir()  # opens, then read(2) fails (EISDIR): mapfile says 0
    for name in ("plain", "no-newline", "nul", "empty", "missing", "dir"):
        path = shlex.quote(str(tmp_path / name))
        ours = run_all(f"jada_cat {path}")
        cat = subprocess.run(["cat", str(tmp_path / name)], capture_output=True, timeout=60)
        assert (ours.stdout, ours.stderr, ours.returncode) == \
            (cat.stdout, cat.stderr, cat.returncode), name


@pytest.mark.parametrize("pid", ["self", "999999999"])
def test_main_status_prints_what_grep_prints(pid: str) -> None:
    """hc_main_status reads /proc/MAINPID/status in bash: the lines and the status grep -E
    gives, and grep itself (its words) when the file cannot be read."""
    from jada_checks.facts import host_facts

    body = host_facts.MAIN_STATUS.replace("/proc/$MAINPID/status", f"/proc/{pid}/status")
    ours = subprocess.run(["bash", "--norc", "-c", f"export LC_ALL=C; MAINPID=1\n{body}"],
                          capture_output=True, timeout=60)
    grep = subprocess.run(["grep", "-E", "^(Name|Uid|Gid):", f"/proc/{pid}/status"],
                          capture_output=True, timeout=60, env={"LC_ALL": "C"})
    if pid == "self":  # each reads its own process: the same user, another name
        ours_lines, grep_lines = ours.stdout.splitlines(), grep.stdout.splitlines()
        assert [ln.split(b":")[0] for ln in ours_lines] == [b"Name", b"Uid", b"Gid"]
        assert ours_lines[1:] == grep_lines[1:] and ours.returncode == grep.returncode == 0
    else:
        assert (ours.stdout, ours.stderr, ours.returncode) == \
            (grep.stdout, grep.stderr, grep.returncode)


def test_main_status_leaves_a_read_error_to_grep(tmp_path) -> None:
    """A file that opens but cannot be read (a directory: EISDIR) gives mapfile nothing
    and status 0; hc_main_status must then answer as grep does (its words, status 2)."""
    from jada_checks.facts import host_facts

    body = host_facts.MAIN_STATUS.replace("/proc/$MAINPID/status", str(tmp_path))
    ours = subprocess.run(["bash", "--norc", "-c", f"export LC_ALL=C; MAINPID=1\n{body}"],
                          capture_output=True, timeout=60)
    grep = subprocess.run(["grep", "-E", "^(Name|Uid|Gid):", str(tmp_path)],
                          capture_output=True, timeout=60, env={"LC_ALL": "C"})
    assert grep.returncode == 2 and b"Is a directory" in grep.stderr
    assert (ours.stdout, ours.stderr, ours.returncode) == \
        (grep.stdout, grep.stderr, grep.returncode)


def test_the_session_limits_are_what_ulimit_prints() -> None:
    from jada_checks.facts import host_facts

    script = "export LC_ALL=C\n" + host_facts.SESSION + (
        '\necho "want nofile $(ulimit -Sn) $(ulimit -Hn)"; echo "want nproc $(ulimit -Su) '
        '$(ulimit -Hu)"')
    out = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True,
                         timeout=60, check=True).stdout.splitlines()
    for key in ("nofile", "nproc"):
        got = [ln for ln in out if ln.startswith(key + " ")]
        assert got == [ln.removeprefix("want ") for ln in out if ln.startswith("want " + key)]


OLD_JDEC_UNQ = r"""
old_jdec() {
  local s=$1 out=
  while [[ $s == *\\* ]]; do
    out+=${s%%\\*}; s=${s#*\\}
    case ${s:0:1} in
      n) out+=$'\n';; t) out+=$'\t';; r) out+=$'\r';; b) out+=$'\b';; f) out+=$'\f';;
      u) out+=$(printf "\\u${s:1:4}"); s=${s:4};;
      *) out+=${s:0:1};;
    esac
    s=${s:1}
  done
  printf '%s' "$out$s"
}
old_unq() {
  local v=$1
  case $v in \'*\') v=${v:1:${#v}-2};; \"*\") v=${v:1:${#v}-2}; v=${v//\\\"/\"};; esac
  printf '%s' "$v"
}
"""


def test_jdec_and_unq_give_what_their_command_substitutions_gave() -> None:
    """Issue 25 made them set a variable: the text must be what $(jdec ...) and $(unq ...)
    gave, trailing newlines dropped included."""
    from jada_checks.facts import cfg_probes

    bodies = ["plain", "a\\nb", "end\\n", "end\\n\\n", "\\u00e9t\\u00e9", "\\u000a", "q\\\"x",
              "\\\\n", "tab\\tcr\\r", "x\\u0041y", ""]
    words = ["'single'", '"dou\\"ble"', "bare", "'a\n'", '"x\n\n"', "'", '"', "''", "a\n"]
    script = ("export LC_ALL=C\n" + probes.B64 + cfg_probes._COMMON + OLD_JDEC_UNQ + r"""
for t in "$@"; do
  jdec v "$t"; o=$(old_jdec "$t"); [ "$v" = "$o" ] || printf 'jdec %q: %q / %q\n' "$t" "$v" "$o"
  unq v "$t"; o=$(old_unq "$t"); [ "$v" = "$o" ] || printf 'unq %q: %q / %q\n' "$t" "$v" "$o"
done
""")
    res = subprocess.run(["bash", "--norc", "-c", script, "t", *bodies, *words],
                         capture_output=True, text=True, timeout=60)
    assert res.stdout == "" and res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("broken", [False, True])
def test_the_unit_cgroups_read_empty_are_judged_as_each_cat_judged_them(tmp_path,
                                                                        broken: bool) -> None:
    """hc_unit_procs asks one cat for every cgroup whose cgroup.procs read empty; when that
    cat does not say "all empty" (a read failed), each is judged as before: cat's answer,
    else GX unless the cgroup is threaded. A cgroup.procs that is a directory fails its read."""
    import base64 as b64

    from jada_checks.facts import host_facts

    root = tmp_path / "system.slice" / "x.service"
    for name in ("a", "c", "d"):
        (root / name).mkdir(parents=True)
    (root / "cgroup.procs").write_text(f"{os.getpid()}\n")
    for name in ("a", "d"):
        (root / name / "cgroup.procs").write_text("")
    (root / "c" / "cgroup.procs").write_text("")
    if broken:  # a cgroup.procs that cannot be read: a link to nothing
        (root / "b").mkdir()
        (root / "b" / "cgroup.procs").symlink_to(tmp_path / "nothing")
        (root / "b" / "cgroup.type").write_text("domain\n")
        (root / "c" / "cgroup.procs").unlink()
        (root / "c" / "cgroup.procs").symlink_to(tmp_path / "nothing")
        (root / "c" / "cgroup.type").write_text("threaded\n")
    snippet = host_facts.UNIT_PROCS.replace(
        "if [ -e /sys/fs/cgroup/cgroup.controllers ]; then base=/sys/fs/cgroup\n"
        "else base=/sys/fs/cgroup/systemd; fi", f"base={tmp_path}")
    assert snippet != host_facts.UNIT_PROCS
    text = run(f"MAINPID={os.getpid()}; JADA_PROP[ControlGroup]=/system.slice/x.service\n"
               "S hc_unit_procs " + __import__("shlex").quote(snippet) + "\n")
    sec = split_sections(text)["hc_unit_procs"]

    def g(rel: str) -> str:
        return b64.b64encode(f"/system.slice/x.service{rel}".encode()).decode()
    want = ["source cgroup /system.slice/x.service", f"hierarchy {tmp_path}",
            f"G {g('')} {os.getpid()}", f"G {g('/a')} "]
    if broken:
        want += [f"GX {g('/b')} cgroup.procs could not be read"]  # c: threaded, no line
    else:
        want += [f"G {g('/c')} "]
    want += [f"G {g('/d')} "]
    lines = sec.out.splitlines()
    assert lines[:len(want)] == want and sec.err == "" and sec.rc == 0, sec
    assert [ln.split()[1] for ln in lines[len(want):]] == [str(os.getpid())]
