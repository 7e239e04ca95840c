"""``make check-upstream``: is what the suite knows of Claude Code still what is published?

Run it when Claude Code releases. It compares, and prints every difference:

(a) the sandbox stand-in's layout (``sandbox/hosts/compliant/rootfs/usr/local/lib/
    node_modules/@anthropic-ai/claude-code/package.json``), the real host's version
    (``sandbox/hosts/cfg-real-claude/claude-code``) and the recognition rules
    (:mod:`jada_checks.claude_release`) with the newest ``@anthropic-ai/claude-code``: its
    ``bin``, its platform packages, where its postinstall puts the binary, the platform
    package's files, and the native installer's layout in the binary itself;
(b) the keys of ``schemas/claude-settings.schema.json`` with SchemaStore's
    ``claude-code-settings.json`` (https://json.schemastore.org/claude-code-settings.json;
    where that host cannot be reached, npm's ``@schemastore/claude-code-settings``, the
    TypeScript definitions generated from the same file, which carry its top-level keys);
(c) the model ids and aliases the suite knows (``claude_release.MODEL_IDS``/``ALIASES``,
    ``model_resolution.ALIAS``, the profile's default allow-list) with the catalogue in the
    newest binary.

Exit 0: no difference; 1: differences (printed); 2: a part could not be compared (the
registry or the binary could not be had): never "no difference" for what was not seen.
It needs the npm registry (``npm view``, ``npm pack``; the 400 MB binary is cached under
/var/cache/jada-sandbox/claude-code like the sandbox's), so it is not part of ``make test``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jada_checks import claude_release as rel

REPO = Path(__file__).resolve().parents[3]
STANDIN = REPO / ("sandbox/hosts/compliant/rootfs/usr/local/lib/node_modules/"
                  "@anthropic-ai/claude-code/package.json")
REAL_HOST = REPO / "sandbox/hosts/cfg-real-claude/claude-code"
SCHEMA = REPO / "schemas/claude-settings.schema.json"
PROFILE_SCHEMA = REPO / "schemas/profile.schema.json"
SCHEMASTORE_URL = "https://json.schemastore.org/claude-code-settings.json"
SCHEMASTORE_NPM = "@schemastore/claude-code-settings"
PLATFORM = f"{rel.PACKAGE}-linux-x64"
# install.cjs: ``const dest = path.join(__dirname, 'bin', 'claude.exe')``
INSTALL_DEST = re.compile(r"path\.join\(__dirname,\s*'bin',\s*'claude\.exe'\)")
# the binary: its versions directory and the launcher it checks
NATIVE_MARKERS = (b'"claude","versions"', b"~/.local/bin/claude")
MODEL_ARRAYS = re.compile(rb'=\[((?:"claude-[a-z0-9-]+",?){5,})\],[\w$]+='
                          rb'\[((?:"[a-z]+(?:\[1m\])?",?)+)\]')


class Unavailable(Exception):
    """A part could not be compared; the message says why."""


# -- pure comparisons (tests/test_check_upstream.py) -----------------------------------

@dataclass
class Upstream:
    version: str
    bin: Any
    optional: dict[str, str]
    install_text: str
    platform_files: list[str]
    binary: bytes | None = None


def compare_layout(standin: dict[str, Any], real_version: str, up: Upstream) -> list[str]:
    """Differences between the stand-in, the rules and the newest package's layout."""
    out = []
    if standin.get("version") != up.version:
        out.append(f"the stand-in is laid out as {rel.PACKAGE} {standin.get('version')}, "
                   f"the newest is {up.version}")
    if real_version != up.version:
        out.append(f"cfg-real-claude runs {real_version}, the newest is {up.version}")
    if rel.VERSION != up.version:
        out.append(f"the recognition rules were checked against {rel.VERSION} "
                   f"(claude_release.VERSION), the newest is {up.version}")
    if up.bin != rel.BIN:
        out.append(f"package.json bin is {json.dumps(up.bin)}, the rules expect "
                   f"{json.dumps(rel.BIN)}")
    if standin.get("bin") != up.bin:
        out.append(f"the stand-in's bin is {json.dumps(standin.get('bin'))}, the package's "
                   f"{json.dumps(up.bin)}")
    if PLATFORM not in up.optional:
        out.append(f"{PLATFORM} is no longer among the optionalDependencies "
                   f"({', '.join(sorted(up.optional)) or 'none'})")
    if not INSTALL_DEST.search(up.install_text):
        out.append("install.cjs no longer places the binary at bin/claude.exe")
    if rel.PLATFORM_BINARY not in up.platform_files:
        out.append(f"{PLATFORM}'s files are {up.platform_files}, without "
                   f"{rel.PLATFORM_BINARY!r}")
    if up.binary is not None:
        for marker in NATIVE_MARKERS:
            if marker not in up.binary:
                out.append(f"the binary no longer contains {marker.decode()!r} (the native "
                           "installer's layout may have changed)")
    return out


