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

from jada_checks.facts.probes import probe, shared
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

# The unit's Service properties the cfg sections read, in one busctl before the sections
# start (issue 25: each section asked LoadUnit for the unit's object path, then for its own
# property). The path is the one LoadUnit answers: the unit name escaped as an sd-bus
# label (systemd src/basic/bus-label.c: every byte but a letter, or a digit after the
# first byte, becomes _ and two lower-case hex digits); the object of an alias name is
# its unit. If the read fails or gives other than one line per property, CFG_BUS stays
# empty and each section asks as before, so its answer and its errors are the same.
BUS = r"""
jada_bus_path() {  # $1 a unit name: JADA_BUS_PATH gets its object path
  local i c
  JADA_BUS_PATH=/org/freedesktop/systemd1/unit/
  [ -n "$1" ] || JADA_BUS_PATH+=_
  for ((i = 0; i < ${#1}; i++)); do
    c=${1:i:1}
    if [[ $c == [A-Za-z] ]] || { [ "$i" -gt 0 ] && [[ $c == [0-9] ]]; }; then
      JADA_BUS_PATH+=$c
    else
      printf -v c '%d' "'$c"; printf -v c '_%02x' $((c & 255))
      JADA_BUS_PATH+=$c
    fi
  done
}
CFG_BUS=
jada_bus_path "$UNIT"
if { jada_j=$(busctl --json=short get-property org.freedesktop.systemd1 "$JADA_BUS_PATH" \
      org.freedesktop.systemd1.Service DynamicUser Environment EnvironmentFiles ExecStart)
    } 2>/dev/null; then
  jada_n=${jada_j//[!$'\n']/}
  if [ "${#jada_n}" = 3 ]; then
    CFG_DU=${jada_j%%$'\n'*}; jada_j=${jada_j#*$'\n'}
    CFG_ENV=${jada_j%%$'\n'*}; jada_j=${jada_j#*$'\n'}
    CFG_ENVF=${jada_j%%$'\n'*}; CFG_EXEC=${jada_j#*$'\n'}
    CFG_BUS=1
  fi
fi
# The service user's uid and gid for canread, looked up once for all four sections: "uid
# gid", or - (not root and no sudo to ask with, or no such user now: a DynamicUser=)
CFG_CR_USER=-
if [ -n "$SVC_USER" ] && { [ "$EUID" = 0 ] || [ -n "$JADA_SUDO" ]; } \
    && { jada_o=$(id -- "$SVC_USER"); } 2>/dev/null \
    && [[ $jada_o =~ ^uid=([0-9]+)[^\ ]*\ gid=([0-9]+) ]]; then
  CFG_CR_USER="${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
fi
"""

# Each cfg section's shell options (pipefail: a pipeline fails when any command of it does).
_OPTIONS = r"""
set -o pipefail
shopt -s lastpipe  # a pipeline's last command runs in this shell: mapfile keeps its array
"""

