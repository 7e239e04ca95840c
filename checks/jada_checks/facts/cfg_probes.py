"""The JADA-CFG probes: shell snippets that select, on the target, what may leave it.

What leaves the target: the settings files themselves (needed whole for schema
validation, only up to the size cap, and an inline ``--settings`` JSON, which is a settings
file written on the command line), assignments of the variables in
:data:`~jada_checks.parsers.cfg_facts.ENV_NAMES` (from the unit, its ``ExecStart=``
wrappers and each claude process's own environment), and model/permission arguments. No
other variable's name or value, and no other argument, is ever printed: environments are
read with ``grep -az -e ^NAME= ...`` so other entries never even reach the script, and
argv elements are matched against fixed flag names. Unit properties come from D-Bus as
JSON (``busctl --json``) so quoting in values cannot confuse the filter.
"""

from __future__ import annotations

from jada_checks.facts.probes import probe
from jada_checks.parsers.cfg_facts import ENV_NAMES
from jada_checks.parsers.settings import MAX_BYTES

MANAGED_DIR = "/etc/claude-code"
# Managed subagents live in .claude/agents inside the managed settings directory (sub-agents,
# "Choose the subagent scope"); a directory's subagent files are read up to this many.
AGENT_CAP = 200
FRONT_MATTER_CAP = 65536  # bytes of a subagent file read for its front matter
NAMES_RE = "|".join(ENV_NAMES)  # only [A-Z_]: safe in a regex and in a case pattern
# The exact argument shape of the environment read, matched by ci/libexec/jada-checks-read.
ENV_GREP = "grep -az " + " ".join(f"-e ^{n}=" for n in ENV_NAMES)

