"""The old and the new fact script, and running either on a sandbox host as the suite does.

The old script is frozen in ``tests/data/fact_script/`` (main at 634bbe9, before issue 25
rewrote it); the new one is whatever :func:`~jada_checks.facts.probes.build_script` builds
today. Both go over one real SSH login through :class:`~jada_checks.facts.remote.Connection`
(the script on stdin, run by ``bash -c`` under ``timeout``) and their stdout is split with
:func:`~jada_checks.facts.host.split_sections`, exactly as ``facts.host.gather`` does.
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass
from pathlib import Path

from jada_checks.facts.host import Section, split_sections
from jada_checks.facts.remote import Connection
from jada_checks.profile import Target
from tests.support.paths import DATA

OLD_SCRIPT = DATA / "fact_script" / "old_634bbe9.sh"
# The frozen file's digest: an edit of the "old" would make old-vs-new prove nothing.
OLD_SHA256 = "f91cb9d42260ae17aeaa40a5a7fb89b8e67f85516802e58db554b429741a5ec4"


def old_body(path: Path = OLD_SCRIPT) -> str:
    """The frozen script without its header comment (lines 3 and on of the original)."""
    lines = path.read_text().splitlines(keepends=True)
    first = next(i for i, ln in enumerate(lines) if not ln.startswith("#"))
    return "".join(lines[first:])


def parameters(unit: str, sudo: bool) -> str:
    """The two lines build_script puts first: the unit and the sudo flag."""
    return f"UNIT={shlex.quote(unit)}\nJADA_SUDO={'1' if sudo else ''}\n"


def old_script(unit: str, *, sudo: bool) -> str:
    return parameters(unit, sudo) + old_body()


def new_script(unit: str, *, sudo: bool) -> str:
    """Today's build_script, with every control module's probes registered (as a run has)."""
    from jada_checks.controls import catalogue
    from jada_checks.facts.probes import build_script

    catalogue()
    return build_script(unit, sudo=sudo)


def old_digest() -> str:
    return hashlib.sha256(OLD_SCRIPT.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Answer:
    """What one script printed on one host: its exit status, the stderr outside any
    section (the prelude's, bash's own), and the sections."""

    rc: int
    stderr: str
    sections: dict[str, Section]


def run_script(target: Target, script: str) -> Answer:
    """Run ``script`` on ``target`` over one login of its own, as ``facts.host.gather``."""
    conn = Connection(target)
    try:
        res = conn.run(script)
    finally:
        conn.close()
    return Answer(res.rc, res.stderr.decode("utf-8", "replace"),
                  split_sections(res.stdout.decode("utf-8", "replace")))