# The cfg sections' functions and their state, defined once before the sections (issue 25:
# each of the four sections parsed them again). The state is the main shell's, and every
# section runs in a shell of its own forked from it, so each starts from these values.
_COMMON = rf"""
CAP={MAX_BYTES}
# Few processes (issue 25): base64 of short text and dirname are done by bash itself, stat
# once per section (prestat) and id once per script (BUS); only file contents and long
# text go to base64(1).
b64v() {{  # $1 a variable, $2 text: the variable gets the text in base64 (as base64 -w0)
  if [ "${{#2}}" -gt 256 ]; then printf -v "$1" '%s' "$(printf '%s' "$2" | base64 -w0)"
  else jada_b64v "$1" "$2"; fi  # the prelude's
}}
b() {{ local _b; b64v _b "$1"; printf '%s' "$_b"; }}
dn() {{  # $1 a variable, $2 a path: what dirname(1) prints for it (GNU coreutils, Linux)
  local _p=$2
  case $_p in *[!/]*) _p=${{_p%"${{_p##*[!/]}}"}};; '') printf -v "$1" .; return;;
    *) printf -v "$1" /; return;; esac
  case $_p in */*) _p=${{_p%/*}};; *) printf -v "$1" .; return;; esac
  case $_p in *[!/]*) _p=${{_p%"${{_p##*[!/]}}"}};; *) _p=/;; esac
  printf -v "$1" '%s' "$_p"
}}
declare -A STATC  # stat -L of a path, once per section: "size owner uid mode", or ?
stat_all() {{  # fill STATC for the paths not in it yet, with one stat(1)
  local -a _t=() _r=()
  local _q _i=0
  for _q; do [ -z "$_q" ] || [ -n "${{STATC[$_q]+x}}" ] || _t+=("$_q"); done
  [ ${{#_t[@]}} -gt 0 ] || return 0
  stat -L --printf '%s %U %u %a\0%n\0' -- "${{_t[@]}}" 2>/dev/null | mapfile -d '' -t _r
  for _q in "${{_t[@]}}"; do  # a path stat could not read has no answer: it is skipped
    if [ "${{_r[_i+1]-}}" = "$_q" ]; then STATC[$_q]=${{_r[_i]}}; _i=$((_i + 2))
    else STATC[$_q]='?'; fi
  done
}}
chain_of() {{  # $1 a path: appends it and every directory above it to CHAIN
  local _d=$1
  while :; do
    CHAIN+=("$_d")
    case $_d in /|.|'') break;; esac
    dn _d "$_d"
  done
}}
prestat() {{  # one stat(1) ahead for files emit will be asked about, and the directories
  # above them (issue 25: not one per file); emit's own stat_all then finds them known
  local _q _d
  local -a CHAIN=()
  for _q; do [ -z "$_q" ] || {{ CHAIN+=("$_q"); dn _d "$_q"; chain_of "$_d"; }}; done
  stat_all "${{CHAIN[@]}}"
}}
real_of() {{  # $1 a variable, $2 an existing path: what readlink -f prints for it; no
  # process when the path is absolute and plain (no //, . or ..) and no part is a link:
  # then it is its own canonical name
  local _p=$2 _d
  case $_p in /*) ;; *) printf -v "$1" '%s' "$(readlink -f -- "$_p")"; return;; esac
  case $_p/ in *//*|*/./*|*/../*) printf -v "$1" '%s' "$(readlink -f -- "$_p")"; return;; esac
  _d=$_p
  while [ "$_d" != / ]; do
    if [ -L "$_d" ]; then printf -v "$1" '%s' "$(readlink -f -- "$_p")"; return; fi
    dn _d "$_d"
  done
  printf -v "$1" '%s' "$_p"
}}
unit_path() {{  # the unit's D-Bus object path (LoadUnit's answer: o "/org/...")
  local _u
  _u=$(busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
    org.freedesktop.systemd1.Manager LoadUnit s "$UNIT") || return
  [[ $_u == *'"'* ]] && {{ _u=${{_u#*'"'}}; _u=${{_u%%'"'*}}; }}
  printf '%s\n' "$_u"
}}
prop() {{ busctl --json=short get-property org.freedesktop.systemd1 "$1" "$2" "$3"; }}
chomp() {{  # $1 a variable: without its trailing newlines, as $(...) would give it
  while [[ ${{!1}} == *$'\n' ]]; do printf -v "$1" '%s' "${{!1%$'\n'}}"; done
}}
# jdec and unq set a variable rather than print: $(...) would cost a process per string
jdec() {{  # $1 a variable, $2 a JSON string body (without its quotes): $1 gets its text
  local _s=$2 _o= _u
  while [[ $_s == *\\* ]]; do
    _o+=${{_s%%\\*}}; _s=${{_s#*\\}}
    case ${{_s:0:1}} in
      n) _o+=$'\n';; t) _o+=$'\t';; r) _o+=$'\r';; b) _o+=$'\b';; f) _o+=$'\f';;
      u) printf -v _u "\\u${{_s:1:4}}"; chomp _u; _o+=$_u; _s=${{_s:4}};;
      *) _o+=${{_s:0:1}};;
    esac
    _s=${{_s:1}}
  done
  printf -v "$1" '%s' "$_o$_s"; chomp "$1"
}}
unq() {{  # $1 a variable, $2 a shell word or EnvironmentFile value: $1 gets it without its
  # outer quotes (approximate)
  local _v=$2
  case $_v in
    \'*\') _v=${{_v:1:${{#_v}}-2}};; \"*\") _v=${{_v:1:${{#_v}}-2}}; _v=${{_v//\\\"/\"}};;
  esac
  printf -v "$1" '%s' "$_v"; chomp "$1"
}}
# a whole setpriv argv (R runs it as is for root); the helper only checks --regid: it takes
# uid and gid from the passwd entry and refuses any other gid, root or 0 (issue 26)
CR_USER=  # the service user's uid and gid: "uid gid", or - (cannot ask)
canread() {{  # sets RD: 1/0, can the service user read it; '-': could not ask (no root)
  [ -n "$CR_USER" ] || CR_USER=${{CFG_CR_USER:--}}  # looked up once, before the sections
  RD=-
  [ "$CR_USER" != - ] || return 0
  # uid 0 reads every file it sees; the helper never runs anything as uid 0 (issue 26)
  if [ "${{CR_USER% *}}" = 0 ]; then RD=1; return; fi
  R setpriv --reuid="$SVC_USER" --regid="${{CR_USER#* }}" --init-groups \
    test -r "$1" 2>/dev/null
  case $? in 0) RD=1;; 1) RD=0;; esac
}}
declare -A EMITTED ROOTS PENV AGENTDIRS B64C
b64c() {{  # b64v with a cache: the same directories come back for every file
  if [ -z "$2" ]; then printf -v "$1" ''
  elif [ -n "${{B64C[$2]+x}}" ]; then printf -v "$1" '%s' "${{B64C[$2]}}"
  else b64v "$1" "$2"; B64C[$2]=${{!1}}; fi
}}
emit() {{  # one F record per path: state, stat data and (when readable) the content
  local role=$1 p=$2 st=ok size=- own=- mode=- real= data= rd=- dst=- d pd rdir uid e1 e2 o
  local -a CHAIN=()
  [ -n "$p" ] && [ -n "${{EMITTED[$p]+x}}" ] && return
  [ -n "$p" ] && EMITTED[$p]=1
  if [ -z "$p" ]; then st=nohome
  elif [ -e "$p" ]; then
    real_of real "$p"
  elif [ -L "$p" ]; then st=dangling; real=$(readlink -- "$p")
  fi
  if [ -n "$p" ]; then  # one stat(1) for the file and the directories above it
    dn pd "$p"; chain_of "$pd"
    if [ -n "$real" ]; then dn rdir "$real"; [ "$rdir" = "$pd" ] || chain_of "$rdir"; fi
    stat_all "$p" "${{CHAIN[@]}}"
  fi
  if [ -z "$p" ] || [ "$st" = dangling ]; then :
  elif [ -e "$p" ]; then
    if [ ! -f "$p" ]; then st=notfile
    else
      size= own= mode=
      [ "${{STATC[$p]}}" = '?' ] || read -r size own uid mode <<< "${{STATC[$p]}}"
      canread "$p"; rd=$RD
      if [ ! -r "$p" ]; then st=unreadable
      elif [ "$size" -gt "$CAP" ]; then st=toobig
      elif ! data=$(head -c $((CAP + 1)) -- "$p" | base64 -w0); then st=unreadable; data=
      fi
    fi
  else  # missing, or hidden behind a directory the checking user cannot search
    d=$pd
    while [ ! -e "$d" ] && [ "$d" != / ] && [ "$d" != . ]; do dn d "$d"; done
    if [ -x "$d" ]; then st=missing; else st=unsearchable; fi
  fi
  if [ -n "$p" ] && [ "${{STATC[$pd]:-?}}" != '?' ]; then
    read -r e1 o uid e2 <<< "${{STATC[$pd]}}"; dst=$o:$e2
  fi
  b64c e1 "$p"; b64c e2 "$real"
  printf 'F\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$role" "$e1" "$st" "$size" \
    "$own" "$mode" "$e2" "$dst" "$rd" "$data"
  [ -n "$p" ] || return 0
  ancestors "$pd"
  [ -n "$real" ] && [ "$rdir" != "$pd" ] && ancestors "$rdir"
  return 0
}}
ancestors() {{  # AD records: $1 and every directory above it up to /, existing or not
  local d=$1 st up e
  while :; do
    if [ -d "$d" ]; then
      [ -n "${{STATC[$d]+x}}" ] || stat_all "$d"
      st=${{STATC[$d]}}
      if [ "$st" = '?' ]; then st='? ? ?'; else st=${{st#* }}; fi
    elif [ -e "$d" ] || [ -L "$d" ]; then st='? ? ?'
    else
      dn up "$d"
      if [ -d "$up" ] && [ ! -x "$up" ]; then
        st='? ? ?'  # behind a directory the checking user cannot search: unknown, not missing
      else st='- - -'; fi
    fi
    b64c e "$d"
    printf 'AD\t%s\t%s\n' "$e" "${{st// /$'\t'}}"
    case $d in /|.|'') break;; esac
    dn d "$d"
  done
}}
agent_file() {{  # T record: $1 dir, $2 file; the name/model lines of its front matter only
  local st=ok fm="" rc e1 e2
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
  b64c e1 "$1"; b64v e2 "$2"
  printf 'T\t%s\t%s\t%s\t%s\n' "$e1" "$e2" "$st" "$fm"
}}
agents_dir() {{  # G record: $1 role, $2 a subagents directory, read recursively (*.md)
  local role=$1 d=${{2%/}} st=ok up rc n=0 f e
  local -a list=()
  [ -n "$d" ] || return 0
  [ -n "${{AGENTDIRS[$d]+x}}" ] && return 0
  AGENTDIRS[$d]=1
  if [ ! -e "$d" ]; then
    dn up "$d"
    while [ ! -e "$up" ] && [ "$up" != / ] && [ "$up" != . ]; do dn up "$up"; done
    if [ -x "$up" ]; then st=missing; else st=unsearchable; fi
  elif [ ! -d "$d" ]; then st=notdir
  elif [ ! -r "$d" ] || [ ! -x "$d" ]; then st=unreadable
  else
    find "$d" -name '*.md' \( -type f -o -type l \) -print0 2>/dev/null | sort -z \
      | mapfile -d '' -t list
    rc=${{PIPESTATUS[0]}}
    [ "$rc" = 0 ] || st=partial
    for f in "${{list[@]}}"; do
      n=$((n + 1))
      if [ $n -gt {AGENT_CAP} ]; then st=toomany; break; fi
      agent_file "$d" "$f"
    done
  fi
  b64c e "$d"
  printf 'G\t%s\t%s\t%s\n' "$role" "$e" "$st"
}}
gitroot() {{  # R record: the nearest directory at or above $1 holding .git; sets GITROOT
  local d=$1 st=none e1 e2
  GITROOT=
  while :; do
    if [ ! -x "$d" ]; then st=unknown; GITROOT=; break; fi
    if [ -e "$d/.git" ]; then st=ok; GITROOT=$d; break; fi
    [ "$d" = / ] || [ "$d" = . ] && break
    dn d "$d"
  done
  [ -n "${{ROOTS[$1]+x}}" ] && return
  ROOTS[$1]=1
  b64c e1 "$1"; b64c e2 "$GITROOT"
  printf 'R\t%s\t%s\t%s\n' "$e1" "$e2" "$st"
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
    dn d "$d"
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
  local rc kv name e
  local -a kvs=()
  PENV=(); PENV_OUT=
  R {ENV_GREP} "/proc/$1/environ" 2>/dev/null | mapfile -d '' -t kvs
  rc=${{PIPESTATUS[0]}}
  [ "$rc" -le 1 ] || return 1  # grep's 1 only says none of the variables is set
  for kv in "${{kvs[@]}}"; do
    name=${{kv%%=*}}
    case $name in {NAMES_RE}) ;; *) continue;; esac
    [ -n "${{PENV[$name]+x}}" ] && continue  # the first one wins, as with getenv(3)
    PENV[$name]=${{kv#*=}}
    b64v e "${{kv#*=}}"
    PENV_OUT+=$2$'\t'$name$'\t'$e$'\n'
  done
  return 0
}}
arg() {{  # $1 record prefix, $2 flag name, $3 value, $4 base directory of a relative path
  local p e1 e2
  if [ "$2" = agents ]; then  # subagent definitions as JSON, sent like inline --settings
    if [ ${{#3}} -gt "$CAP" ]; then printf '%s\tagents-inline\t\ttoobig\n' "$1"
    else b64v e1 "$3"; printf '%s\tagents-inline\t%s\tok\n' "$1" "$e1"; fi
  elif [ "$2" != settings ]; then
    b64v e1 "$3"; printf '%s\t%s\t%s\t\n' "$1" "$2" "$e1"
  elif [[ $3 =~ ^[[:space:]]*\{{ ]]; then  # inline JSON: a settings file on the command line
    if [ ${{#3}} -gt "$CAP" ]; then printf '%s\tsettings-inline\t\ttoobig\n' "$1"
    else b64v e1 "$3"; printf '%s\tsettings-inline\t%s\tok\n' "$1" "$e1"; fi
  else
    p=$3
    case $p in /*) ;; *) p=${{4%/}}/$p;; esac
    b64v e1 "$3"; b64v e2 "$p"
    printf '%s\tsettings-file\t%s\t%s\n' "$1" "$e1" "$e2"
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

FILES = _OPTIONS + rf"""
wd=${{SVC_WORKDIR#-}}; wd=${{wd#!}}
case $wd in '~') wd=$SVC_HOME;; '') wd=/;; esac
wd=${{wd%/}}
if [ -n "$SVC_HOME" ] && [ -e "$SVC_HOME" ]; then real_of rh "$SVC_HOME"
else rh=$(readlink -f -- "$SVC_HOME" 2>/dev/null); fi
b64v e1 "$SVC_HOME"; b64v e2 "$rh"; b64v e3 "${{wd:-/}}"
printf 'H\t%s\t%s\t%s\n' "$e1" "$e2" "$e3"
prestat "${{SVC_HOME:+${{SVC_HOME%/}}/.claude/settings.json}}" \
  "${{wd:-}}/.claude/settings.local.json" "${{wd:-}}/.claude/settings.json" \
  {MANAGED_DIR}/managed-settings.json