_COMMON = rf"""
set -o pipefail
CAP={MAX_BYTES}
b() {{ printf '%s' "$1" | base64 -w0; }}
unit_path() {{
  busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
    org.freedesktop.systemd1.Manager LoadUnit s "$UNIT" | cut -d'"' -f2
}}
prop() {{ busctl --json=short get-property org.freedesktop.systemd1 "$1" "$2" "$3"; }}
jdec() {{  # the text of a JSON string body (without its quotes)
  local s=$1 out=
  while [[ $s == *\\* ]]; do
    out+=${{s%%\\*}}; s=${{s#*\\}}
    case ${{s:0:1}} in
      n) out+=$'\n';; t) out+=$'\t';; r) out+=$'\r';; b) out+=$'\b';; f) out+=$'\f';;
      u) out+=$(printf "\\u${{s:1:4}}"); s=${{s:4}};;
      *) out+=${{s:0:1}};;
    esac
    s=${{s:1}}
  done
  printf '%s' "$out$s"
}}
unq() {{  # a shell word or EnvironmentFile value without its outer quotes (approximate)
  local v=$1
  case $v in \'*\') v=${{v:1:${{#v}}-2}};; \"*\") v=${{v:1:${{#v}}-2}}; v=${{v//\\\"/\"}};; esac
  printf '%s' "$v"
}}
# a whole setpriv argv (R runs it as is for root); the helper only checks --regid: it takes
# uid and gid from the passwd entry and refuses any other gid, root or 0 (issue 26)
canread() {{  # 1/0: can the service user read it; '-': could not ask (no root)
  if [ -z "$SVC_USER" ] || {{ [ "$(id -u)" != 0 ] && [ -z "$JADA_SUDO" ]; }} \
      || ! id -u "$SVC_USER" >/dev/null 2>&1; then  # no such user now (a DynamicUser=)
    printf -; return; fi
  # uid 0 reads every file it sees; the helper never runs anything as uid 0 (issue 26)
  if [ "$(id -u "$SVC_USER")" = 0 ]; then printf 1; return; fi
  R setpriv --reuid="$SVC_USER" --regid="$(id -g "$SVC_USER")" --init-groups \
    test -r "$1" 2>/dev/null
  case $? in 0) printf 1;; 1) printf 0;; *) printf -;; esac
}}
declare -A EMITTED ROOTS PENV AGENTDIRS
emit() {{  # one F record per path: state, stat data and (when readable) the content
  local role=$1 p=$2 st=ok size=- own=- mode=- real= data= rd=- dst d
  [ -n "$p" ] && [ -n "${{EMITTED[$p]+x}}" ] && return
  [ -n "$p" ] && EMITTED[$p]=1
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
  else  # missing, or hidden behind a directory the checking user cannot search
    d=$(dirname -- "$p")
    while [ ! -e "$d" ] && [ "$d" != / ] && [ "$d" != . ]; do d=$(dirname -- "$d"); done
    if [ -x "$d" ]; then st=missing; else st=unsearchable; fi
  fi
  dst=$( [ -n "$p" ] && stat -L -c '%U:%a' -- "$(dirname -- "$p")" 2>/dev/null || echo -)
  printf 'F\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$role" "$(b "$p")" "$st" "$size" \
    "$own" "$mode" "$(b "$real")" "$dst" "$rd" "$data"
  [ -n "$p" ] || return 0
  ancestors "$(dirname -- "$p")"
  [ -n "$real" ] && [ "$(dirname -- "$real")" != "$(dirname -- "$p")" ] \
    && ancestors "$(dirname -- "$real")"
  return 0
}}
ancestors() {{  # AD records: $1 and every directory above it up to /, existing or not
  local d=$1 st
  while :; do
    if [ -d "$d" ]; then st=$(stat -L -c '%U %u %a' -- "$d" 2>/dev/null) || st='? ? ?'
    elif [ -e "$d" ] || [ -L "$d" ]; then st='? ? ?'
    elif [ -d "$(dirname -- "$d")" ] && [ ! -x "$(dirname -- "$d")" ]; then
      st='? ? ?'  # behind a directory the checking user cannot search: unknown, not missing
    else st='- - -'; fi
    printf 'AD\t%s\t%s\n' "$(b "$d")" "${{st// /$'\t'}}"
    case $d in /|.|'') break;; esac
    d=$(dirname -- "$d")
  done
}}
agent_file() {{  # T record: $1 dir, $2 file; the name/model lines of its front matter only
  local st=ok fm="" rc
  if [ ! -f "$2" ] || [ ! -r "$2" ]; then st=unreadable
  else
    fm=$(head -c {FRONT_MATTER_CAP} -- "$2" | awk '
      NR == 1 {{ if ($0 !~ /^---[[:space:]]*$/) {{ bad = 1; exit }} next }}
      /^---[[:space:]]*$/ {{ done = 1; exit }}
      /^(name|model)[[:space:]]*:/ {{ print; next }}
      /^[A-Za-z_][A-Za-z0-9_-]*[[:space:]]*:/ {{ sub(/[[:space:]]*:.*/, ":"); print }}
      END {{ if (bad) exit 3; if (!done) exit 4 }}' | base64 -w0; \
      exit "${{PIPESTATUS[1]}}")
    rc=$?
    case $rc in 0) ;; 3) st=nofm; fm=;; 4) st=open; fm=;; *) st=unreadable; fm=;; esac
  fi
  printf 'T\t%s\t%s\t%s\t%s\n' "$(b "$1")" "$(b "$2")" "$st" "$fm"
}}
agents_dir() {{  # G record: $1 role, $2 a subagents directory, read recursively (*.md)
  local role=$1 d=${{2%/}} st=ok up list rc n=0 f
  [ -n "$d" ] || return 0
  [ -n "${{AGENTDIRS[$d]+x}}" ] && return 0
  AGENTDIRS[$d]=1
  if [ ! -e "$d" ]; then
    up=$(dirname -- "$d")
    while [ ! -e "$up" ] && [ "$up" != / ] && [ "$up" != . ]; do up=$(dirname -- "$up"); done
    if [ -x "$up" ]; then st=missing; else st=unsearchable; fi
  elif [ ! -d "$d" ]; then st=notdir
  elif [ ! -r "$d" ] || [ ! -x "$d" ]; then st=unreadable
  else
    list=$(find "$d" -name '*.md' \( -type f -o -type l \) -print0 2>/dev/null | \
      base64 -w0; exit "${{PIPESTATUS[0]}}")
    rc=$?
    [ "$rc" = 0 ] || st=partial
    while IFS= read -r -d '' f; do
      n=$((n + 1))
      if [ $n -gt {AGENT_CAP} ]; then st=toomany; break; fi
      agent_file "$d" "$f"
    done < <(printf '%s' "$list" | base64 -d | sort -z)
  fi
  printf 'G\t%s\t%s\t%s\n' "$role" "$(b "$d")" "$st"
}}
gitroot() {{  # R record: the nearest directory at or above $1 holding .git; sets GITROOT
  local d=$1 st=none
  GITROOT=
  while :; do
    if [ ! -x "$d" ]; then st=unknown; GITROOT=; break; fi
    if [ -e "$d/.git" ]; then st=ok; GITROOT=$d; break; fi
    [ "$d" = / ] || [ "$d" = . ] && break
    d=$(dirname -- "$d")
  done
  [ -n "${{ROOTS[$1]+x}}" ] && return
  ROOTS[$1]=1
  printf 'R\t%s\t%s\t%s\n' "$(b "$1")" "$(b "$GITROOT")" "$st"
}}
project_files() {{  # project settings of a process started in $1 (both readings)
  local dir=${{1%/}} d
  emit local "${{dir:-}}/.claude/settings.local.json"
  emit project "${{dir:-}}/.claude/settings.json"
  gitroot "${{dir:-/}}"
  if [ -n "$GITROOT" ] && [ "${{GITROOT%/}}" != "$dir" ]; then
    emit local.root "${{GITROOT%/}}/.claude/settings.local.json"
  fi
  d=${{dir:-/}}  # project subagents: every .claude/agents from here up to the git root
  while :; do
    agents_dir agents.project "${{d%/}}/.claude/agents"
    [ -n "$GITROOT" ] && [ "${{d%/}}" != "${{GITROOT%/}}" ] && [ "$d" != / ] || break
    d=$(dirname -- "$d")
  done
}}
user_file() {{  # $1 HOME or CLAUDE_CONFIG_DIR, $2 its value, $3 base for a relative dir
  local v=$2
  [ -n "$v" ] || return 0
  if [ "$1" = CLAUDE_CONFIG_DIR ]; then
    case $v in /*) ;; *) v=${{3%/}}/$v;; esac
    emit user.env "${{v%/}}/settings.json"
    agents_dir agents.user "${{v%/}}/agents"
  elif [ "$1" = HOME ]; then
    emit user.env "${{v%/}}/.claude/settings.json"
    agents_dir agents.user "${{v%/}}/.claude/agents"
  fi
}}
procenv() {{  # $1 pid, $2 record prefix: sets PENV and PENV_OUT; rc 1: could not read
  local data rc kv name
  PENV=(); PENV_OUT=
  data=$(R {ENV_GREP} "/proc/$1/environ" 2>/dev/null | base64 -w0; \
    exit "${{PIPESTATUS[0]}}")
  rc=$?
  [ "$rc" -le 1 ] || return 1  # grep's 1 only says none of the variables is set
  while IFS= read -r -d '' kv; do
    name=${{kv%%=*}}
    case $name in {NAMES_RE}) ;; *) continue;; esac
    [ -n "${{PENV[$name]+x}}" ] && continue  # the first one wins, as with getenv(3)
    PENV[$name]=${{kv#*=}}
    PENV_OUT+=$(printf '%s\t%s\t%s' "$2" "$name" "$(b "${{kv#*=}}")")$'\n'
  done < <(printf '%s' "$data" | base64 -d)
  return 0
}}
arg() {{  # $1 record prefix, $2 flag name, $3 value, $4 base directory of a relative path
  local p
  if [ "$2" = agents ]; then  # subagent definitions as JSON, sent like inline --settings
    if [ ${{#3}} -gt "$CAP" ]; then printf '%s\tagents-inline\t\ttoobig\n' "$1"
    else printf '%s\tagents-inline\t%s\tok\n' "$1" "$(b "$3")"; fi
  elif [ "$2" != settings ]; then
    printf '%s\t%s\t%s\t\n' "$1" "$2" "$(b "$3")"
  elif [[ $3 =~ ^[[:space:]]*\{{ ]]; then  # inline JSON: a settings file on the command line
    if [ ${{#3}} -gt "$CAP" ]; then printf '%s\tsettings-inline\t\ttoobig\n' "$1"
    else printf '%s\tsettings-inline\t%s\tok\n' "$1" "$(b "$3")"; fi
  else
    p=$3
    case $p in /*) ;; *) p=${{4%/}}/$p;; esac
    printf '%s\tsettings-file\t%s\t%s\n' "$1" "$(b "$3")" "$(b "$p")"
    FLAG_FILES+=("$p")
  fi
}}
scan_args() {{  # $1 record prefix, $2 working directory, then argv: the model arguments
  local pre=$1 dir=$2 i k
  shift 2
  local -a a=("$@")
  for ((i = 0; i < ${{#a[@]}}; i++)); do
    case ${{a[i]}} in
      --) break;;
      --model|--permission-mode|--setting-sources|--settings|--agent|--agents\
      |--fallback-model)
        arg "$pre" "${{a[i]#--}}" "${{a[i+1]-}}" "$dir"; i=$((i + 1));;
      --model=*|--permission-mode=*|--setting-sources=*|--settings=*|--agent=*|--agents=*\
      |--fallback-model=*)
        k=${{a[i]%%=*}}; arg "$pre" "${{k#--}}" "${{a[i]#*=}}" "$dir";;
      --dangerously-skip-permissions) printf '%s\tskip\t\t\n' "$pre";;
      --allow-dangerously-skip-permissions) printf '%s\tallow-skip\t\t\n' "$pre";;
    esac
  done
}}
"""

