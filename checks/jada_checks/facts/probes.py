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
SHARED: dict[str, str] = {}


def probe(name: str, snippet: str) -> None:
    """Register a named snippet; the same name twice must be the same snippet."""
    snippet = snippet.strip()
    old = PROBES.get(name)
    if old and old.snippet != snippet:
        raise ValueError(f"probe {name!r} registered twice with different snippets")
    PROBES[name] = Probe(name, snippet)


def shared(name: str, snippet: str) -> None:
    """Register a snippet that runs once, after the prelude, to read what several sections
    need (each would otherwise ask for it again: issue 25). It only sets variables; it
    runs outside every section, so it must keep its own stderr and never exit."""
    snippet = snippet.strip()
    old = SHARED.get(name)
    if old and old != snippet:
        raise ValueError(f"shared snippet {name!r} registered twice with different text")
    SHARED[name] = snippet


def unit_properties(*names: str) -> None:
    """Ask for unit properties in the shared ``systemctl show`` probe (never Environment)."""
    for name in names:
        if name in ("Environment", "EnvironmentFiles"):
            raise ValueError("Environment holds secrets: register a filtering probe instead")
        if name not in UNIT_PROPERTIES:
            UNIT_PROPERTIES.append(name)


# base64 -w0 of a string's bytes without a process: the script encodes dozens of paths
# and names (issue 25). The byte values come from one printf of "'c" words (bash(1), printf:
# a leading quote gives the character's code, in the C locale its byte). Bash 5.2 writes
# those words in one substitution (patsub_replacement: & is the matched text), split on
# \3; older bash, and text holding \3, one character at a time. Then 4 letters per 3 bytes.
B64 = r"""
JADA_B64=({A..Z} {a..z} {0..9} + /)
jada_b64v() {  # $1 a variable, $2 text: the variable gets the text in base64 (as base64 -w0)
  local _s=$2 _o= _i _n=${#2} _v _f= _d=$'\3' _q="'" IFS=' '
  local -a _c=()
  if [ "$_n" -gt 0 ]; then
    if shopt -q patsub_replacement 2>/dev/null && [[ $_s != *$'\3'* ]]; then
      [[ $- == *f* ]] || { _f=1; set -f; }
      _s=${_s//?/$_d$_q&}; IFS=$'\3'; _c=($_s); IFS=' '; _c=("${_c[@]:1}")
      [ -z "$_f" ] || set +f
    else
      for ((_i = 0; _i < _n; _i++)); do _c[_i]="'${_s:_i:1}"; done
    fi
    printf -v _s '%d ' "${_c[@]}"
    _c=($_s)
  fi
  _i=0  # 3 bytes as one 24-bit number, then 4 letters of 6 bits each
  while ((_i + 2 < _n)); do
    ((_v = _c[_i] << 16 | _c[_i+1] << 8 | _c[_i+2], _i += 3))
    _o+=${JADA_B64[_v>>18]}${JADA_B64[_v>>12&63]}${JADA_B64[_v>>6&63]}${JADA_B64[_v&63]}
  done
  case $((_n - _i)) in
    1) ((_v = _c[_i] << 16)); _o+=${JADA_B64[_v>>18]}${JADA_B64[_v>>12&63]}==;;
    2) ((_v = _c[_i] << 16 | _c[_i+1] << 8))
       _o+=${JADA_B64[_v>>18]}${JADA_B64[_v>>12&63]}${JADA_B64[_v>>6&63]}=;;
  esac
  printf -v "$1" '%s' "$_o"
}
jada_b64() {  # jada_b64 STRING [VAR]: base64 -w0 of the string's bytes, no process
  local _r
  jada_b64v _r "$1"
  if [ -n "$2" ]; then printf -v "$2" '%s' "$_r"; else printf '%s' "$_r"; fi
}
""".strip()


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
@B64@
S() {
  local _e _rc
  printf '%s%s\n' '@@JADA-BEGIN ' "$1"
  { _e=$(eval "$2" 2>&1 9>&2 1>&3 3>&-); _rc=$?; } 3>&1
  [[ -z $_e ]] || printf '@@JADA-ERR %s\n' "${_e//$'\n'/$'\n@@JADA-ERR '}"
  printf '%s%s %s\n' '@@JADA-END ' "$1" "$_rc"
}
jada_read() {  # jada_read VAR FILE: the file as $(cat FILE) gives it, without a process.
  # mapfile, not read -d '': before bash 5.2 read takes one byte per read(2), and a
  # /proc/sys file answers only a read at offset 0 (kernel/sysctl.c, proc_sys_call_handler)
  # mapfile fails only when the file cannot be opened: an error reading it (EIO, EISDIR)
  # leaves the array empty with status 0, so an empty answer asks cat for its status
  local -a jada_a; local IFS=$'\n' jada_x
  mapfile -t jada_a 2>/dev/null < "$2" || return 1
  if [ "${#jada_a[@]}" = 0 ]; then jada_x=$(cat -- "$2" 2>/dev/null) || return 1; fi
  [ "${#jada_a[@]}" = 0 ] || jada_x="${jada_a[*]}"
  while [[ $jada_x == *$'\n' ]]; do jada_x=${jada_x%$'\n'}; done
  printf -v "$1" '%s' "$jada_x"
}
jada_cat() {  # cat FILE: without a process when bash can print it byte for byte (it has
  # no NUL byte); else, and when it cannot be read or reads as empty (mapfile says 0 on
  # an error after open), cat itself, for its own words
  local -a jada_a=()
  if mapfile -d '' jada_a 2>/dev/null < "$1" && [ "${#jada_a[@]}" = 1 ]; then
    printf '%s' "${jada_a[0]}"; return 0
  fi
  cat "$1"
}
JADA_READ=/usr/local/libexec/jada-checks-read
JADA_READ_VERSION=4
JADA_SUDO_REFUSED=
JADA_SUDO_VERSION=
jada_sudo_reason() {  # sudo's own words, one line: what it printed, minus the marker
  printf '%s\n' "$1" | grep -v '^@@JADA-READ ran$' | head -n 3 | tr '\n' ' ' | tr -s ' ' \
    | sed 's/ *$//' | cut -c1-300
}
if [ -n "$JADA_SUDO" ] && [ "$EUID" != 0 ]; then
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
if [ -z "$JADA_SUDO" ] || [ "$EUID" = 0 ]; then
  # the reads run as this user: R is the command itself. As a function of that one
  # command, $(R cmd) costs one process, not two (bash 5.2 runs the last command of a
  # command substitution without forking again; issue 25)
  R() { "$@"; }