if [ -n "$CFG_BUS" ]; then du=$CFG_DU; else up=$(unit_path) || exit 3
  du=$(prop "$up" org.freedesktop.systemd1.Service DynamicUser) || exit 3; fi
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

ENV = _OPTIONS + rf"""
wd=${{SVC_WORKDIR#-}}; wd=${{wd#!}}
case $wd in '~') wd=$SVC_HOME;; '') wd=/;; esac
pick() {{  # $1 JSON: each "NAME=..." string of a gathered NAME, as grep -o finds them
  local j=$1 re='[[,]"({NAMES_RE})=([^"\\]|\\.)*"'
  PICKED=()
  while [[ $j =~ $re ]]; do  # the leftmost match, then on after it (grep -o)
    PICKED+=("${{BASH_REMATCH[0]:1}}")
    j=${{j#*"${{BASH_REMATCH[0]}}"}}
  done
}}
found() {{  # E/EV records -> user settings files a HOME or CLAUDE_CONFIG_DIR points at
  user_file "$1" "$2" "$wd"
}}
[ -n "$CFG_BUS" ] || {{ up=$(unit_path) || exit 3; }}
jm=$(prop /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager Environment) || exit 3
# one busctl for both unit properties: it prints one JSON line per property, in order
if [ -n "$CFG_BUS" ]; then ju=$CFG_ENV$'\n'$CFG_ENVF; else ju=$(busctl --json=short \
  get-property org.freedesktop.systemd1 "$up" org.freedesktop.systemd1.Service Environment \
  EnvironmentFiles) || exit 3; fi
jf=${{ju#*$'\n'}}; ju=${{ju%%$'\n'*}}
for scope in default unit; do
  if [ $scope = default ]; then j=$jm; else j=$ju; fi
  pick "$j"
  for a in "${{PICKED[@]}}"; do
    [ -n "$a" ] || continue
    printf 'E\t%s\t%s\n' "$scope" "$a"
    jdec a "${{a:1:${{#a}}-2}}"
    found "${{a%%=*}}" "${{a#*=}}"
  done
done
re='\["([^"\\]|\\.)*",(true|false)\]'
while [[ $jf =~ $re ]]; do  # EnvironmentFiles a(sb): ["path",ignore] (the JSON text)
  m=${{BASH_REMATCH[0]}}
  jf=${{jf#*"$m"}}
  ign=${{m##*,}}; ign=${{ign%]}}; f=${{m#'["'}}; f=${{f%'",'*}}
  i=0; [ "$ign" = true ] && i=1
  if [ ! -e "$f" ]; then st=missing; elif [ ! -r "$f" ]; then st=unreadable; else st=ok; fi
  b64v ef "$f"
  printf 'EF\t%s\t%s\t%s\n' "$ef" "$i" "$st"
  [ "$st" = ok ] || continue
  while IFS= read -r l; do
    b64v el "$l"
    printf 'EV\t%s\t%s\n' "$ef" "$el"
    l=${{l#"${{l%%[![:space:]]*}}"}}; n=${{l%%=*}}; n=${{n%"${{n##*[![:space:]]}}"}}
    v=${{l#*=}}; v=${{v#"${{v%%[![:space:]]*}}"}}; v=${{v%"${{v##*[![:space:]]}}"}}
    unq v "$v"; found "$n" "$v"
  done < <(grep -aE '^[[:space:]]*({NAMES_RE})[[:space:]]*=' -- "$f")
done
if [ "${{MAINPID:-0}}" -gt 0 ] && procenv "$MAINPID" M; then
  printf 'MS\n%s' "$PENV_OUT"
fi
"""

