"""Which processes JADA-CFG-03 takes for Claude Code agents: the probe's own bash classifier
(``cfg_probes.AGENT``) run by bash on argv, exe and comm as /proc gives them, with real
files and symbolic links in a temporary tree for the layouts that need resolving.

The layouts are those of @anthropic-ai/claude-code 2.1.332 (npm pack: ``bin`` is
``bin/claude.exe``, which install.cjs replaces by the platform package's native binary;
``cli-wrapper.cjs`` starts that binary under node), of its native installer
(``~/.local/bin/claude`` -> ``~/.local/share/claude/versions/<version>``) and of releases up
to 2.1.112 (``bin`` is ``cli.js``, run by node). docs/settings.md, "Which processes are
agents".
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from jada_checks.facts.cfg_probes import AGENT
from jada_checks.parsers.cfg_facts import FactError, parse_procs

PKG = "/usr/lib/node_modules/@anthropic-ai/claude-code"
PLATFORM = "/usr/lib/node_modules/@anthropic-ai/claude-code-linux-x64/claude"
VERSIONED = "/home/jada/.local/share/claude/versions/2.1.332"


def classify(exe: str, comm: str, *argv: str, cwd: str = "/") -> tuple[str, str, int]:
    """(KIND, VIA, FROM) as the probe computes them for one process."""
    script = AGENT + f"""