FILES = _COMMON + rf"""
wd=${{SVC_WORKDIR#-}}; wd=${{wd#!}}
case $wd in '~') wd=$SVC_HOME;; '') wd=/;; esac
wd=${{wd%/}}
printf 'H\t%s\t%s\t%s\n' "$(b "$SVC_HOME")" \
  "$(b "$(readlink -f -- "$SVC_HOME" 2>/dev/null)")" "$(b "${{wd:-/}}")"
up=$(unit_path) || exit 3
du=$(prop "$up" org.freedesktop.systemd1.Service DynamicUser) || exit 3
case $du in *true*) printf 'D\t1\n';; *) printf 'D\t0\n';; esac
emit user "${{SVC_HOME:+${{SVC_HOME%/}}/.claude/settings.json}}"
[ -n "$SVC_HOME" ] && agents_dir agents.user "${{SVC_HOME%/}}/.claude/agents"
case $du in *true*) emit user.dynamic /.claude/settings.json
  agents_dir agents.user /.claude/agents;; esac  # nss-systemd: home /
project_files "${{wd:-/}}"
emit managed {MANAGED_DIR}/managed-settings.json
agents_dir agents.managed {MANAGED_DIR}/.claude/agents
for f in {MANAGED_DIR}/managed-settings.d/*.json; do
  if [ -e "$f" ] || [ -L "$f" ]; then emit managed.d "$f"; fi
done
"""