EXEC = _OPTIONS + r"""
wd=${SVC_WORKDIR#-}; wd=${wd#!}
case $wd in '~') wd=$SVC_HOME;; '') wd=/;; esac
FLAG_FILES=()
W() {  # program action name value: a wrapper's effect on the environment
  local e1 e4
  b64v e1 "$1"; b64v e4 "$4"
  printf 'W\t%s\t%s\t%s\t%s\n' "$e1" "$2" "$3" "$e4"
}
named() {  # program action name value: only for the gathered variables
  local v
  case $3 in """ + "|".join(ENV_NAMES) + r""") W "$@";; *) return 0;; esac
  case $2 in set) user_file "$3" "$4" "$wd";; sh) unq v "$4"; user_file "$3" "$v" "$wd";; esac
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
if [ -n "$CFG_BUS" ]; then j=$CFG_EXEC; else up=$(unit_path) || exit 3
  j=$(prop "$up" org.freedesktop.systemd1.Service ExecStart) || exit 3; fi
depth=0 cur=
re='"([^"\\]|\\.)*"|\[|\]'  # the JSON's strings and brackets, as grep -o finds them
while [[ $j =~ $re ]]; do  # ExecStart is a(sasbttttuii): argv lists sit at depth 3
  tok=${BASH_REMATCH[0]}
  j=${j#*"$tok"}
  case $tok in
    '[') depth=$((depth + 1)); [ $depth = 3 ] && cur=();;
    ']')
      if [ $depth = 3 ]; then
        argv=("${cur[@]}")
        scan_wrappers "${argv[@]}"
        scan_args X "$wd" "${argv[@]}"
      fi
      depth=$((depth - 1));;
    *) [ $depth = 3 ] && { jdec v "${tok:1:${#tok}-2}"; cur+=("$v"); };;
  esac
done
for f in "${FLAG_FILES[@]}"; do emit flag "$f"; done
"""