def compare_keys(ours: set[str], theirs: set[str], own: set[str]) -> list[str]:
    """Our schema's top-level keys against SchemaStore's; ``own`` are documented extras."""
    out = []
    if missing := sorted(theirs - ours):
        out.append(f"SchemaStore has {len(missing)} key(s) our schema lacks: "
                   + ", ".join(missing))
    if extra := sorted(ours - theirs - own):
        out.append(f"our schema has {len(extra)} key(s) SchemaStore lacks and "
                   "claude_release.OWN_SETTINGS_KEYS does not list: " + ", ".join(extra))
    if landed := sorted(own & theirs):
        out.append(f"{len(landed)} key(s) of OWN_SETTINGS_KEYS are in SchemaStore now "
                   "(drop them from the list): " + ", ".join(landed))
    return out


def base_id(model: str) -> str:
    """``claude-haiku-4-5-20251001`` -> ``claude-haiku-4-5`` (a dated snapshot's family)."""
    return re.sub(r"-\d{8}$", "", model)


def compare_models(ids: set[str], aliases: set[str], suite_aliases: set[str],
                   default_allow: list[str]) -> list[str]:
    """The known ids and aliases against the newest binary's ``ids`` and ``aliases``."""
    out = []
    known_ids, known_aliases = set(rel.MODEL_IDS), set(rel.ALIASES)
    if new := sorted(ids - known_ids):
        out.append(f"model ids new in the newest release: {', '.join(new)}")
    if gone := sorted(known_ids - ids):
        out.append(f"model ids no longer in the newest release: {', '.join(gone)}")
    if new_a := sorted(aliases - known_aliases):
        out.append(f"aliases new in the newest release: {', '.join(new_a)}")
    if gone_a := sorted(known_aliases - aliases):
        out.append(f"aliases no longer in the newest release: {', '.join(gone_a)}")
    floating = {a.removesuffix("[1m]") for a in aliases} | set(rel.DOCUMENTED_ALIASES)
    if unfloated := sorted(floating - suite_aliases):
        out.append("aliases model_resolution.ALIAS does not treat as floating (a pinned "
                   f"model to the suite): {', '.join(unfloated)}")
    if stale := sorted(suite_aliases - floating):
        out.append(f"model_resolution.ALIAS has aliases Claude Code no longer knows: "
                   f"{', '.join(stale)}")
    for model in default_allow:
        if base_id(model) not in ids:
            out.append(f"the profile's default allow-list names {model!r}, which the "
                       "newest release does not know")
    return out


def extract_models(binary: bytes) -> tuple[set[str], set[str]]:
    """The binary's model-family ids and aliases (two adjacent string arrays)."""
    found = MODEL_ARRAYS.findall(binary)
    if len(found) != 1:
        raise Unavailable(f"the model catalogue is not where it was ({len(found)} matches)")
    ids, aliases = (set(json.loads(b"[" + part + b"]")) for part in found[0])
    return ids, aliases


def ts_keys(text: str) -> set[str]:
    """The top-level keys of ``interface ClaudeCodeSettings`` in @schemastore's .d.ts."""
    body = re.search(r"^export interface ClaudeCodeSettings \{\n(.*?)^\}", text, re.S | re.M)
    if body is None:
        raise Unavailable("no ClaudeCodeSettings interface in the type definitions")
    keys = set()
    for line in body.group(1).splitlines():
        m = re.match(r"^  (?:'([^']+)'|\"([^\"]+)\"|([A-Za-z_$][\w$]*))\??:", line)
        if m:
            keys.add(next(g for g in m.groups() if g))
    return keys


def suite_aliases(pattern: str) -> set[str]:
    """The alternatives of model_resolution.ALIAS: ``^(a|b|c)(\\[1m\\])?$`` -> {a, b, c}."""
    m = re.match(r"^\^\(([a-z|]+)\)", pattern)
    if m is None:
        raise ValueError(f"ALIAS is not of the form ^(a|b|...): {pattern[:60]!r}")
    return set(m.group(1).split("|"))


# -- what is published now ------------------------------------------------------------