R() {{ "$@"; }}
CWD={cwd} CWD_READ=1
agent_kind "$@"
printf '%s|%s|%s' "$KIND" "$VIA" "$FROM"
"""
    res = subprocess.run(["bash", "-c", script, "agent", exe, comm, *argv],
                         capture_output=True, text=True, timeout=20, check=True)
    kind, via, start = res.stdout.split("|")
    return kind, via, int(start)


# argv and exe as the kernel shows them -> (kind, via, index of the first CLI argument)
CASES = {
    "PATH name, exe unknown": (("", "claude", "claude", "--model", "x"),
                               ("name", "argv0", 1)),
    "the package's bin by its full path": (("", "claude.exe", f"{PKG}/bin/claude.exe", "-p"),
                                           ("package-bin", "argv0", 1)),
    "npm's bin link, exe resolved": ((f"{PKG}/bin/claude.exe", "claude", "/usr/bin/claude"),
                                     ("package-bin", "exe", 1)),
    "the platform package's binary (cli-wrapper's child)": (("", "claude", PLATFORM),
                                                            ("platform-bin", "argv0", 1)),
    "a native installer version by its full path": (("", "2.1.332", VERSIONED, "--model", "m"),
                                                    ("native-version", "argv0", 1)),
    "a pre-release version": (("", "2.2.0-beta.1", "/x/claude/versions/2.2.0-beta.1"),
                              ("native-version", "argv0", 1)),
    "a symlink of another name, exe resolved": ((VERSIONED, "agent-cli", "agent-cli", "-p"),
                                                ("native-version", "exe", 1)),
    "an argv[0] the orchestrator chose, exe resolved": ((VERSIONED, "2.1.332", "worker-7"),
                                                        ("native-version", "exe", 1)),
    "a version replaced by an update": ((VERSIONED + " (deleted)", "2.1.332", "worker"),
                                        ("native-version", "exe", 1)),
    "node with cli.js": (("/usr/bin/node", "node", "node", f"{PKG}/cli.js", "--model", "m"),
                         ("cli.js", "script", 2)),
    "node options before cli.js": (("", "node", "/usr/bin/node", "--max-old-space-size=4096",
                                    "-r", "/opt/trace.js", "--no-warnings", f"{PKG}/cli.js",
                                    "--model", "m"), ("cli.js", "script", 6)),
    "npm's old bin link run by node (shebang)": (("/usr/bin/node", "node", "node",
                                                  "/usr/local/bin/claude", "--model", "m"),
                                                 ("name", "script", 2)),
    "the wrapper": (("/usr/bin/node", "node", "node", f"{PKG}/cli-wrapper.cjs", "-p"),
                    ("cli-wrapper", "script", 2)),
    "bun with cli.js": (("", "bun", "bun", "--smol", f"{PKG}/cli.js"), ("cli.js", "script", 3)),
    "a script named claude under sh": (("/usr/bin/dash", "claude", "/bin/sh",
                                        "/usr/local/bin/claude", "--model", "m"),
                                       ("name", "script", 2)),
    "a process title 'claude' (argv rewritten)": (("/usr/bin/node", "claude", "claude"),
                                                  ("name", "argv0", 1)),
    "the kernel's name when argv[0] says nothing": (("", "claude", "worker-7"),
                                                    ("name", "comm", 1)),
}
NOT_AGENTS = {
    "the orchestrator": ("/usr/bin/python3.11", "python3", "/usr/bin/python3",
                         "/opt/jada/agent.py"),
    "a tool shell": ("/usr/bin/bash", "bash", "/bin/bash", "-c", "claude --model x"),
    "node -e naming cli.js": ("/usr/bin/node", "node", "node", "-e", f"{PKG}/cli.js"),
    "another node program": ("/usr/bin/node", "node", "node", "/opt/mcp/server.js"),
    "a version directory of another program": ("", "1.2.3", "/opt/tool/versions/1.2.3"),
    "claude-like names": ("", "claude-mcp", "/usr/bin/claude-mcp"),
    "an unknown exe named like a version": ("/opt/app/2.1.0", "2.1.0", "2.1.0"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_layout_of_claude_code_is_an_agent(case):
    args, want = CASES[case]
    assert classify(*args) == want


@pytest.mark.parametrize("case", sorted(NOT_AGENTS))
def test_other_processes_are_not_agents(case):
    assert classify(*NOT_AGENTS[case])[0] == ""


def test_without_exe_argv0_is_followed_through_its_links(tmp_path: Path):
    """Not root: /proc/PID/exe is not readable; a symlink of another name given by a path
    (absolute or relative to the process's working directory) is still followed."""
    versions = tmp_path / "share/claude/versions"
    versions.mkdir(parents=True)
    (versions / "2.1.332").write_bytes(b"\x7fELF")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin/agent-cli").symlink_to(versions / "2.1.332")
    assert classify("", "agent-cli", str(tmp_path / "bin/agent-cli"), "--model", "m") == \
        ("native-version", "argv0-link", 1)
    assert classify("", "agent-cli", "bin/agent-cli", cwd=str(tmp_path)) == \
        ("native-version", "argv0-link", 1)


def test_a_relative_script_is_resolved_against_the_working_directory(tmp_path: Path):
    pkg = tmp_path / "node_modules/@anthropic-ai/claude-code"
    pkg.mkdir(parents=True)
    (pkg / "cli.js").write_text("// stand-in\n")
    os.symlink("node_modules/@anthropic-ai/claude-code/cli.js", tmp_path / "claude.js")
    assert classify("", "node", "node", "claude.js", "--model", "m", cwd=str(tmp_path)) == \
        ("cli.js", "script", 2)


def b(text: str) -> str:
    import base64
    return base64.b64encode(text.encode()).decode()


def test_parse_procs_keeps_every_scanned_process():
    text = "\n".join([
        "C\t2",
        "\t".join(["Q", "10", "-", "-", b("/usr/bin/python3.11"), b("/usr/bin/python3"),
                   b("/opt/jada/agent.py"), b("python3")]),
        "\t".join(["Q", "11", "native-version", "argv0", b(VERSIONED), b(VERSIONED), "",
                   b("2.1.332")]),
        "\t".join(["P", "11", b("/srv/jada"), "1000", b("/home/jada"), "ok"]),
    ]) + "\n"
    procs = parse_procs(text)
    assert [q.pid for q in procs.others] == [10]
    assert procs.others[0].describe() == \
        "pid 10 /usr/bin/python3.11 (argv[0] /usr/bin/python3, script /opt/jada/agent.py)"
    assert procs.claude[0].who == f"pid 11 ({VERSIONED})"


@pytest.mark.parametrize("bad", [
    "Q\t10\tsomething\targv0\t\t\t\t",  # an unknown kind
    "Q\t10\tname\t-\t\t\t\t",  # a kind without how it was seen
    "Q\t10\t-\t-\t\t\t\n",  # too few fields
])
def test_parse_procs_rejects_malformed_scans(bad: str):
    with pytest.raises(FactError):
        parse_procs(bad + "\n")


def shown_script(exe: str, *argv: str) -> str:
    script = AGENT + '\nscript_of "$@"; printf %s "$SHOWN"\n'  # it sets SHOWN (issue 25)
    return subprocess.run(["bash", "-c", script, "show", exe, *argv], capture_output=True,
                          text=True, timeout=20, check=True).stdout


def test_a_skip_names_an_interpreters_script_but_no_other_argument(tmp_path: Path):
    prog = tmp_path / "agent.py"
    prog.write_text("pass\n")
    assert shown_script("/usr/bin/python3.11", "/usr/bin/python3", "-u", str(prog),
                        "--token", "s3cret") == str(prog)
    assert shown_script("", "python3", "-X", "dev", str(prog)) == str(prog)
    # code on the command line, a module, a word that names no file: nothing is shown
    assert shown_script("/usr/bin/bash", "bash", "-c", str(prog)) == ""
    assert shown_script("/usr/bin/python3.11", "python3", "-m", "http.server") == ""
    assert shown_script("/usr/bin/node", "node", "s3cret-token") == ""
    assert shown_script("/usr/bin/sleep", "sleep", str(prog)) == ""