# node and bun options that take the next argument as their value (``--opt=value`` needs
# no list): node(1) and bun's --help of the versions Claude Code supports.
NODE_VALUE_OPTIONS = (
    "-r --require --import --loader --experimental-loader -C --conditions --title "
    "--env-file --env-file-if-exists --input-type --inspect-port --debug-port "
    "--redirect-warnings --disable-warning --openssl-config --icu-data-dir --watch-path "
    "--report-dir --report-directory --report-filename --report-signal --diagnostic-dir "
    "--heapsnapshot-signal --unhandled-rejections --dns-result-order --secure-heap "
    "--trace-event-categories --trace-event-file-pattern --stack-size "
    "--max-old-space-size --preload --tsconfig-override --config --cwd")
INTERPRETERS = "node|nodejs|node[0-9]*|bun|sh|bash|dash"

# Which processes are Claude Code agents (docs/settings.md, "Which processes are agents";
# @anthropic-ai/claude-code 2.1.332 and its platform package, read with npm pack). A
# process is one when what it executes is Claude Code: its argv[0] as the orchestrator
# typed it, the executable the kernel resolved (/proc/PID/exe, root only), or argv[0]
# resolved through its symbolic links names
#   claude                      the PATH name (npm's bin link, the native installer's
#                               ~/.local/bin/claude, a platform package's binary);
#   .../node_modules/@anthropic-ai/claude-code/bin/claude.exe  the package's bin, which
#                               its postinstall (install.cjs) replaces by the native binary;
#   .../claude/versions/X.Y.Z   the native installer's versioned binary
#                               ($XDG_DATA_HOME/claude/versions, ~/.local/share/...);
# or it runs node/bun [options] with .../claude-code/cli.js (releases up to 2.1.112),
# .../claude-code/cli-wrapper.cjs (the package's fallback launcher, which starts the
# native binary as its child with the same arguments) or a script named claude.

