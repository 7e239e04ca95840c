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
# user and that user's home from the passwd database (not the SSH user's home). The user
# is User= of the unit; without User= (and without DynamicUser=) it is the user the main
# process really runs as (/proc/MainPID/status Uid:, real uid) when that is not root, so a
# privilege drop inside ExecStart= counts; else empty (root). Section svc_user says which.
# Least privilege: the script runs as the SSH user; only the reads that need root are
# written ``R cmd args...`` and, with ``ssh.sudo``, become
# ``sudo -n -- /usr/local/libexec/jada-checks-read cmd args...`` (ci/libexec/: it checks
# the exact argument shape itself, on any sudo version). The helper's first stderr line
# is a marker, so R tells sudo's refusal (no marker) from the command's own "no" (the
# marker, then its status): a refusal is never read as an answer. R reports a refusal on
# fd 9, which S joins to the section's stderr even where a snippet discards its own
# stderr, so the control can name the refused read. A preflight asks once per target
# (section sudo_preflight): is sudo there, which version, may the helper run, is it the
# version this suite speaks; after a failed preflight no R asks sudo again.
PRELUDE = r"""
export LC_ALL=C
S() {
  printf '%s%s\n' '@@JADA-BEGIN ' "$1"
  { ( eval "$2" ) 2>&1 9>&2 1>&3 3>&- | sed -u 's/^/@@JADA-ERR /'; rc=${PIPESTATUS[0]}; } 3>&1
  printf '%s%s %s\n' '@@JADA-END ' "$1" "$rc"
}
JADA_READ=/usr/local/libexec/jada-checks-read
JADA_READ_VERSION=4
JADA_SUDO_REFUSED=
JADA_SUDO_VERSION=
jada_sudo_reason() {  # sudo's own words, one line: what it printed, minus the marker
  printf '%s\n' "$1" | grep -v '^@@JADA-READ ran$' | head -n 3 | tr '\n' ' ' | tr -s ' ' \
    | sed 's/ *$//' | cut -c1-300
}
if [ -n "$JADA_SUDO" ] && [ "$(id -u)" != 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    JADA_SUDO_REFUSED="sudo is not installed (apt-get install sudo)"
  else
    JADA_SUDO_VERSION=$(sudo -V 2>/dev/null | head -n1 | sed 's/^Sudo version //')
    out=$(sudo -n -- "$JADA_READ" version 2>&1); rc=$?
    extra=$(printf '%s\n' "$out" | grep -vx -e '@@JADA-READ ran' -e 'jada-checks-read [0-9]*')
    if ! printf '%s\n' "$out" | grep -qx '@@JADA-READ ran'; then
      JADA_SUDO_REFUSED="$(jada_sudo_reason "$out") (exit $rc)"
      case $out in *'password is required'*)
        if sudo -n -l >/dev/null 2>&1; then
          JADA_SUDO_REFUSED="$JADA_SUDO_REFUSED: sudo -l lists rules, but none for $JADA_READ"
        else
          JADA_SUDO_REFUSED="$JADA_SUDO_REFUSED: no NOPASSWD rule lets this user run $JADA_READ"
        fi ;;
      esac
    elif [ -n "$extra" ]; then  # it ran, but sudo complained: e.g. a sudoers syntax error
      JADA_SUDO_REFUSED="sudo reports a problem: $(jada_sudo_reason "$extra")"
    elif ! printf '%s\n' "$out" | grep -qx "jada-checks-read $JADA_READ_VERSION"; then
      JADA_SUDO_REFUSED="$JADA_READ is another version ($(jada_sudo_reason "$out"))"
      JADA_SUDO_REFUSED="$JADA_SUDO_REFUSED; this suite speaks version $JADA_READ_VERSION:"
      JADA_SUDO_REFUSED="$JADA_SUDO_REFUSED replace it with ci/libexec/jada-checks-read"
      JADA_SUDO_REFUSED="$JADA_SUDO_REFUSED of this release"
      case $out in *'jada-checks-read '[123]) # issue 26: they let the audit user be root
        JADA_SUDO_REFUSED="$JADA_SUDO_REFUSED now (versions 1 to 3 let the audit user"
        JADA_SUDO_REFUSED="$JADA_SUDO_REFUSED run any program as root)" ;;
      esac
    fi
  fi
fi
R() {
  if [ -z "$JADA_SUDO" ] || [ "$(id -u)" = 0 ]; then "$@"; return; fi
  if [ -n "$JADA_SUDO_REFUSED" ]; then
    printf '%s%s: %s\n' '@@JADA-REFUSED ' "$*" "$JADA_SUDO_REFUSED" >&9; return 126
  fi
  local err rc
  { err=$(sudo -n -- "$JADA_READ" "$@" 2>&1 1>&4 4>&-); rc=$?; } 4>&1
  case $'\n'$err in
    *$'\n@@JADA-READ ran'*)  # it ran: after the marker is the command's own stderr
      err=${err#*@@JADA-READ ran}; err=${err#$'\n'}
      if [ "$rc" = 64 ]; then
        printf '%s%s: %s\n' '@@JADA-REFUSED ' "$*" "$err" >&9; return 126
      fi
      [ -n "$err" ] && printf '%s\n' "$err" >&2
      return "$rc" ;;
  esac
  printf '%s%s: %s\n' '@@JADA-REFUSED ' "$*" "$(jada_sudo_reason "$err") (exit $rc)" >&9
  return 126
}
MAINPID=$(systemctl show -p MainPID --value "$UNIT" 2>/dev/null)
SVC_USER=$(systemctl show -p User --value "$UNIT" 2>/dev/null)
SVC_USER_FROM=User=
if [ -z "$SVC_USER" ] && [ "${MAINPID:-0}" -gt 0 ] 2>/dev/null \
    && [ "$(systemctl show -p DynamicUser --value "$UNIT" 2>/dev/null)" != yes ]; then
  # No User=: the unit starts as root, but ExecStart= may drop privileges (setpriv, runuser,
  # su, the program itself). The user is the one its main process really runs as.
  svc_uid=$(awk '/^Uid:/ {print $2; exit}' "/proc/$MAINPID/status" 2>/dev/null)
  if [ -n "$svc_uid" ] && [ "$svc_uid" != 0 ]; then
    SVC_USER=$(getent passwd "$svc_uid" | cut -d: -f1)
    SVC_USER_FROM="MainPID $MAINPID uid $svc_uid"
  fi
fi
SVC_HOME=$(getent passwd "${SVC_USER:-root}" | cut -d: -f6)
SVC_WORKDIR=$(systemctl show -p WorkingDirectory --value "$UNIT" 2>/dev/null)
"""


