"""EMFILE as the runtimes print it: one pattern, in the journal probe and here."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from jada_checks.controls.unit_policy import JOURNAL
from jada_checks.parsers.emfile import is_emfile, journal_message

# Real shapes of the messages, one or more per runtime.
RUNTIMES = {
    "go net/http": "2018/04/12 07:32:43 http: Accept error: accept tcp 127.0.0.1:9980: "
                   "accept4: too many open files; retrying in 1s",
    "go logrus": 'time="2021-06-05T19:57:30Z" level=error msg="http: Accept error: accept tcp '
                 '127.0.0.1:1635: accept4: too many open files; retrying in 1s"',
    "go dial": "2014/10/28 18:09:05 dial tcp :0: too many open files",
    "node fs": "Error: EMFILE: too many open files, open 'testfiles/4084'",
    "node server": "Error: accept EMFILE",
    "node error object": "  code: 'EMFILE',",
    "python": "OSError: [Errno 24] Too many open files: '/dev/null'",
    "java socket": "java.net.SocketException: Too many open files",
    "java accept": "java.net.SocketException: Too many open files (Accept failed)",
    "java nio": "java.io.IOException: Too many open files",
}
NOT_EMFILE = [
    "holding 913 descriptors (soft limit 1024)",
    "opened /srv/jada/themfile.txt",
    "EMFILES queue drained",
    "too many open sockets",
    "Zu viele offene Dateien",  # a localised strerror: documented as not recognised
    "jada-agent listening on :7070 backlog=8192",
]


@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
def test_each_runtime_line_is_recognised(runtime: str) -> None:
    assert is_emfile(RUNTIMES[runtime]), RUNTIMES[runtime]


@pytest.mark.parametrize("line", NOT_EMFILE)
def test_other_lines_are_not(line: str) -> None:
    assert not is_emfile(line)


def test_go_prints_lower_case() -> None:
    """The old case-sensitive pattern ('Too many open files|EMFILE') passed a Go
    orchestrator that hit its limit."""
    go = RUNTIMES["go net/http"]
    assert "Too many open files" not in go and "EMFILE" not in go
    assert is_emfile(go)


def test_only_the_message_counts_not_the_host_or_identifier() -> None:
    line = "1700000000.1 unit-04-go-emfile emfile-helper[7]: started 2 agents"
    assert journal_message(line) == "started 2 agents"
    assert is_emfile(line) and not is_emfile(journal_message(line))


def run_journal_probe(tmp_path: Path, lines: list[str]) -> str:
    """The probe's real shell and awk over these journal lines (journalctl, date and id are
    shell functions here, and the probe's clock, bash's printf %(%s)T, reads the date stub;
    the sandbox self-test reads a real journal)."""
    data = tmp_path / "journal.txt"
    data.write_text("".join(f"{line}\n" for line in lines))
    stubs = (f'journalctl() {{ case "$*" in *"-n 1"*) head -n1 {data};; *) cat {data};; esac; }}\n'
             "date() { echo 1700000100; }\nid() { echo 0; }\nUNIT=jada-agent.service\n")
    clock = "printf -v now '%(%s)T' -1"
    assert JOURNAL.count(clock) == 1
    res = subprocess.run(["bash", "-c", stubs + JOURNAL.replace(clock, "now=$(date)")],
                         capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_the_journal_probe_agrees_with_the_matcher(tmp_path: Path) -> None:
    messages = list(RUNTIMES.values()) + NOT_EMFILE
    lines = [f"{1700000000 + i}.5 unit-04-go-emfile python3[35]: {m}"
             for i, m in enumerate(messages)]
    out = run_journal_probe(tmp_path, lines)
    counts = {int(f[1]): int(f[2]) for f in (ln.split() for ln in out.splitlines())
              if f[0] == "M"}
    assert sum(counts.values()) == len(RUNTIMES) == sum(map(is_emfile, messages))
    latest = [ln for ln in out.splitlines() if ln.startswith("L ")]
    assert latest == [f"L {lines[len(RUNTIMES) - 1]}"]


def test_the_journal_probe_feeds_unit_04(tmp_path: Path) -> None:
    from tests.controls.test_host_controls_pure import ctx, evaluate
    go = f"1700000090.25 orch python3[35]: {RUNTIMES['go net/http']}"
    out = run_journal_probe(tmp_path, ["1700000080.1 orch python3[35]: listening", go])
    res = evaluate("JADA-UNIT-04", ctx({"hc_journal": out}))
    assert res.status == "fail", res
    shown = go.replace("1700000090.25", "2023-11-14T22:14:50.250000Z")  # ISO 8601, not epoch
    assert f"1 'Too many open files'/EMFILE lines in the last 60 min; latest: {shown}" \
        in res.message


def test_journal_line_timestamp_becomes_iso_8601() -> None:
    from jada_checks.parsers.emfile import iso_line

    assert iso_line("1732700000.123456 web-1 agent[42]: EMFILE") == \
        "2024-11-27T09:33:20.123456Z web-1 agent[42]: EMFILE"
    assert iso_line("1732700000 h x: m") == "2024-11-27T09:33:20Z h x: m"
    assert iso_line("not-a-time h x: m") == "not-a-time h x: m"
