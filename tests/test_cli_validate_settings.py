"""``jada-checks validate-settings``: exit codes, locations, no values in the output; and
``jada-checks --version``."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml

import jada_checks
from jada_checks import cli
from tests.support.paths import REPO

SCHEMA = REPO / "schemas" / "claude-settings.schema.json"
COMPLIANT = REPO / "sandbox/hosts/compliant/rootfs/home/jada/.claude/settings.json"
SECRET = "CANARY-CLI-77e1"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    try:
        code = cli.main(["validate-settings", *argv])
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out + out.err


def write(tmp_path: Path, name: str, data: bytes | str) -> str:
    p = tmp_path / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(p)


def test_valid_file_exits_0(capsys, tmp_path):
    good = write(tmp_path, "s.json", json.dumps({"model": "claude-sonnet-4-6",
                                                 "env": {"ANTHROPIC_API_KEY": SECRET}}))
    code, out = run(capsys, good)
    assert code == 0 and out.strip() == f"{good}: valid" and SECRET not in out


def test_compliant_sandbox_file_is_valid(capsys):
    assert run(capsys, str(COMPLIANT))[0] == 0


def test_invalid_json_names_line_and_column(capsys, tmp_path):
    bad = write(tmp_path, "bad.json", '{\n  "model": "x",\n}\n')
    code, out = run(capsys, bad)
    assert code == 1 and f"{bad}: line 3 column 1: invalid JSON" in out


def test_schema_error_names_pointer_without_value(capsys, tmp_path):
    bad = write(tmp_path, "bad.json", json.dumps({"permissions": {"defaultMode": SECRET},
                                                  "env": {"K": [SECRET]}}))
    code, out = run(capsys, bad)
    assert code == 1 and "/permissions/defaultMode" in out and "/env/K" in out
    assert SECRET not in out


def test_bom_and_garbage_fail(capsys, tmp_path):
    files = [write(tmp_path, "b.json", b'\xef\xbb\xbf{}'),
             write(tmp_path, "c.json", b"\x00\xff\xfe"), write(tmp_path, "d.json", "")]
    code, out = run(capsys, *files)
    assert code == 1
    assert "byte-order mark" in out and "not UTF-8" in out and "empty file" in out


def run_split(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["validate-settings", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_near_miss_is_a_warning_on_stderr_and_exits_0(capsys, tmp_path):
    f = write(tmp_path, "a.json", '{"modle": "claude-sonnet-4-6"}')
    assert run_split(capsys, f) == (
        0, f"{f}: valid (1 warning(s))\n",
        f"{f}: /modle: warning: unknown key 'modle'; did you mean 'model'? (Claude Code "
        "ignores unknown keys)\n")


def test_strict_fails_on_warnings_but_not_on_notes(capsys, tmp_path):
    warned = write(tmp_path, "a.json", '{"permissions": {}, "defaultMode": "plan"}')
    noted = write(tmp_path, "b.json", '{"someFutureKey": true}')
    code, out, err = run_split(capsys, "--strict", warned, noted)
    assert code == 1
    assert out == f"{warned}: 1 warning(s), invalid under --strict\n{noted}: valid\n"
    assert f"{warned}: /defaultMode: warning: key 'defaultMode' belongs inside " \
           "'permissions'" in err
    assert f"{noted}: /someFutureKey: info: unknown key 'someFutureKey'" in err


def test_unknown_key_is_a_note_and_passes(capsys, tmp_path):
    f = write(tmp_path, "a.json", '{"model": "claude-sonnet-4-6", "someFutureKey": 1}')
    assert run_split(capsys, f) == (
        0, f"{f}: valid\n", f"{f}: /someFutureKey: info: unknown key 'someFutureKey' (Claude "
        "Code ignores unknown keys; it may be newer than the schema)\n")


def test_current_keys_are_valid_without_findings(capsys, tmp_path):
    f = write(tmp_path, "a.json", json.dumps({
        "autoDreamEnabled": True, "teammateDefaultModel": "sonnet",
        "managedMcpServers": [{"name": "docs", "transport": "stdio", "command": "docs-mcp"}],
        "policyHelper": {"path": "/usr/local/bin/claude-policy", "refreshIntervalMs": 0}}))
    assert run_split(capsys, f) == (0, f"{f}: valid\n", "")


def test_env_number_is_a_warning_without_the_value(capsys, tmp_path):
    f = write(tmp_path, "a.json", '{"env": {"MAX_THINKING_TOKENS": 31999}}')
    code, out, err = run_split(capsys, f)
    assert (code, out) == (0, f"{f}: valid (1 warning(s))\n")
    assert f"{f}: /env/MAX_THINKING_TOKENS: warning: a number or boolean" in err
    assert "31999" not in err


def test_huge_file_is_refused_without_reading_it_all(capsys, tmp_path):
    big = write(tmp_path, "big.json", '{"a": "' + "x" * (1024 * 1024 + 10) + '"}')
    code, out = run(capsys, big)
    assert code == 1 and "larger than" in out


def test_usage_errors_exit_2(capsys, tmp_path):
    assert run(capsys)[0] == 2
    assert run(capsys, str(tmp_path / "missing.json"))[0] == 2
    with pytest.raises(SystemExit) as exc:
        cli.main([])
    assert exc.value.code == 2


def test_registry_refuses_duplicates():
    with pytest.raises(ValueError):
        cli.command("validate-settings", "again", lambda p: None)(lambda a: 0)


def test_console_script_runs():
    exe = shutil.which("jada-checks")
    cmd = [exe] if exe else [sys.executable, "-m", "jada_checks.cli"]
    res = subprocess.run([*cmd, "validate-settings", str(COMPLIANT)], capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stderr


@pytest.mark.skipif(shutil.which("check-jsonschema") is None, reason="check-jsonschema absent")
def test_schema_works_standalone(tmp_path):
    res = subprocess.run(["check-jsonschema", "--schemafile", str(SCHEMA), str(COMPLIANT)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    bad = write(tmp_path, "bad.json", json.dumps({"model": 3}))
    res = subprocess.run(["check-jsonschema", "--schemafile", str(SCHEMA), bad],
                         capture_output=True, text=True)
    assert res.returncode == 1


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"jada-checks {jada_checks.__version__}\n"
    # the installed metadata comes from the same place (dynamic version in pyproject.toml)
    assert metadata.version("jada-checks") == jada_checks.__version__
# -- the corpus of real settings files (tests/data/settings-corpus/sources.yaml) ---------

CORPUS = REPO / "tests/data/settings-corpus"
INDEX = yaml.safe_load((CORPUS / "sources.yaml").read_text(encoding="utf-8"))
REAL = {e["file"]: e for e in INDEX["real"]}
BROKEN = {e["file"]: e for e in INDEX["broken"]}
# Credentials a public settings file might carry; the corpus must hold none of them.
SECRET_LIKE = re.compile(r"sk-ant-[\w-]{8,}|sk-[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}"
                         r"|AKIA[A-Z0-9]{16}|xox[abpr]-[\w-]{10,}|Bearer [\w.~+/-]{12,}"
                         r"|eyJ[\w-]{10,}\.[\w-]{10,}|://[^/\s\"@:]+:[^/\s\"@]+@")


def test_corpus_index_matches_the_files():
    on_disk = {str(p.relative_to(CORPUS)) for p in CORPUS.glob("*/*.json")}
    assert on_disk == set(REAL) | set(BROKEN)
    assert len(REAL) >= 40
    kinds = {e["kind"] for e in REAL.values()}
    assert kinds == {"settings", "settings.local", "managed-settings"}
    for e in REAL.values():
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", e["repository"]) and e["path"], e
        assert re.fullmatch(r"[0-9a-f]{40}", e["commit"]), e
    for e in BROKEN.values():
        assert e["from"] in REAL and e["change"] and e["error"], e


def test_corpus_holds_no_credentials():
    for name in [*REAL, *BROKEN]:
        text = (CORPUS / name).read_text(encoding="utf-8")
        assert not SECRET_LIKE.search(text), name
    redacted = [n for n, e in REAL.items() if "redacted" in e]
    assert redacted and all("REDACTED" in (CORPUS / n).read_text() for n in redacted)


def findings(name: str) -> tuple[int, dict[str, list[str]]]:
    """Exit code and the pointers validate-settings reports per level for one file."""
    path = str(CORPUS / name)
    with pytest.MonkeyPatch.context() as mp:
        out, err = io.StringIO(), io.StringIO()
        mp.setattr(sys, "stdout", out)
        mp.setattr(sys, "stderr", err)
        code = cli.main(["validate-settings", path])
    levels: dict[str, list[str]] = {"errors": [], "warnings": [], "notes": []}
    for line in (out.getvalue() + err.getvalue()).splitlines():
        rest = line[len(path) + 2:]
        where, _, what = rest.partition(": ")
        if not where.startswith("/"):
            continue
        level = {"warning": "warnings", "info": "notes"}.get(what.split(":")[0], "errors")
        levels[level].append(where)
    return code, levels


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_file_verdict(name: str):
    """What Claude Code loads passes (exit 0), what it rejects fails, each finding named."""
    e = REAL[name]
    code, got = findings(name)
    assert code == (0 if e["verdict"] == "valid" else 1), (name, got)
    assert got == {k: e.get(k, []) for k in ("errors", "warnings", "notes")}, name


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_variant_is_rejected_at_its_pointer(capsys, name: str):
    path = str(CORPUS / name)
    code, out = run(capsys, path)
    assert code == 1
    assert f"{path}: {BROKEN[name]['error']}" in out, out
    # The real file it came from is valid, so the one change is what fails it.
    assert REAL[BROKEN[name]["from"]]["verdict"] == "valid"


def test_whole_corpus_in_one_run(capsys):
    """One invocation over every file: exit 1 (some are broken), every file reported."""
    names = sorted([*REAL, *BROKEN])
    code, out = run(capsys, *(str(CORPUS / n) for n in names))
    assert code == 1
    valid = [n for n in names if n in REAL and REAL[n]["verdict"] == "valid"]
    assert all(re.search(rf"^{re.escape(str(CORPUS / n))}: valid", out, re.M) for n in valid)


@pytest.mark.skipif(shutil.which("check-jsonschema") is None, reason="check-jsonschema absent")
def test_schema_alone_agrees_with_the_corpus_verdicts():
    """check-jsonschema with our schema alone loads what Claude Code loads and rejects the
    rest (the findings beyond the schema, warnings and notes, never fail)."""
    valid = [str(CORPUS / n) for n, e in REAL.items() if e["verdict"] == "valid"]
    res = subprocess.run(["check-jsonschema", "--schemafile", str(SCHEMA), *valid],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-2000:]
    bad = [str(CORPUS / n) for n, e in REAL.items() if e["verdict"] == "invalid"]
    bad += [str(CORPUS / n) for n in BROKEN]
    res = subprocess.run(["check-jsonschema", "--schemafile", str(SCHEMA), *bad],
                         capture_output=True, text=True)
    assert res.returncode == 1
    named = res.stdout + res.stderr
    assert [p for p in bad if f"{p}::$" not in named and f"parse {p}\n" not in named] == []