# What the preflight found, for the report: once per target.
PREFLIGHT = r"""
if [ -n "$JADA_SUDO" ] && [ "$(id -u)" != 0 ]; then
  echo "sudo ${JADA_SUDO_VERSION:--}"
  [ -n "$JADA_SUDO_REFUSED" ] && echo "refused $JADA_SUDO_REFUSED"
fi
true
""".strip()


# Who the prelude resolved the service user to, and from what (User= or the main process).
SVC_USER_FACT = r"""
printf 'user %s\nfrom %s\nhome %s\n' "$SVC_USER" "$SVC_USER_FROM" "$SVC_HOME"
""".strip()


def build_script(unit: str, *, sudo: bool = False) -> str:
    """The whole fact-gathering script for one target; ``sudo`` routes the ``R`` reads
    through ``sudo -n`` (the rest runs as the SSH user)."""
    props = ",".join(["Id", "MainPID", "User", "WorkingDirectory", *UNIT_PROPERTIES])
    show = f'systemctl show --no-pager -p {props} -- "$UNIT"'
    parts = [f"UNIT={shlex.quote(unit)}", f"JADA_SUDO={'1' if sudo else ''}", PRELUDE.strip(),
             f"S unit_show {shlex.quote(show)}", f"S sudo_preflight {shlex.quote(PREFLIGHT)}",
             f"S svc_user {shlex.quote(SVC_USER_FACT)}"]
    for p in PROBES.values():
        parts.append(f"S {p.name} {shlex.quote(p.snippet)}")
    return "\n".join(parts) + "\n"
