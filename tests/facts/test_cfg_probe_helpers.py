"""The CFG probes' own stand-ins for processes (issue 25: a light fact script): base64 of
short text (``b64v``), ``dirname`` (``dn``) and the batched ``stat`` (``stat_all``) must
answer exactly what base64(1), dirname(1) and stat(1) answer, since the records they feed
are parsed as before. Run by bash (the snippet's ``export LC_ALL=C`` is the prelude's).
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from jada_checks.facts import cfg_probes, probes


def run(body: str, *args: str | bytes) -> str:
    script = ("export LC_ALL=C\n" + probes.B64 + "\n" + cfg_probes._OPTIONS
              + cfg_probes._COMMON + "\n" + body)
    res = subprocess.run(["bash", "-c", script, "helpers", *args], capture_output=True,
                         timeout=60, check=True)
    assert res.stderr == b"", res.stderr
    return res.stdout.decode("latin-1")


@pytest.mark.parametrize("patsub", ["on", "off"])
def test_b64v_is_base64_of_every_byte_and_length(patsub: str) -> None:
    """Both ways to the byte values: bash 5.2's one substitution, and one character at a
    time (older bash, and text holding the \\3 the substitution splits on)."""
    texts = ["", "a", "ab", "abc", "abcd", "/home/jada/.claude/settings.json", "x\ny\tz",
             "é ü ☃", "'\"\\$`*?[", "-n", "a" * 256, "b" * 257, "c" * 5000, "a\3b", "&*&",
             " a  b ", "a\\&b", "a/*/b"]
    texts += [chr(i) * k + "xy"[:j] for i in range(1, 256) for k in (1, 2) for j in (0, 1, 2)]
    raw = [t.encode("latin-1") if all(ord(c) < 256 for c in t) else t.encode() for t in texts]
    out = run(f"shopt -{'s' if patsub == 'on' else 'u'} patsub_replacement\n"
              'for t in "$@"; do b64v r "$t"; printf "%s\\n" "$r"; done; echo "$-"', *raw)
    assert out.split("\n")[:-2] == [base64.b64encode(r).decode() for r in raw]
    assert "f" not in out.split("\n")[-2]  # globbing is back on


def test_dn_answers_what_dirname_answers() -> None:
    paths = ["", "/", "//", "///", "a", "a/", "/a", "/a/", "//a", "a//b", "/a//b//", ".",
             "..", "./a", "/home/jada/.claude/settings.json", "/srv/x y/ z/", "a/b/c"]
    ours = run('for p in "$@"; do dn r "$p"; printf "%s\\0" "$r"; done', *paths)
    real = [subprocess.run(["dirname", "--", p], capture_output=True, text=True,
                           check=True).stdout.removesuffix("\n") for p in paths]
    assert ours.split("\0")[:-1] == real


def test_stat_all_matches_stat_and_marks_what_it_could_not_read(tmp_path: Path) -> None:
    (tmp_path / "a file").write_text("12345")
    (tmp_path / "new\nline").mkdir()
    paths = [str(tmp_path / "a file"), str(tmp_path / "missing"), str(tmp_path / "new\nline"),
             str(tmp_path)]
    out = run('stat_all "$@"; for p in "$@"; do printf "%s\\0" "${STATC[$p]}"; done', *paths)
    got = out.split("\0")[:-1]
    for path, answer in zip(paths, got, strict=True):
        if path.endswith("missing"):
            assert answer == "?"
        else:
            want = subprocess.run(["stat", "-L", "-c", "%s %U %u %a", "--", path],
                                  capture_output=True, text=True, check=True).stdout.strip()
            assert answer == want


def test_real_of_answers_what_readlink_f_answers(tmp_path: Path) -> None:
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "d" / "e" / "f.json").write_text("{}")
    (tmp_path / "link").symlink_to(tmp_path / "d")
    (tmp_path / "d" / "flink").symlink_to("e/f.json")
    t = str(tmp_path)
    paths = [f"{t}/d/e/f.json", f"{t}/link/e/f.json", f"{t}/d/flink", f"{t}/d//e/f.json",
             f"{t}/d/./e", f"{t}/d/e/../e/f.json", f"{t}/d/e/", "/", t]
    ours = run('for p in "$@"; do real_of r "$p"; printf "%s\\0" "$r"; done', *paths)
    real = [subprocess.run(["readlink", "-f", "--", p], capture_output=True, text=True,
                           check=True).stdout.removesuffix("\n") for p in paths]
    assert ours.split("\0")[:-1] == real