def npm(*args: str, timeout: float = 120) -> str:
    try:
        res = subprocess.run(["npm", *args], capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise Unavailable("npm is not installed") from None
    except subprocess.TimeoutExpired:
        raise Unavailable(f"npm {' '.join(args)} did not answer within {timeout:.0f} s") \
            from None
    if res.returncode != 0:
        last = (res.stderr.strip().splitlines() or ["(no output)"])[-1][:200]
        raise Unavailable(f"npm {' '.join(args)} exited {res.returncode}: {last}")
    return res.stdout


def packed_file(spec: str, member: str) -> str:
    """One file of a package's tarball (``npm pack``; no script runs)."""
    with tempfile.TemporaryDirectory() as tmp:
        name = npm("pack", "--silent", "--pack-destination", tmp, spec).strip().splitlines()[-1]
        with tarfile.open(Path(tmp) / name) as tar:
            f = tar.extractfile(f"package/{member}")
            if f is None:
                raise Unavailable(f"{spec} has no {member}")
            return f.read().decode("utf-8", "replace")


def upstream(with_binary: bool = True) -> tuple[Upstream, str | None]:
    """The newest release as npm publishes it; the binary (cached) unless it cannot be had,
    in which case the second value says why."""
    # The dist-tag, not `npm pack PACKAGE`: npm picks the newest release whose engines
    # this node satisfies (2.1.197 on node 20 while 2.1.332 needs node >= 22).
    version = json.loads(npm("view", rel.PACKAGE, "dist-tags.latest", "--json"))
    view = json.loads(npm("view", f"{rel.PACKAGE}@{version}", "bin", "optionalDependencies",
                          "--json"))
    files = json.loads(npm("view", f"{PLATFORM}@{version}", "files", "--json"))
    up = Upstream(version, view.get("bin"), view.get("optionalDependencies") or {},
                  packed_file(f"{rel.PACKAGE}@{version}", "install.cjs"), list(files))
    why = None
    if with_binary:
        from jada_checks.sandbox import claude_code
        try:
            tree = claude_code.tree(version)
            up.binary = (tree / claude_code.SCOPE / "claude-code/bin/claude.exe").read_bytes()
        except (claude_code.Unavailable, OSError) as exc:
            why = f"the {version} binary could not be had: {exc}"
    return up, why


def schemastore_keys() -> tuple[set[str], str]:
    try:
        with urllib.request.urlopen(SCHEMASTORE_URL, timeout=15) as res:
            return set(json.load(res)["properties"]), SCHEMASTORE_URL
    except (OSError, ValueError, KeyError) as exc:
        reason = str(exc)[:120]
    version = json.loads(npm("view", SCHEMASTORE_NPM, "version", "--json"))
    text = packed_file(f"{SCHEMASTORE_NPM}@{version}", "index.d.ts")
    return ts_keys(text), (f"npm {SCHEMASTORE_NPM} {version} (generated from SchemaStore's "
                           f"file; {SCHEMASTORE_URL} not reachable: {reason})")


@dataclass
class Report:
    differences: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)

    def part(self, title: str, found: list[str]) -> None:
        print(f"{title}: " + ("no difference" if not found else f"{len(found)} difference(s)"))
        for line in found:
            print(f"  - {line}")
        self.differences += found

    def missing(self, title: str, why: str) -> None:
        print(f"{title}: NOT COMPARED: {why}")
        self.unavailable.append(f"{title}: {why}")


def main() -> int:
    from jada_checks.model_resolution import ALIAS
    report = Report()
    standin = json.loads(STANDIN.read_text())
    real_version = REAL_HOST.read_text().split("#", 1)[0].strip()
    binary: bytes | None = None
    try:
        up, why = upstream()
        print(f"{rel.PACKAGE}: newest {up.version}")
        report.part("(a) stand-in layout and recognition rules",
                    compare_layout(standin, real_version, up))
        binary = up.binary
        if why:
            report.missing("(a) the native installer's layout in the binary", why)
    except Unavailable as exc:
        report.missing("(a) stand-in layout and recognition rules", str(exc))
    try:
        theirs, source = schemastore_keys()
        ours = set(json.loads(SCHEMA.read_text())["properties"])
        print(f"SchemaStore keys from {source}: {len(theirs)}; ours: {len(ours)}")
        report.part("(b) settings schema keys",
                    compare_keys(ours, theirs, set(rel.OWN_SETTINGS_KEYS)))
    except Unavailable as exc:
        report.missing("(b) settings schema keys", str(exc))
    if binary is None:
        report.missing("(c) model ids", "no binary of the newest release")
    else:
        try:
            ids, aliases = extract_models(binary)
            default_allow = json.loads(PROFILE_SCHEMA.read_text())["$defs"]["model"][
                "properties"]["allow"]["default"]
            report.part("(c) model ids and aliases",
                        compare_models(ids, aliases, suite_aliases(ALIAS.pattern),
                                       default_allow))
        except Unavailable as exc:
            report.missing("(c) model ids", str(exc))
    if report.unavailable:
        print(f"incomplete: {len(report.unavailable)} part(s) not compared")
        return 2
    print(f"{len(report.differences)} difference(s)")
    return 1 if report.differences else 0


if __name__ == "__main__":
    sys.exit(main())
