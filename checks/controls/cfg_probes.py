"""The JADA-CFG probes: shell snippets that select, on the target, what may leave it.

Only the settings files themselves (needed whole for schema validation, and only up to
the size cap), the ``ANTHROPIC_MODEL``/``CLAUDE_CONFIG_DIR`` assignments of the unit's
environment and model/permission arguments ever leave the target. Unit properties come
from D-Bus as JSON (``busctl --json``) so quoting in values cannot confuse the filter.
"""

from __future__ import annotations

from jada_checks.facts.probes import probe
from jada_checks.parsers.settings import MAX_BYTES

MANAGED_DIR = "/etc/claude-code"

_COMMON = r"""
set -o pipefail
b() { printf '%s' "$1" | base64 -w0; }
unit_path() {
  busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
    org.freedesktop.systemd1.Manager LoadUnit s "$UNIT" | cut -d'"' -f2
}
prop() { busctl --json=short get-property org.freedesktop.systemd1 "$1" "$2" "$3"; }
"""

FILES = _COMMON + rf"""
CAP={MAX_BYTES}
canread() {{  # 1/0: can the service user read it; '-': could not ask (no root)
  if [ -z "$SVC_USER" ] || {{ [ "$(id -u)" != 0 ] && [ -z "$JADA_SUDO" ]; }}; then
    printf -; return; fi
  R setpriv --reuid="$SVC_USER" --regid="$(id -g "$SVC_USER")" --init-groups \
    test -r "$1" 2>/dev/null
  case $? in 0) printf 1;; 1) printf 0;; *) printf -;; esac
}}
emit() {{
  local role=$1 p=$2 st=ok size=- own=- mode=- real= data= rd=- dst
  if [ -z "$p" ]; then st=nohome
  elif [ -e "$p" ]; then
    real=$(readlink -f -- "$p")
    if [ ! -f "$p" ]; then st=notfile
    else
      read -r size own mode < <(stat -L -c '%s %U %a' -- "$p")
      rd=$(canread "$p")
      if [ ! -r "$p" ]; then st=unreadable
      elif [ "$size" -gt "$CAP" ]; then st=toobig
      elif ! data=$(head -c $((CAP + 1)) -- "$p" | base64 -w0); then st=unreadable; data=
      fi
    fi
  elif [ -L "$p" ]; then st=dangling; real=$(readlink -- "$p")
  else st=missing
  fi
  dst=$( [ -n "$p" ] && stat -L -c '%U:%a' -- "$(dirname -- "$p")" 2>/dev/null || echo -)
  printf 'F\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$role" "$(b "$p")" "$st" "$size" \
    "$own" "$mode" "$(b "$real")" "$dst" "$rd" "$data"
}}
wd=${{SVC_WORKDIR#-}}; wd=${{wd#!}}
case $wd in '~') wd=$SVC_HOME;; '') wd=/;; esac
wd=${{wd%/}}
printf 'H\t%s\t%s\t%s\n' "$(b "$SVC_HOME")" \
  "$(b "$(readlink -f -- "$SVC_HOME" 2>/dev/null)")" "$(b "${{wd:-/}}")"
emit user "${{SVC_HOME:+${{SVC_HOME%/}}/.claude/settings.json}}"
emit local "$wd/.claude/settings.local.json"
emit project "$wd/.claude/settings.json"
emit managed {MANAGED_DIR}/managed-settings.json
for f in {MANAGED_DIR}/managed-settings.d/*.json; do
  if [ -e "$f" ] || [ -L "$f" ]; then emit managed.d "$f"; fi
done
"""