ENV = _COMMON + rf"""
wd=${{SVC_WORKDIR#-}}; wd=${{wd#!}}
case $wd in '~') wd=$SVC_HOME;; '') wd=/;; esac
pick() {{
  grep -oE '[[,]"({NAMES_RE})=([^"\\]|\\.)*"' | cut -c2- || true
}}
found() {{  # E/EV records -> user settings files a HOME or CLAUDE_CONFIG_DIR points at
  user_file "$1" "$2" "$wd"
}}
up=$(unit_path) || exit 3
for scope in default unit; do
  if [ $scope = default ]; then
    j=$(prop /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager Environment) \
      || exit 3
  else
    j=$(prop "$up" org.freedesktop.systemd1.Service Environment) || exit 3
  fi
  while IFS= read -r a; do
    [ -n "$a" ] || continue
    printf 'E\t%s\t%s\n' "$scope" "$a"
    a=$(jdec "${{a:1:${{#a}}-2}}")
    found "${{a%%=*}}" "${{a#*=}}"
  done < <(printf '%s' "$j" | pick)
done
j=$(prop "$up" org.freedesktop.systemd1.Service EnvironmentFiles) || exit 3
while IFS=$'\t' read -r ign f; do
  i=0; [ "$ign" = true ] && i=1
  if [ ! -e "$f" ]; then st=missing; elif [ ! -r "$f" ]; then st=unreadable; else st=ok; fi
  printf 'EF\t%s\t%s\t%s\n' "$(b "$f")" "$i" "$st"
  [ "$st" = ok ] || continue
  while IFS= read -r l; do
    printf 'EV\t%s\t%s\n' "$(b "$f")" "$(b "$l")"
    l=${{l#"${{l%%[![:space:]]*}}"}}; n=${{l%%=*}}; n=${{n%"${{n##*[![:space:]]}}"}}
    v=${{l#*=}}; v=${{v#"${{v%%[![:space:]]*}}"}}; v=${{v%"${{v##*[![:space:]]}}"}}
    found "$n" "$(unq "$v")"
  done < <(grep -aE '^[[:space:]]*({NAMES_RE})[[:space:]]*=' -- "$f")
done < <(printf '%s' "$j" | grep -oE '\["([^"\\]|\\.)*",(true|false)\]' | \
  sed -E 's/^\["(.*)",(true|false)\]$/\2\t\1/')
if [ "${{MAINPID:-0}}" -gt 0 ] && procenv "$MAINPID" M; then
  printf 'MS\n%s' "$PENV_OUT"
fi
"""

