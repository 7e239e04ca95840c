"""Registry of the shell snippets that make up the one batched fact-gathering command.

Control modules register what they need at import time; :func:`build_script` joins it
all into a single bash script, so a whole run costs one remote command per target.
A snippet writes its fact to stdout; its stderr and exit status are kept beside it.

Secrets stay on the target: snippets must select what they print (for example only
``ANTHROPIC_MODEL`` from an environment), never dump whole environments.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

BEGIN = "@@JADA-BEGIN "
END = "@@JADA-END "
ERR = "@@JADA-ERR "
REFUSED = "@@JADA-REFUSED "  # inside ERR lines: a read sudo refused


@dataclass(frozen=True)
class Probe:
    name: str
    snippet: str


PROBES: dict[str, Probe] = {}
UNIT_PROPERTIES: list[str] = []


def probe(name: str, snippet: str) -> None:
    """Register a named snippet; the same name twice must be the same snippet."""
    snippet = snippet.strip()
    old = PROBES.get(name)
    if old and old.snippet != snippet:
        raise ValueError(f"probe {name!r} registered twice with different snippets")
    PROBES[name] = Probe(name, snippet)


def unit_properties(*names: str) -> None:
    """Ask for unit properties in the shared ``systemctl show`` probe (never Environment)."""
    for name in names:
        if name in ("Environment", "EnvironmentFiles"):
            raise ValueError("Environment holds secrets: register a filtering probe instead")
        if name not in UNIT_PROPERTIES:
            UNIT_PROPERTIES.append(name)


# The prelude sets variables that later snippets use: the unit, its main process, its
# user and that user's home from the passwd database (not the SSH user's home).
# Least privilege: the script runs as the SSH user; only the reads that need root are
# written ``R cmd args...`` and, with ``ssh.sudo``, become ``sudo -n -- cmd args...``, each
# with a fixed argument shape that ci/sudoers.d/jada-checks matches exactly. When sudo
# refuses, R says so on fd 9, which S joins to the section's stderr even where a snippet
# discards its own stderr, so the control can name the refused read.
PRELUDE = r"""
export LC_ALL=C
S() {
  printf '%s%s\n' '@@JADA-BEGIN ' "$1"
  { ( eval "$2" ) 2>&1 9>&2 1>&3 3>&- | sed -u 's/^/@@JADA-ERR /'; rc=${PIPESTATUS[0]}; } 3>&1
  printf '%s%s %s\n' '@@JADA-END ' "$1" "$rc"
}
JADA_SUDO_REFUSED=
if [ -n "$JADA_SUDO" ] && [ "$(id -u)" != 0 ]; then
  JADA_SUDO_REFUSED=$(sudo -n -l 2>&1 >/dev/null) \
    && JADA_SUDO_REFUSED= || JADA_SUDO_REFUSED=${JADA_SUDO_REFUSED:-sudo -n -l failed}
  JADA_SUDO_REFUSED=$(printf '%s' "$JADA_SUDO_REFUSED" | head -n1 | cut -c1-160)
fi
R() {
  if [ -z "$JADA_SUDO" ] || [ "$(id -u)" = 0 ]; then "$@"; return; fi
  if [ -n "$JADA_SUDO_REFUSED" ]; then
    printf '%s%s: %s\n' '@@JADA-REFUSED ' "$*" "$JADA_SUDO_REFUSED" >&9; return 126
  fi
  sudo -n -- "$@"
}
MAINPID=$(systemctl show -p MainPID --value "$UNIT" 2>/dev/null)
SVC_USER=$(systemctl show -p User --value "$UNIT" 2>/dev/null)
SVC_HOME=$(getent passwd "${SVC_USER:-root}" | cut -d: -f6)
SVC_WORKDIR=$(systemctl show -p WorkingDirectory --value "$UNIT" 2>/dev/null)
"""


def build_script(unit: str, *, sudo: bool = False) -> str:
    """The whole fact-gathering script for one target; ``sudo`` routes the ``R`` reads
    through ``sudo -n`` (the rest runs as the SSH user)."""
    props = ",".join(["Id", "MainPID", "User", "WorkingDirectory", *UNIT_PROPERTIES])
    show = f'systemctl show --no-pager -p {props} -- "$UNIT"'
    parts = [f"UNIT={shlex.quote(unit)}", f"JADA_SUDO={'1' if sudo else ''}", PRELUDE.strip(),
             f"S unit_show {shlex.quote(show)}"]
    for p in PROBES.values():
        parts.append(f"S {p.name} {shlex.quote(p.snippet)}")
    return "\n".join(parts) + "\n"