ENV = _COMMON + r"""
pick() {
  grep -oE '[[,]"(ANTHROPIC_MODEL|CLAUDE_CONFIG_DIR)=([^"\\]|\\.)*"' | cut -c2- || true
}
up=$(unit_path) || exit 3
j=$(prop /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager Environment) \
  || exit 3
printf '%s' "$j" | pick | sed 's/^/E\tdefault\t/'
j=$(prop "$up" org.freedesktop.systemd1.Service Environment) || exit 3
printf '%s' "$j" | pick | sed 's/^/E\tunit\t/'
j=$(prop "$up" org.freedesktop.systemd1.Service EnvironmentFiles) || exit 3
printf '%s' "$j" | grep -oE '\["([^"\\]|\\.)*",(true|false)\]' | \
  sed -E 's/^\["(.*)",(true|false)\]$/\2\t\1/' | while IFS=$'\t' read -r ign f; do
    i=0; [ "$ign" = true ] && i=1
    if [ ! -e "$f" ]; then st=missing; elif [ ! -r "$f" ]; then st=unreadable; else st=ok; fi
    printf 'EF\t%s\t%s\t%s\n' "$(b "$f")" "$i" "$st"
    [ "$st" = ok ] || continue
    grep -aE '^[[:space:]]*(ANTHROPIC_MODEL|CLAUDE_CONFIG_DIR)[[:space:]]*=' -- "$f" | \
      while IFS= read -r l; do printf 'EV\t%s\t%s\n' "$(b "$f")" "$(b "$l")"; done
  done
if [ "${MAINPID:-0}" -gt 0 ] && v=$(R grep -az '^ANTHROPIC_MODEL=' "/proc/$MAINPID/environ" \
    2>/dev/null | head -zn1 | tr -d '\0'; [ "${PIPESTATUS[0]}" -le 1 ]); then  # 1: not set
  printf 'M\t%s\n' "$(b "$v")"
fi
"""

EXEC = _COMMON + r"""
up=$(unit_path) || exit 3
j=$(prop "$up" org.freedesktop.systemd1.Service ExecStart) || exit 3
printf '%s' "$j" | grep -oE \
  -e '[[,]"--(model|permission-mode|setting-sources)(=([^"\\]|\\.)*)?"(,"([^"\\]|\\.)*")?' \
  -e '[[,]"--(dangerously-skip-permissions|allow-dangerously-skip-permissions)"' \
  -e '[[,]"--settings[="]' | cut -c2- | sed 's/^/X\t/' || true
"""

PROCS = _COMMON + r"""
pids=
cg=$(systemctl show -p ControlGroup --value -- "$UNIT" 2>/dev/null)
if [ -n "$cg" ] && [ -d "/sys/fs/cgroup$cg" ]; then
  pids=$(find "/sys/fs/cgroup$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)
elif [ "${MAINPID:-0}" -gt 0 ]; then
  pids=$(ps -e -o pid=,ppid= | awk -v root="$MAINPID" '{p[$1]=$2} END {k[root]=1;
    do { n=0; for (x in p) if (!(x in k) && (p[x] in k)) { k[x]=1; n++ } } while (n);
    for (x in k) print x }')
fi
printf 'C\t%s\n' "$(printf '%s\n' $pids | grep -c . || true)"
for p in $pids; do
  mapfile -d '' -t a 2>/dev/null < "/proc/$p/cmdline" || continue
  [ ${#a[@]} -gt 0 ] || continue
  is=0; i=1
  case ${a[0]##*/} in
    claude) is=1;;
    sh|bash|dash|node|nodejs|bun|env)
      case ${a[1]:-} in claude|*/claude|*/claude-code/cli.js|*/claude-code/cli.mjs) is=1; i=2;;
      esac;;
  esac
  [ $is = 1 ] || continue
  model= n=0 skip=0 pm=
  for ((; i < ${#a[@]}; i++)); do
    case ${a[i]} in
      --model) model=${a[i+1]:-}; n=$((n + 1)); i=$((i + 1));;
      --model=*) model=${a[i]#--model=}; n=$((n + 1));;
      --dangerously-skip-permissions) skip=1;;
      --permission-mode) pm=${a[i+1]:-}; i=$((i + 1));;
      --permission-mode=*) pm=${a[i]#--permission-mode=};;
    esac
  done
  # '-' (not base64) says: could not look; grep's 1 only says the variable is not set
  if v=$(R grep -az '^ANTHROPIC_MODEL=' "/proc/$p/environ" 2>/dev/null | head -zn1 \
      | tr -d '\0'; [ "${PIPESTATUS[0]}" -le 1 ]); then env=$(b "$v")
  else env=-
  fi
  cwd=$(R readlink "/proc/$p/cwd" 2>/dev/null)
  printf 'P\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "$(b "$cwd")" "$(b "$model")" "$n" \
    "$env" "$skip" "$(b "$pm")"
done
"""


def register() -> None:
    probe("cfg_files", FILES)
    probe("cfg_env", ENV)
    probe("cfg_exec", EXEC)
    probe("cfg_procs", PROCS)