EXEC = _COMMON + r"""
wd=${SVC_WORKDIR#-}; wd=${wd#!}
case $wd in '~') wd=$SVC_HOME;; '') wd=/;; esac
FLAG_FILES=()
W() {  # program action name value: a wrapper's effect on the environment
  printf 'W\t%s\t%s\t%s\t%s\n' "$(b "$1")" "$2" "$3" "$(b "$4")"
}
named() {  # program action name value: only for the gathered variables
  case $3 in """ + "|".join(ENV_NAMES) + r""") W "$@";; *) return 0;; esac
  case $2 in set) user_file "$3" "$4" "$wd";; sh) user_file "$3" "$(unq "$4")" "$wd";; esac
}
WORD="('[^']*'|\"([^\"\\\\]|\\\\.)*\"|\\\\.|[^][:space:];&|()<>'\"\\\\])*"
SET_RE="(^|[[:space:];&|(])(export[[:space:]]+)?(""" + "|".join(ENV_NAMES) + r""")=($WORD)"
UNSET_RE="(^|[[:space:];&|(])unset[[:space:]]+(-v[[:space:]]+)?(""" \
  + "|".join(ENV_NAMES) + r""")([[:space:];&|)]|$)"
scan_script() {  # program script: NAME=word and unset NAME of the gathered variables
  local prog=$1 s=$2
  local both="$SET_RE|$UNSET_RE"
  while [[ $s =~ $both ]]; do
    local m=${BASH_REMATCH[0]}
    if [[ $m =~ $SET_RE ]]; then named "$prog" sh "${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}"
    elif [[ $m =~ $UNSET_RE ]]; then named "$prog" unset "${BASH_REMATCH[3]}" ""
    fi
    s=${s#*"$m"}
  done
}
scan_wrappers() {  # argv of one ExecStart= command: env(1) and sh -c wrappers
  local -a a=("$@")
  local i=0 n=${#a[@]} prog
  while [ $i -lt $n ]; do
    prog=${a[i]}
    case ${prog##*/} in
      env)
        i=$((i + 1))
        while [ $i -lt $n ]; do
          case ${a[i]} in
            -i|--ignore-environment|-) W "$prog" clear - "";;
            -u|--unset) named "$prog" unset "${a[i+1]-}" ""; i=$((i + 1));;
            --unset=*) named "$prog" unset "${a[i]#--unset=}" "";;
            -u?*) named "$prog" unset "${a[i]#-u}" "";;
            -C|--chdir) W "$prog" chdir - "${a[i+1]-}"; i=$((i + 1));;
            --chdir=*) W "$prog" chdir - "${a[i]#--chdir=}";;
            -v|--debug|-0|--null) ;;
            --) i=$((i + 1)); break;;
            -*) W "$prog" opaque - "";;  # its value, if any, is not sent
            [A-Za-z_]*=*) named "$prog" set "${a[i]%%=*}" "${a[i]#*=}";;
            *) break;;
          esac
          i=$((i + 1))
        done;;
      sh|bash|dash|ash|ksh|mksh|zsh)
        case ${a[i+1]-} in
          --*) ;;
          -*c*) scan_script "$prog -c" "${a[i+2]-}";;
        esac
        return;;
      *) return;;
    esac
  done
}
up=$(unit_path) || exit 3
j=$(prop "$up" org.freedesktop.systemd1.Service ExecStart) || exit 3
depth=0 cur=
while IFS= read -r tok; do  # ExecStart is a(sasbttttuii): argv lists sit at depth 3
  case $tok in
    '[') depth=$((depth + 1)); [ $depth = 3 ] && cur=();;
    ']')
      if [ $depth = 3 ]; then
        argv=()
        for e in "${cur[@]}"; do argv+=("$(printf '%s' "${e#x}" | base64 -d)"); done
        scan_wrappers "${argv[@]}"
        scan_args X "$wd" "${argv[@]}"
      fi
      depth=$((depth - 1));;
    *) [ $depth = 3 ] && cur+=("x$(jdec "${tok:1:${#tok}-2}" | base64 -w0)");;
  esac
done < <(printf '%s' "$j" | grep -oE '"([^"\\]|\\.)*"|\[|\]')
for f in "${FLAG_FILES[@]}"; do emit flag "$f"; done
"""