AGENT = r"""
VER_RE='^[0-9]+[.][0-9]+[.][0-9]+([-+][0-9A-Za-z.-]+)?$'
cli_kind() {  # $1 a path or name: sets K to which Claude Code executable it is ('' if none)
  local p=${1% (deleted)}  # an executable an update replaced reads "... (deleted)"
  local b=${p##*/} d=${p%/*}
  K=
  case $p in
    */node_modules/@anthropic-ai/claude-code/bin/claude.exe) K=package-bin;;
    */node_modules/@anthropic-ai/claude-code-*/claude) K=platform-bin;;
    */claude-code/cli.js|*/claude-code/cli.mjs) K=cli.js;;
    */claude-code/cli-wrapper.cjs) K=cli-wrapper;;
    claude|*/claude) K=name;;
    */*) if [[ $d == */claude/versions && $b =~ $VER_RE ]]; then K=native-version; fi;;
  esac
}
NATIVE=' name package-bin platform-bin native-version '
SCRIPT=' name cli.js cli-wrapper '
NODE_VALUE=' """ + NODE_VALUE_OPTIONS + r""" '
cwd_of() {  # the working directory of $AGENT_PID, read once (root)
  [ -n "$CWD_READ" ] && return
  if [ -n "${LINKS[/proc/$AGENT_PID/cwd]+set}" ]; then CWD=${LINKS[/proc/$AGENT_PID/cwd]}
  else { CWD=$(R readlink "/proc/$AGENT_PID/cwd"); } 2>/dev/null; fi
  CWD_READ=1
}
resolved() {  # $1 a path as a process gave it: what it names after every symbolic link
  local r=$1
  case $r in /*) ;; *) cwd_of; r=${CWD%/}/$r;; esac
  readlink -f -- "$r" 2>/dev/null
}
agent_kind() {  # $1 exe ('' unknown), $2 comm, then argv: sets KIND VIA FROM OPERAND
  local exe=$1 comm=$2
  shift 2
  local -a a=("$@")
  local i n=$#
  KIND= VIA= FROM=1 OPERAND=
  cli_kind "$exe"
  if [ -n "$K" ] && [[ $NATIVE == *" $K "* ]]; then KIND=$K VIA=exe; return 0; fi
  cli_kind "${a[0]}"
  if [ -n "$K" ] && [[ $NATIVE == *" $K "* ]]; then KIND=$K VIA=argv0; return 0; fi
  if [ -z "$exe" ]; then  # /proc/PID/exe not readable: argv[0]'s links, the kernel's name
    if [[ ${a[0]} == */* ]]; then
      cli_kind "$(resolved "${a[0]}")"
      if [ -n "$K" ] && [[ $NATIVE == *" $K "* ]]; then KIND=$K VIA=argv0-link; return 0; fi
    fi
    case $comm in claude|claude.exe) KIND=name VIA=comm; return 0;; esac
  fi
  case ${exe##*/} in
    """ + INTERPRETERS + r""") ;;
    '') case ${a[0]##*/} in """ + INTERPRETERS + r""") ;; *) return 0;; esac;;
    *) return 0;;
  esac
  for ((i = 1; i < n; i++)); do  # the interpreter's options, then its script
    case ${a[i]} in
      --) i=$((i + 1)); break;;
      -e|--eval|-p|--print|-c|--check) return 0;;  # code on the command line: no script
      --*=*) ;;
      -?*) [[ $NODE_VALUE == *" ${a[i]} "* ]] && i=$((i + 1));;
      *) break;;
    esac
  done
  [ "$i" -lt "$n" ] || return 0
  OPERAND=${a[i]}
  cli_kind "$OPERAND"
  [ -n "$K" ] && [[ $SCRIPT == *" $K "* ]] || cli_kind "$(resolved "$OPERAND")"
  if [ -n "$K" ] && [[ $SCRIPT == *" $K "* ]]; then KIND=$K VIA=script FROM=$((i + 1)); fi
  return 0
}
script_of() {  # $1 exe, then argv: SHOWN gets an interpreter's script, for a person to
  # read (or '')
  local exe=$1 i
  SHOWN=
  shift
  local -a a=("$@")
  case ${exe##*/}/${a[0]##*/} in
    */node*|*/bun|*/python*|*/perl*|*/ruby*|*/sh|*/bash|*/dash) ;;
    node*/*|bun/*|python*/*|perl*/*|ruby*/*|sh/*|bash/*|dash/*) ;;
    *) return 0;;
  esac
  for ((i = 1; i < $#; i++)); do
    case ${a[i]} in
      -W|-X|-r|--require|--import) i=$((i + 1));;
      -m|-c|-e|--eval|-p|--print|--) return 0;;
      -*) ;;
      *) [[ ${a[i]} == /* ]] && [ -f "${a[i]}" ] && { SHOWN=${a[i]}; chomp SHOWN; }
         return 0;;
    esac
  done
}
"""