else
R() {
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
fi
JADA_SHOW=$(systemctl show --no-pager -p @PROPS@ -- "$UNIT" 2>&1); JADA_SHOW_RC=$?
# its lines, split once (taking them one by one off the front copies the rest each time);
# the empty ones are dropped, and none of its readers needs them
set -f; IFS=$'\n'; JADA_SHOW_LINES=($JADA_SHOW); IFS=$' \t\n'; set +f
declare -A JADA_PROP=()
for l in "${JADA_SHOW_LINES[@]}"; do
  [[ $l =~ ^[A-Za-z]+= ]] && JADA_PROP[${l%%=*}]=${l#*=}
done
jada_field() {  # $3 gets field $2 (1-based) of the colon-separated line $1, as cut -d: -f$2
  local x=$1 i
  for ((i = 1; i < $2; i++)); do [[ $x == *:* ]] || { x=; break; }; x=${x#*:}; done
  printf -v "$3" '%s' "${x%%:*}"
}
MAINPID=${JADA_PROP[MainPID]}
SVC_USER=${JADA_PROP[User]}
SVC_USER_FROM=User=
if [ -z "$SVC_USER" ] && [ "${MAINPID:-0}" -gt 0 ] 2>/dev/null \
    && [ "${JADA_PROP[DynamicUser]}" != yes ]; then
  # No User=: the unit starts as root, but ExecStart= may drop privileges (setpriv, runuser,
  # su, the program itself). The user is the one its main process really runs as (the
  # first field of Uid:, the real uid; /proc/PID/status, man 5 proc).
  svc_uid=
  if mapfile -t jada_st 2>/dev/null < "/proc/$MAINPID/status"; then
    for l in "${jada_st[@]}"; do
      if [[ $l == Uid:* ]]; then l=(${l#Uid:}); svc_uid=${l[0]}; break; fi
    done
  fi
  if [ -n "$svc_uid" ] && [ "$svc_uid" != 0 ]; then
    SVC_USER=$(getent passwd "$svc_uid"); SVC_USER=${SVC_USER%%:*}
    SVC_USER_FROM="MainPID $MAINPID uid $svc_uid"
  fi
fi
jada_field "$(getent passwd "${SVC_USER:-root}")" 6 SVC_HOME
SVC_WORKDIR=${JADA_PROP[WorkingDirectory]}
# The network namespaces, read once for the three sections that compare them (issue 25):
# JADA_NETNS is this shell's; JADA_NETNS_SVC the main process's, kept only when one
# readlink read both and R is the command itself (so no refusal was due on fd 9). Without
# it, jada_svc_netns reads it through R in the section, as the sections always did.
unset JADA_NETNS_SVC
if [ "${MAINPID:-0}" -gt 0 ] 2>/dev/null && { [ -z "$JADA_SUDO" ] || [ "$EUID" = 0 ]; } \
    && { jada_l=$(readlink /proc/self/ns/net "/proc/$MAINPID/ns/net"); } 2>/dev/null \
    && [[ $jada_l == *$'\n'* ]]; then
  JADA_NETNS=${jada_l%%$'\n'*}; JADA_NETNS_SVC=${jada_l#*$'\n'}
else
  JADA_NETNS=$(readlink /proc/self/ns/net)
fi
jada_svc_netns() {  # JADA_SVC and the status of $(R readlink /proc/MAINPID/ns/net 2>/dev/null)
  if [ -n "${JADA_NETNS_SVC+set}" ]; then JADA_SVC=$JADA_NETNS_SVC; return 0; fi
  { JADA_SVC=$(R readlink "/proc/$MAINPID/ns/net"); } 2>/dev/null
}
""".replace("@B64@", B64)


# What the preflight found, for the report: once per target.
PREFLIGHT = r"""
if [ -n "$JADA_SUDO" ] && [ "$EUID" != 0 ]; then
  echo "sudo ${JADA_SUDO_VERSION:--}"
  [ -n "$JADA_SUDO_REFUSED" ] && echo "refused $JADA_SUDO_REFUSED"
fi
true
""".strip()


# Who the prelude resolved the service user to, and from what (User= or the main process).
SVC_USER_FACT = r"""
printf 'user %s\nfrom %s\nhome %s\n' "$SVC_USER" "$SVC_USER_FROM" "$SVC_HOME"
""".strip()


# unit_show prints the properties it was asked for from the prelude's one ``systemctl
# show`` (which also holds those the prelude and the sections use), in systemctl's order;
# what is not a property line is systemctl's stderr.
UNIT_SHOW = r"""
for x in "${JADA_SHOW_LINES[@]}"; do
  if [[ $x =~ ^[A-Za-z]+= ]]; then [[ " @KEEP@ " == *" ${x%%=*} "* ]] && printf '%s\n' "$x"
  elif [[ -n $x ]]; then printf '%s\n' "$x" >&2; fi
done
exit "$JADA_SHOW_RC"
""".strip()

# The properties the prelude and the sections read from the shared ``systemctl show``.
SHARED_PROPERTIES = ("Id", "MainPID", "User", "DynamicUser", "WorkingDirectory",
                     "ControlGroup", "FragmentPath", "DropInPaths", "WantedBy", "RequiredBy",
                     "BoundBy", "UpheldBy")

# Sections run in LANES lanes at once: lane 0 in the script's own shell, writing straight
# to stdout; the others each in a process substitution (bash(1), Process Substitution)
# whose output waits in its pipe, never in a file (the suite never changes a target),
# until one ``cat`` copies the lanes out in order after lane 0. Each section's output is
# whole in its lane, so the parsed answer never depends on timing. Sections are dealt to
# the lanes by their measured cost (CPU seconds on the compliant host, COST; others
# DEFAULT_COST) so the lanes end together; lane 0 gets the big outputs, which a pipe
# (64 KiB) would hold up. COST is what each section's own shell and its children used in
# whole runs (bash's times, mean of 15), after issue 25's cuts.
LANES = 3
DEFAULT_COST = 0.002
COST = {"cfg_procs": 0.032, "cfg_files": 0.017, "hc_boot_route": 0.014, "hc_journal": 0.012,
        "hc_sysctl_files": 0.01, "cfg_env": 0.009, "hc_analyze": 0.007, "hc_boot_facts": 0.006,
        "hc_unit_uids": 0.006, "hc_session": 0.005, "hc_limits_files": 0.004}
LANE0 = ("cfg_files", "hc_boot_route", "hc_sysctl_files", "hc_limits_files")


def _lanes(names: list[str]) -> list[list[str]]:
    """Deal sections to lanes: LANE0's to lane 0, then the costliest first to the lane
    with the least cost so far; each lane keeps the registration order."""
    load = [0.0] * LANES
    lane: dict[str, int] = {}
    for n in names:
        if n in LANE0:
            lane[n] = 0
            load[0] += COST.get(n, DEFAULT_COST)
    for n in sorted((n for n in names if n not in lane), key=lambda n: -COST.get(n, DEFAULT_COST)):
        lane[n] = min(range(LANES), key=lambda i: (load[i], i))
        load[lane[n]] += COST.get(n, DEFAULT_COST)
    return [[n for n in names if lane[n] == i] for i in range(LANES)]


def build_script(unit: str, *, sudo: bool = False) -> str:
    """The whole fact-gathering script for one target; ``sudo`` routes the ``R`` reads
    through ``sudo -n`` (the rest runs as the SSH user)."""
    asked = ["Id", "MainPID", "User", "WorkingDirectory", *UNIT_PROPERTIES]
    props = ",".join(dict.fromkeys([*asked, *SHARED_PROPERTIES]))
    snippets = {"unit_show": UNIT_SHOW.replace("@KEEP@", " ".join(asked)),
                "sudo_preflight": PREFLIGHT, "svc_user": SVC_USER_FACT}
    snippets.update((p.name, p.snippet) for p in PROBES.values())
    lanes = _lanes(list(snippets))
    parts = [f"UNIT={shlex.quote(unit)}", f"JADA_SUDO={'1' if sudo else ''}",
             PRELUDE.strip().replace("@PROPS@", props), *SHARED.values(), "JADA_LANES=()"]
    for names in lanes[1:]:
        if names:
            parts.append("exec {jada_fd}< <(")
            parts += [f"S {n} {shlex.quote(snippets[n])}" for n in names]
            parts.append(')\nJADA_LANES+=("/dev/fd/$jada_fd")')
    parts += [f"S {n} {shlex.quote(snippets[n])}" for n in lanes[0]]
    parts.append('[ "${#JADA_LANES[@]}" = 0 ] || cat "${JADA_LANES[@]}"')
    return "\n".join(parts) + "\n"