PROCS = _COMMON + r"""
TAB=$'\t'
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
  cwd=$(R readlink "/proc/$p/cwd" 2>/dev/null)
  euid=$(awk '/^Uid:/ {print $3; exit}' "/proc/$p/status" 2>/dev/null)
  home=$( [ -n "$euid" ] && getent passwd "$euid" | cut -d: -f6)
  if procenv "$p" "V$TAB$p"; then st=ok; else st=-; fi
  printf 'P\t%s\t%s\t%s\t%s\t%s\n' "$p" "$(b "$cwd")" "${euid:--}" "$(b "$home")" "$st"
  printf '%s' "$PENV_OUT"
  FLAG_FILES=()
  scan_args "A$TAB$p" "$cwd" "${a[@]:i}"
  [ -n "$cwd" ] || continue
  if [ "$st" = ok ]; then  # the user settings this process reads
    if [ -n "${PENV[CLAUDE_CONFIG_DIR]}" ]; then
      user_file CLAUDE_CONFIG_DIR "${PENV[CLAUDE_CONFIG_DIR]}" "$cwd"
    elif [ -n "${PENV[HOME]}" ]; then user_file HOME "${PENV[HOME]}" "$cwd"
    elif [ -n "$home" ]; then user_file HOME "$home" "$cwd"
    fi
  fi
  project_files "$cwd"
  for f in "${FLAG_FILES[@]}"; do emit flag "$f"; done
done
"""


def register() -> None:
    probe("cfg_files", FILES)
    probe("cfg_env", ENV)
    probe("cfg_exec", EXEC)
    probe("cfg_procs", PROCS)