PROCS = _OPTIONS + r"""
TAB=$'\t'
pids=
cg=${JADA_PROP[ControlGroup]}  # the prelude's systemctl show
if [ -n "$cg" ] && [ -d "/sys/fs/cgroup$cg" ]; then
  { pids=$(find "/sys/fs/cgroup$cg" -name cgroup.procs -exec cat {} +); } 2>/dev/null
elif [ "${MAINPID:-0}" -gt 0 ]; then
  pids=$(ps -e -o pid=,ppid= | awk -v root="$MAINPID" '{p[$1]=$2} END {k[root]=1;
    do { n=0; for (x in p) if (!(x in k) && (p[x] in k)) { k[x]=1; n++ } } while (n);
    for (x in k) print x }')
fi
# Every process's exe and cwd links in one readlink -z (issue 25), when R is the command
# itself and it read them all (each without its final newlines, as $(readlink) gave it);
# else exe_of and cwd_of read each one through R, as before.
declare -A LINKS=()
if [ -z "$JADA_SUDO" ] || [ "$EUID" = 0 ]; then
  lk=(); la=()
  for p in $pids; do la+=("/proc/$p/exe" "/proc/$p/cwd"); done
  [ ${#la[@]} = 0 ] || readlink -z -- "${la[@]}" 2>/dev/null | mapfile -d '' -t lk
  if [ "${PIPESTATUS[0]}" = 0 ] && [ ${#lk[@]} = ${#la[@]} ]; then
    for i in "${!la[@]}"; do LINKS[${la[i]}]=${lk[i]}; chomp "LINKS[${la[i]}]"; done
  fi
fi
exe_of() {  # EXE gets /proc/$1/exe's target ('' unreadable). It needs ptrace access: root,
  # or the process's own user; with ssh.sudo the read helper reads it (readlink
  # /proc/PID/exe, helper version 4).
  if [ -n "${LINKS[/proc/$1/exe]+set}" ]; then EXE=${LINKS[/proc/$1/exe]}; return 0; fi
  { EXE=$(R readlink "/proc/$1/exe"); } 2>/dev/null
  return 0
}
read_all() {  # $1 a variable, $2 a file: its whole text as $(cat) gives it, no process
  local -a _l=()
  mapfile -d '' _l 2>/dev/null < "$2"
  local _t=${_l[0]-}
  while [[ $_t == *$'\n' ]]; do _t=${_t%$'\n'}; done
  printf -v "$1" '%s' "$_t"
}
declare -A HOMES  # uid -> the home of its passwd entry
home_of() {  # sets HOME_OF to the home of uid $1 in the user database ('' if none)
  local _e
  HOME_OF=
  [ -n "$1" ] || return 0
  if [ -z "${HOMES[$1]+x}" ]; then
    _e=$(getent passwd "$1")
    HOMES[$1]=
    [ -z "$_e" ] || IFS=: read -r _ _ _ _ _ HOMES[$1] _ <<< "$_e"
  fi
  HOME_OF=${HOMES[$1]}
}
set -f
pidl=($pids)
set +f
printf 'C\t%s\n' "${#pidl[@]}"
for p in $pids; do
  mapfile -d '' -t a 2>/dev/null < "/proc/$p/cmdline" || continue
  [ ${#a[@]} -gt 0 ] || continue
  exe_of "$p"; exe=$EXE; read_all comm "/proc/$p/comm"
  AGENT_PID=$p CWD= CWD_READ=
  agent_kind "$exe" "$comm" "${a[@]}"
  shown=  # an interpreter's script, named only when it is an existing file
  if [[ $OPERAND == /* ]] && [ -f "$OPERAND" ]; then shown=$OPERAND
  elif [ -z "$KIND" ]; then script_of "$exe" "${a[@]}"; shown=$SHOWN; fi
  b64c e1 "$exe"; b64c e2 "${a[0]}"; b64c e3 "$shown"; b64c e4 "$comm"
  printf 'Q\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "${KIND:--}" "${VIA:--}" "$e1" "$e2" \
    "$e3" "$e4"
  [ -n "$KIND" ] || continue
  i=$FROM
  cwd_of; cwd=$CWD
  euid=
  mapfile -t sl 2>/dev/null < "/proc/$p/status"
  for l in "${sl[@]}"; do  # Uid: real effective saved fs
    if [[ $l == Uid:* ]]; then set -f; l=($l); set +f; euid=${l[2]-}; break; fi
  done
  home_of "$euid"; home=$HOME_OF
  prestat "${home:+${home%/}/.claude/settings.json}" "${cwd%/}/.claude/settings.local.json" \
    "${cwd%/}/.claude/settings.json"
  if procenv "$p" "V$TAB$p"; then st=ok; else st=-; fi
  b64c e1 "$cwd"; b64c e2 "$home"
  printf 'P\t%s\t%s\t%s\t%s\t%s\n' "$p" "$e1" "${euid:--}" "$e2" "$st"
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
    shared("cfg_bus", BUS)
    shared("cfg_functions", _COMMON + AGENT)
    probe("cfg_files", FILES)
    probe("cfg_env", ENV)
    probe("cfg_exec", EXEC)
    probe("cfg_procs", PROCS)
