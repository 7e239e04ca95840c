# THE OLD FACT SCRIPT: frozen, NEVER EDIT THIS FILE (issue 25, item 1).
# It is the batched fact script of main at commit 634bbe9, the "old" of the old-vs-new
# self-test (tests/facts/test_light_script.py): build_script(unit, sudo=...) of
# checks/jada_checks/facts/probes.py with every control module imported, lines 3 and on.
# Its first two lines, UNIT=... and JADA_SUDO=..., are parameters: tests/support/
# fact_scripts.py puts them back in front of the body below (these comment lines are
# dropped). The self-test pins this file's sha256, so an edit fails it.
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
S unit_show 'systemctl show --no-pager -p Id,MainPID,User,WorkingDirectory,LimitNOFILE,LimitNOFILESoft,LimitNPROC,LimitNPROCSoft,TasksMax,LoadState,ActiveState,SubState,UnitFileState,FragmentPath,Restart,NRestarts,ExecMainStartTimestamp,ExecMainStartTimestampMonotonic,ActiveEnterTimestamp,ActiveEnterTimestampMonotonic,DynamicUser,StandardInput,StandardOutput,StandardError -- "$UNIT"'
S sudo_preflight 'if [ -n "$JADA_SUDO" ] && [ "$(id -u)" != 0 ]; then
  echo "sudo ${JADA_SUDO_VERSION:--}"
  [ -n "$JADA_SUDO_REFUSED" ] && echo "refused $JADA_SUDO_REFUSED"
fi
true'
S svc_user 'printf '"'"'user %s\nfrom %s\nhome %s\n'"'"' "$SVC_USER" "$SVC_USER_FROM" "$SVC_HOME"'
S cfg_files 'set -o pipefail
CAP=1048576
b() { printf '"'"'%s'"'"' "$1" | base64 -w0; }
unit_path() {
  busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
    org.freedesktop.systemd1.Manager LoadUnit s "$UNIT" | cut -d'"'"'"'"'"' -f2
}
prop() { busctl --json=short get-property org.freedesktop.systemd1 "$1" "$2" "$3"; }
jdec() {  # the text of a JSON string body (without its quotes)
  local s=$1 out=
  while [[ $s == *\\* ]]; do
    out+=${s%%\\*}; s=${s#*\\}
    case ${s:0:1} in
      n) out+=$'"'"'\n'"'"';; t) out+=$'"'"'\t'"'"';; r) out+=$'"'"'\r'"'"';; b) out+=$'"'"'\b'"'"';; f) out+=$'"'"'\f'"'"';;
      u) out+=$(printf "\\u${s:1:4}"); s=${s:4};;
      *) out+=${s:0:1};;
    esac
    s=${s:1}
  done
  printf '"'"'%s'"'"' "$out$s"
}
unq() {  # a shell word or EnvironmentFile value without its outer quotes (approximate)
  local v=$1
  case $v in \'"'"'*\'"'"') v=${v:1:${#v}-2};; \"*\") v=${v:1:${#v}-2}; v=${v//\\\"/\"};; esac
  printf '"'"'%s'"'"' "$v"
}
# a whole setpriv argv (R runs it as is for root); the helper only checks --regid: it takes
# uid and gid from the passwd entry and refuses any other gid, root or 0 (issue 26)
canread() {  # 1/0: can the service user read it; '"'"'-'"'"': could not ask (no root)
  if [ -z "$SVC_USER" ] || { [ "$(id -u)" != 0 ] && [ -z "$JADA_SUDO" ]; } \
      || ! id -u "$SVC_USER" >/dev/null 2>&1; then  # no such user now (a DynamicUser=)
    printf -; return; fi
  # uid 0 reads every file it sees; the helper never runs anything as uid 0 (issue 26)
  if [ "$(id -u "$SVC_USER")" = 0 ]; then printf 1; return; fi
  R setpriv --reuid="$SVC_USER" --regid="$(id -g "$SVC_USER")" --init-groups \
    test -r "$1" 2>/dev/null
  case $? in 0) printf 1;; 1) printf 0;; *) printf -;; esac
}
declare -A EMITTED ROOTS PENV AGENTDIRS
emit() {  # one F record per path: state, stat data and (when readable) the content
  local role=$1 p=$2 st=ok size=- own=- mode=- real= data= rd=- dst d
  [ -n "$p" ] && [ -n "${EMITTED[$p]+x}" ] && return
  [ -n "$p" ] && EMITTED[$p]=1
  if [ -z "$p" ]; then st=nohome
  elif [ -e "$p" ]; then
    real=$(readlink -f -- "$p")
    if [ ! -f "$p" ]; then st=notfile
    else
      read -r size own mode < <(stat -L -c '"'"'%s %U %a'"'"' -- "$p")
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
  dst=$( [ -n "$p" ] && stat -L -c '"'"'%U:%a'"'"' -- "$(dirname -- "$p")" 2>/dev/null || echo -)
  printf '"'"'F\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n'"'"' "$role" "$(b "$p")" "$st" "$size" \
    "$own" "$mode" "$(b "$real")" "$dst" "$rd" "$data"
  [ -n "$p" ] || return 0
  ancestors "$(dirname -- "$p")"
  [ -n "$real" ] && [ "$(dirname -- "$real")" != "$(dirname -- "$p")" ] \
    && ancestors "$(dirname -- "$real")"
  return 0
}
ancestors() {  # AD records: $1 and every directory above it up to /, existing or not
  local d=$1 st
  while :; do
    if [ -d "$d" ]; then st=$(stat -L -c '"'"'%U %u %a'"'"' -- "$d" 2>/dev/null) || st='"'"'? ? ?'"'"'
    elif [ -e "$d" ] || [ -L "$d" ]; then st='"'"'? ? ?'"'"'
    elif [ -d "$(dirname -- "$d")" ] && [ ! -x "$(dirname -- "$d")" ]; then
      st='"'"'? ? ?'"'"'  # behind a directory the checking user cannot search: unknown, not missing
    else st='"'"'- - -'"'"'; fi
    printf '"'"'AD\t%s\t%s\n'"'"' "$(b "$d")" "${st// /$'"'"'\t'"'"'}"
    case $d in /|.|'"'"''"'"') break;; esac
    d=$(dirname -- "$d")
  done
}
agent_file() {  # T record: $1 dir, $2 file; the name/model lines of its front matter only
  local st=ok fm="" rc
  if [ ! -f "$2" ] || [ ! -r "$2" ]; then st=unreadable
  else
    fm=$(head -c 65536 -- "$2" | awk '"'"'
      NR == 1 { if ($0 !~ /^---[[:space:]]*$/) { bad = 1; exit } next }
      /^---[[:space:]]*$/ { done = 1; exit }
      /^(name|model)[[:space:]]*:/ { print; next }
      /^[A-Za-z_][A-Za-z0-9_-]*[[:space:]]*:/ { sub(/[[:space:]]*:.*/, ":"); print }
      END { if (bad) exit 3; if (!done) exit 4 }'"'"' | base64 -w0; \
      exit "${PIPESTATUS[1]}")
    rc=$?
    case $rc in 0) ;; 3) st=nofm; fm=;; 4) st=open; fm=;; *) st=unreadable; fm=;; esac
  fi
  printf '"'"'T\t%s\t%s\t%s\t%s\n'"'"' "$(b "$1")" "$(b "$2")" "$st" "$fm"
}
agents_dir() {  # G record: $1 role, $2 a subagents directory, read recursively (*.md)
  local role=$1 d=${2%/} st=ok up list rc n=0 f
  [ -n "$d" ] || return 0
  [ -n "${AGENTDIRS[$d]+x}" ] && return 0
  AGENTDIRS[$d]=1
  if [ ! -e "$d" ]; then
    up=$(dirname -- "$d")
    while [ ! -e "$up" ] && [ "$up" != / ] && [ "$up" != . ]; do up=$(dirname -- "$up"); done
    if [ -x "$up" ]; then st=missing; else st=unsearchable; fi
  elif [ ! -d "$d" ]; then st=notdir
  elif [ ! -r "$d" ] || [ ! -x "$d" ]; then st=unreadable
  else
    list=$(find "$d" -name '"'"'*.md'"'"' \( -type f -o -type l \) -print0 2>/dev/null | \
      base64 -w0; exit "${PIPESTATUS[0]}")
    rc=$?
    [ "$rc" = 0 ] || st=partial
    while IFS= read -r -d '"'"''"'"' f; do
      n=$((n + 1))
      if [ $n -gt 200 ]; then st=toomany; break; fi
      agent_file "$d" "$f"
    done < <(printf '"'"'%s'"'"' "$list" | base64 -d | sort -z)
  fi
  printf '"'"'G\t%s\t%s\t%s\n'"'"' "$role" "$(b "$d")" "$st"
}
gitroot() {  # R record: the nearest directory at or above $1 holding .git; sets GITROOT
  local d=$1 st=none
  GITROOT=
  while :; do
    if [ ! -x "$d" ]; then st=unknown; GITROOT=; break; fi
    if [ -e "$d/.git" ]; then st=ok; GITROOT=$d; break; fi
    [ "$d" = / ] || [ "$d" = . ] && break
    d=$(dirname -- "$d")
  done
  [ -n "${ROOTS[$1]+x}" ] && return
  ROOTS[$1]=1
  printf '"'"'R\t%s\t%s\t%s\n'"'"' "$(b "$1")" "$(b "$GITROOT")" "$st"
}
project_files() {  # project settings of a process started in $1 (both readings)
  local dir=${1%/} d
  emit local "${dir:-}/.claude/settings.local.json"
  emit project "${dir:-}/.claude/settings.json"
  gitroot "${dir:-/}"
  if [ -n "$GITROOT" ] && [ "${GITROOT%/}" != "$dir" ]; then
    emit local.root "${GITROOT%/}/.claude/settings.local.json"
  fi
  d=${dir:-/}  # project subagents: every .claude/agents from here up to the git root
  while :; do
    agents_dir agents.project "${d%/}/.claude/agents"
    [ -n "$GITROOT" ] && [ "${d%/}" != "${GITROOT%/}" ] && [ "$d" != / ] || break
    d=$(dirname -- "$d")
  done
}
user_file() {  # $1 HOME or CLAUDE_CONFIG_DIR, $2 its value, $3 base for a relative dir
  local v=$2
  [ -n "$v" ] || return 0
  if [ "$1" = CLAUDE_CONFIG_DIR ]; then
    case $v in /*) ;; *) v=${3%/}/$v;; esac
    emit user.env "${v%/}/settings.json"
    agents_dir agents.user "${v%/}/agents"
  elif [ "$1" = HOME ]; then
    emit user.env "${v%/}/.claude/settings.json"
    agents_dir agents.user "${v%/}/.claude/agents"
  fi
}
procenv() {  # $1 pid, $2 record prefix: sets PENV and PENV_OUT; rc 1: could not read
  local data rc kv name
  PENV=(); PENV_OUT=
  data=$(R grep -az -e ^ANTHROPIC_MODEL= -e ^ANTHROPIC_DEFAULT_OPUS_MODEL= -e ^ANTHROPIC_DEFAULT_SONNET_MODEL= -e ^ANTHROPIC_DEFAULT_HAIKU_MODEL= -e ^CLAUDE_CODE_SUBAGENT_MODEL= -e ^CLAUDE_CONFIG_DIR= -e ^HOME= -e ^ANTHROPIC_DEFAULT_MODEL= "/proc/$1/environ" 2>/dev/null | base64 -w0; \
    exit "${PIPESTATUS[0]}")
  rc=$?
  [ "$rc" -le 1 ] || return 1  # grep'"'"'s 1 only says none of the variables is set
  while IFS= read -r -d '"'"''"'"' kv; do
    name=${kv%%=*}
    case $name in ANTHROPIC_MODEL|ANTHROPIC_DEFAULT_OPUS_MODEL|ANTHROPIC_DEFAULT_SONNET_MODEL|ANTHROPIC_DEFAULT_HAIKU_MODEL|CLAUDE_CODE_SUBAGENT_MODEL|CLAUDE_CONFIG_DIR|HOME|ANTHROPIC_DEFAULT_MODEL) ;; *) continue;; esac
    [ -n "${PENV[$name]+x}" ] && continue  # the first one wins, as with getenv(3)
    PENV[$name]=${kv#*=}
    PENV_OUT+=$(printf '"'"'%s\t%s\t%s'"'"' "$2" "$name" "$(b "${kv#*=}")")$'"'"'\n'"'"'
  done < <(printf '"'"'%s'"'"' "$data" | base64 -d)
  return 0
}
arg() {  # $1 record prefix, $2 flag name, $3 value, $4 base directory of a relative path
  local p
  if [ "$2" = agents ]; then  # subagent definitions as JSON, sent like inline --settings
    if [ ${#3} -gt "$CAP" ]; then printf '"'"'%s\tagents-inline\t\ttoobig\n'"'"' "$1"
    else printf '"'"'%s\tagents-inline\t%s\tok\n'"'"' "$1" "$(b "$3")"; fi
  elif [ "$2" != settings ]; then
    printf '"'"'%s\t%s\t%s\t\n'"'"' "$1" "$2" "$(b "$3")"
  elif [[ $3 =~ ^[[:space:]]*\{ ]]; then  # inline JSON: a settings file on the command line
    if [ ${#3} -gt "$CAP" ]; then printf '"'"'%s\tsettings-inline\t\ttoobig\n'"'"' "$1"
    else printf '"'"'%s\tsettings-inline\t%s\tok\n'"'"' "$1" "$(b "$3")"; fi
  else
    p=$3
    case $p in /*) ;; *) p=${4%/}/$p;; esac
    printf '"'"'%s\tsettings-file\t%s\t%s\n'"'"' "$1" "$(b "$3")" "$(b "$p")"
    FLAG_FILES+=("$p")
  fi
}
scan_args() {  # $1 record prefix, $2 working directory, then argv: the model arguments
  local pre=$1 dir=$2 i k
  shift 2
  local -a a=("$@")
  for ((i = 0; i < ${#a[@]}; i++)); do
    case ${a[i]} in
      --) break;;
      --model|--permission-mode|--setting-sources|--settings|--agent|--agents\
      |--fallback-model)
        arg "$pre" "${a[i]#--}" "${a[i+1]-}" "$dir"; i=$((i + 1));;
      --model=*|--permission-mode=*|--setting-sources=*|--settings=*|--agent=*|--agents=*\
      |--fallback-model=*)
        k=${a[i]%%=*}; arg "$pre" "${k#--}" "${a[i]#*=}" "$dir";;
      --dangerously-skip-permissions) printf '"'"'%s\tskip\t\t\n'"'"' "$pre";;
      --allow-dangerously-skip-permissions) printf '"'"'%s\tallow-skip\t\t\n'"'"' "$pre";;
    esac
  done
}

wd=${SVC_WORKDIR#-}; wd=${wd#!}
case $wd in '"'"'~'"'"') wd=$SVC_HOME;; '"'"''"'"') wd=/;; esac
wd=${wd%/}
printf '"'"'H\t%s\t%s\t%s\n'"'"' "$(b "$SVC_HOME")" \
  "$(b "$(readlink -f -- "$SVC_HOME" 2>/dev/null)")" "$(b "${wd:-/}")"
up=$(unit_path) || exit 3
du=$(prop "$up" org.freedesktop.systemd1.Service DynamicUser) || exit 3
case $du in *true*) printf '"'"'D\t1\n'"'"';; *) printf '"'"'D\t0\n'"'"';; esac
emit user "${SVC_HOME:+${SVC_HOME%/}/.claude/settings.json}"
[ -n "$SVC_HOME" ] && agents_dir agents.user "${SVC_HOME%/}/.claude/agents"
case $du in *true*) emit user.dynamic /.claude/settings.json
  agents_dir agents.user /.claude/agents;; esac  # nss-systemd: home /
project_files "${wd:-/}"
emit managed /etc/claude-code/managed-settings.json
agents_dir agents.managed /etc/claude-code/.claude/agents
for f in /etc/claude-code/managed-settings.d/*.json; do
  if [ -e "$f" ] || [ -L "$f" ]; then emit managed.d "$f"; fi
done'
S cfg_env 'set -o pipefail
CAP=1048576
b() { printf '"'"'%s'"'"' "$1" | base64 -w0; }
unit_path() {
  busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
    org.freedesktop.systemd1.Manager LoadUnit s "$UNIT" | cut -d'"'"'"'"'"' -f2
}
prop() { busctl --json=short get-property org.freedesktop.systemd1 "$1" "$2" "$3"; }
jdec() {  # the text of a JSON string body (without its quotes)
  local s=$1 out=
  while [[ $s == *\\* ]]; do
    out+=${s%%\\*}; s=${s#*\\}
    case ${s:0:1} in
      n) out+=$'"'"'\n'"'"';; t) out+=$'"'"'\t'"'"';; r) out+=$'"'"'\r'"'"';; b) out+=$'"'"'\b'"'"';; f) out+=$'"'"'\f'"'"';;
      u) out+=$(printf "\\u${s:1:4}"); s=${s:4};;
      *) out+=${s:0:1};;
    esac
    s=${s:1}
  done
  printf '"'"'%s'"'"' "$out$s"
}
unq() {  # a shell word or EnvironmentFile value without its outer quotes (approximate)
  local v=$1
  case $v in \'"'"'*\'"'"') v=${v:1:${#v}-2};; \"*\") v=${v:1:${#v}-2}; v=${v//\\\"/\"};; esac
  printf '"'"'%s'"'"' "$v"
}
# a whole setpriv argv (R runs it as is for root); the helper only checks --regid: it takes
# uid and gid from the passwd entry and refuses any other gid, root or 0 (issue 26)
canread() {  # 1/0: can the service user read it; '"'"'-'"'"': could not ask (no root)
  if [ -z "$SVC_USER" ] || { [ "$(id -u)" != 0 ] && [ -z "$JADA_SUDO" ]; } \
      || ! id -u "$SVC_USER" >/dev/null 2>&1; then  # no such user now (a DynamicUser=)
    printf -; return; fi
  # uid 0 reads every file it sees; the helper never runs anything as uid 0 (issue 26)
  if [ "$(id -u "$SVC_USER")" = 0 ]; then printf 1; return; fi
  R setpriv --reuid="$SVC_USER" --regid="$(id -g "$SVC_USER")" --init-groups \
    test -r "$1" 2>/dev/null
  case $? in 0) printf 1;; 1) printf 0;; *) printf -;; esac
}
declare -A EMITTED ROOTS PENV AGENTDIRS
emit() {  # one F record per path: state, stat data and (when readable) the content
  local role=$1 p=$2 st=ok size=- own=- mode=- real= data= rd=- dst d
  [ -n "$p" ] && [ -n "${EMITTED[$p]+x}" ] && return
  [ -n "$p" ] && EMITTED[$p]=1
  if [ -z "$p" ]; then st=nohome
  elif [ -e "$p" ]; then
    real=$(readlink -f -- "$p")
    if [ ! -f "$p" ]; then st=notfile
    else
      read -r size own mode < <(stat -L -c '"'"'%s %U %a'"'"' -- "$p")
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
  dst=$( [ -n "$p" ] && stat -L -c '"'"'%U:%a'"'"' -- "$(dirname -- "$p")" 2>/dev/null || echo -)
  printf '"'"'F\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n'"'"' "$role" "$(b "$p")" "$st" "$size" \
    "$own" "$mode" "$(b "$real")" "$dst" "$rd" "$data"
  [ -n "$p" ] || return 0
  ancestors "$(dirname -- "$p")"
  [ -n "$real" ] && [ "$(dirname -- "$real")" != "$(dirname -- "$p")" ] \
    && ancestors "$(dirname -- "$real")"
  return 0
}
ancestors() {  # AD records: $1 and every directory above it up to /, existing or not
  local d=$1 st
  while :; do
    if [ -d "$d" ]; then st=$(stat -L -c '"'"'%U %u %a'"'"' -- "$d" 2>/dev/null) || st='"'"'? ? ?'"'"'
    elif [ -e "$d" ] || [ -L "$d" ]; then st='"'"'? ? ?'"'"'
    elif [ -d "$(dirname -- "$d")" ] && [ ! -x "$(dirname -- "$d")" ]; then
      st='"'"'? ? ?'"'"'  # behind a directory the checking user cannot search: unknown, not missing
    else st='"'"'- - -'"'"'; fi
    printf '"'"'AD\t%s\t%s\n'"'"' "$(b "$d")" "${st// /$'"'"'\t'"'"'}"
    case $d in /|.|'"'"''"'"') break;; esac
    d=$(dirname -- "$d")
  done
}
agent_file() {  # T record: $1 dir, $2 file; the name/model lines of its front matter only
  local st=ok fm="" rc
  if [ ! -f "$2" ] || [ ! -r "$2" ]; then st=unreadable
  else
    fm=$(head -c 65536 -- "$2" | awk '"'"'
      NR == 1 { if ($0 !~ /^---[[:space:]]*$/) { bad = 1; exit } next }
      /^---[[:space:]]*$/ { done = 1; exit }
      /^(name|model)[[:space:]]*:/ { print; next }
      /^[A-Za-z_][A-Za-z0-9_-]*[[:space:]]*:/ { sub(/[[:space:]]*:.*/, ":"); print }
      END { if (bad) exit 3; if (!done) exit 4 }'"'"' | base64 -w0; \
      exit "${PIPESTATUS[1]}")
    rc=$?
    case $rc in 0) ;; 3) st=nofm; fm=;; 4) st=open; fm=;; *) st=unreadable; fm=;; esac
  fi
  printf '"'"'T\t%s\t%s\t%s\t%s\n'"'"' "$(b "$1")" "$(b "$2")" "$st" "$fm"
}
agents_dir() {  # G record: $1 role, $2 a subagents directory, read recursively (*.md)
  local role=$1 d=${2%/} st=ok up list rc n=0 f
  [ -n "$d" ] || return 0
  [ -n "${AGENTDIRS[$d]+x}" ] && return 0
  AGENTDIRS[$d]=1
  if [ ! -e "$d" ]; then
    up=$(dirname -- "$d")
    while [ ! -e "$up" ] && [ "$up" != / ] && [ "$up" != . ]; do up=$(dirname -- "$up"); done
    if [ -x "$up" ]; then st=missing; else st=unsearchable; fi
  elif [ ! -d "$d" ]; then st=notdir
  elif [ ! -r "$d" ] || [ ! -x "$d" ]; then st=unreadable
  else
    list=$(find "$d" -name '"'"'*.md'"'"' \( -type f -o -type l \) -print0 2>/dev/null | \
      base64 -w0; exit "${PIPESTATUS[0]}")
    rc=$?
    [ "$rc" = 0 ] || st=partial
    while IFS= read -r -d '"'"''"'"' f; do
      n=$((n + 1))
      if [ $n -gt 200 ]; then st=toomany; break; fi
      agent_file "$d" "$f"
    done < <(printf '"'"'%s'"'"' "$list" | base64 -d | sort -z)
  fi
  printf '"'"'G\t%s\t%s\t%s\n'"'"' "$role" "$(b "$d")" "$st"
}
gitroot() {  # R record: the nearest directory at or above $1 holding .git; sets GITROOT
  local d=$1 st=none
  GITROOT=
  while :; do
    if [ ! -x "$d" ]; then st=unknown; GITROOT=; break; fi
    if [ -e "$d/.git" ]; then st=ok; GITROOT=$d; break; fi
    [ "$d" = / ] || [ "$d" = . ] && break
    d=$(dirname -- "$d")
  done
  [ -n "${ROOTS[$1]+x}" ] && return
  ROOTS[$1]=1
  printf '"'"'R\t%s\t%s\t%s\n'"'"' "$(b "$1")" "$(b "$GITROOT")" "$st"
}
project_files() {  # project settings of a process started in $1 (both readings)
  local dir=${1%/} d
  emit local "${dir:-}/.claude/settings.local.json"
  emit project "${dir:-}/.claude/settings.json"
  gitroot "${dir:-/}"
  if [ -n "$GITROOT" ] && [ "${GITROOT%/}" != "$dir" ]; then
    emit local.root "${GITROOT%/}/.claude/settings.local.json"
  fi
  d=${dir:-/}  # project subagents: every .claude/agents from here up to the git root
  while :; do
    agents_dir agents.project "${d%/}/.claude/agents"
    [ -n "$GITROOT" ] && [ "${d%/}" != "${GITROOT%/}" ] && [ "$d" != / ] || break
    d=$(dirname -- "$d")
  done
}
user_file() {  # $1 HOME or CLAUDE_CONFIG_DIR, $2 its value, $3 base for a relative dir
  local v=$2
  [ -n "$v" ] || return 0
  if [ "$1" = CLAUDE_CONFIG_DIR ]; then
    case $v in /*) ;; *) v=${3%/}/$v;; esac
    emit user.env "${v%/}/settings.json"
    agents_dir agents.user "${v%/}/agents"
  elif [ "$1" = HOME ]; then
    emit user.env "${v%/}/.claude/settings.json"
    agents_dir agents.user "${v%/}/.claude/agents"
  fi
}
procenv() {  # $1 pid, $2 record prefix: sets PENV and PENV_OUT; rc 1: could not read
  local data rc kv name
  PENV=(); PENV_OUT=
  data=$(R grep -az -e ^ANTHROPIC_MODEL= -e ^ANTHROPIC_DEFAULT_OPUS_MODEL= -e ^ANTHROPIC_DEFAULT_SONNET_MODEL= -e ^ANTHROPIC_DEFAULT_HAIKU_MODEL= -e ^CLAUDE_CODE_SUBAGENT_MODEL= -e ^CLAUDE_CONFIG_DIR= -e ^HOME= -e ^ANTHROPIC_DEFAULT_MODEL= "/proc/$1/environ" 2>/dev/null | base64 -w0; \
    exit "${PIPESTATUS[0]}")
  rc=$?
  [ "$rc" -le 1 ] || return 1  # grep'"'"'s 1 only says none of the variables is set
  while IFS= read -r -d '"'"''"'"' kv; do
    name=${kv%%=*}
    case $name in ANTHROPIC_MODEL|ANTHROPIC_DEFAULT_OPUS_MODEL|ANTHROPIC_DEFAULT_SONNET_MODEL|ANTHROPIC_DEFAULT_HAIKU_MODEL|CLAUDE_CODE_SUBAGENT_MODEL|CLAUDE_CONFIG_DIR|HOME|ANTHROPIC_DEFAULT_MODEL) ;; *) continue;; esac
    [ -n "${PENV[$name]+x}" ] && continue  # the first one wins, as with getenv(3)
    PENV[$name]=${kv#*=}
    PENV_OUT+=$(printf '"'"'%s\t%s\t%s'"'"' "$2" "$name" "$(b "${kv#*=}")")$'"'"'\n'"'"'
  done < <(printf '"'"'%s'"'"' "$data" | base64 -d)
  return 0
}
arg() {  # $1 record prefix, $2 flag name, $3 value, $4 base directory of a relative path
  local p
  if [ "$2" = agents ]; then  # subagent definitions as JSON, sent like inline --settings
    if [ ${#3} -gt "$CAP" ]; then printf '"'"'%s\tagents-inline\t\ttoobig\n'"'"' "$1"
    else printf '"'"'%s\tagents-inline\t%s\tok\n'"'"' "$1" "$(b "$3")"; fi
  elif [ "$2" != settings ]; then
    printf '"'"'%s\t%s\t%s\t\n'"'"' "$1" "$2" "$(b "$3")"
  elif [[ $3 =~ ^[[:space:]]*\{ ]]; then  # inline JSON: a settings file on the command line
    if [ ${#3} -gt "$CAP" ]; then printf '"'"'%s\tsettings-inline\t\ttoobig\n'"'"' "$1"
    else printf '"'"'%s\tsettings-inline\t%s\tok\n'"'"' "$1" "$(b "$3")"; fi
  else
    p=$3
    case $p in /*) ;; *) p=${4%/}/$p;; esac
    printf '"'"'%s\tsettings-file\t%s\t%s\n'"'"' "$1" "$(b "$3")" "$(b "$p")"
    FLAG_FILES+=("$p")
  fi
}
scan_args() {  # $1 record prefix, $2 working directory, then argv: the model arguments
  local pre=$1 dir=$2 i k
  shift 2
  local -a a=("$@")
  for ((i = 0; i < ${#a[@]}; i++)); do
    case ${a[i]} in
      --) break;;
      --model|--permission-mode|--setting-sources|--settings|--agent|--agents\
      |--fallback-model)
        arg "$pre" "${a[i]#--}" "${a[i+1]-}" "$dir"; i=$((i + 1));;
      --model=*|--permission-mode=*|--setting-sources=*|--settings=*|--agent=*|--agents=*\
      |--fallback-model=*)
        k=${a[i]%%=*}; arg "$pre" "${k#--}" "${a[i]#*=}" "$dir";;
      --dangerously-skip-permissions) printf '"'"'%s\tskip\t\t\n'"'"' "$pre";;
      --allow-dangerously-skip-permissions) printf '"'"'%s\tallow-skip\t\t\n'"'"' "$pre";;
    esac
  done
}

wd=${SVC_WORKDIR#-}; wd=${wd#!}
case $wd in '"'"'~'"'"') wd=$SVC_HOME;; '"'"''"'"') wd=/;; esac
pick() {
  grep -oE '"'"'[[,]"(ANTHROPIC_MODEL|ANTHROPIC_DEFAULT_OPUS_MODEL|ANTHROPIC_DEFAULT_SONNET_MODEL|ANTHROPIC_DEFAULT_HAIKU_MODEL|CLAUDE_CODE_SUBAGENT_MODEL|CLAUDE_CONFIG_DIR|HOME|ANTHROPIC_DEFAULT_MODEL)=([^"\\]|\\.)*"'"'"' | cut -c2- || true
}
found() {  # E/EV records -> user settings files a HOME or CLAUDE_CONFIG_DIR points at
  user_file "$1" "$2" "$wd"
}
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
    printf '"'"'E\t%s\t%s\n'"'"' "$scope" "$a"
    a=$(jdec "${a:1:${#a}-2}")
    found "${a%%=*}" "${a#*=}"
  done < <(printf '"'"'%s'"'"' "$j" | pick)
done
j=$(prop "$up" org.freedesktop.systemd1.Service EnvironmentFiles) || exit 3
while IFS=$'"'"'\t'"'"' read -r ign f; do
  i=0; [ "$ign" = true ] && i=1
  if [ ! -e "$f" ]; then st=missing; elif [ ! -r "$f" ]; then st=unreadable; else st=ok; fi
  printf '"'"'EF\t%s\t%s\t%s\n'"'"' "$(b "$f")" "$i" "$st"
  [ "$st" = ok ] || continue
  while IFS= read -r l; do
    printf '"'"'EV\t%s\t%s\n'"'"' "$(b "$f")" "$(b "$l")"
    l=${l#"${l%%[![:space:]]*}"}; n=${l%%=*}; n=${n%"${n##*[![:space:]]}"}
    v=${l#*=}; v=${v#"${v%%[![:space:]]*}"}; v=${v%"${v##*[![:space:]]}"}
    found "$n" "$(unq "$v")"
  done < <(grep -aE '"'"'^[[:space:]]*(ANTHROPIC_MODEL|ANTHROPIC_DEFAULT_OPUS_MODEL|ANTHROPIC_DEFAULT_SONNET_MODEL|ANTHROPIC_DEFAULT_HAIKU_MODEL|CLAUDE_CODE_SUBAGENT_MODEL|CLAUDE_CONFIG_DIR|HOME|ANTHROPIC_DEFAULT_MODEL)[[:space:]]*='"'"' -- "$f")
done < <(printf '"'"'%s'"'"' "$j" | grep -oE '"'"'\["([^"\\]|\\.)*",(true|false)\]'"'"' | \
  sed -E '"'"'s/^\["(.*)",(true|false)\]$/\2\t\1/'"'"')
if [ "${MAINPID:-0}" -gt 0 ] && procenv "$MAINPID" M; then
  printf '"'"'MS\n%s'"'"' "$PENV_OUT"
fi'
S cfg_exec 'set -o pipefail
CAP=1048576
b() { printf '"'"'%s'"'"' "$1" | base64 -w0; }
unit_path() {
  busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
    org.freedesktop.systemd1.Manager LoadUnit s "$UNIT" | cut -d'"'"'"'"'"' -f2
}
prop() { busctl --json=short get-property org.freedesktop.systemd1 "$1" "$2" "$3"; }
jdec() {  # the text of a JSON string body (without its quotes)
  local s=$1 out=
  while [[ $s == *\\* ]]; do
    out+=${s%%\\*}; s=${s#*\\}
    case ${s:0:1} in
      n) out+=$'"'"'\n'"'"';; t) out+=$'"'"'\t'"'"';; r) out+=$'"'"'\r'"'"';; b) out+=$'"'"'\b'"'"';; f) out+=$'"'"'\f'"'"';;
      u) out+=$(printf "\\u${s:1:4}"); s=${s:4};;
      *) out+=${s:0:1};;
    esac
    s=${s:1}
  done
  printf '"'"'%s'"'"' "$out$s"
}
unq() {  # a shell word or EnvironmentFile value without its outer quotes (approximate)
  local v=$1
  case $v in \'"'"'*\'"'"') v=${v:1:${#v}-2};; \"*\") v=${v:1:${#v}-2}; v=${v//\\\"/\"};; esac
  printf '"'"'%s'"'"' "$v"
}
# a whole setpriv argv (R runs it as is for root); the helper only checks --regid: it takes
# uid and gid from the passwd entry and refuses any other gid, root or 0 (issue 26)
canread() {  # 1/0: can the service user read it; '"'"'-'"'"': could not ask (no root)
  if [ -z "$SVC_USER" ] || { [ "$(id -u)" != 0 ] && [ -z "$JADA_SUDO" ]; } \
      || ! id -u "$SVC_USER" >/dev/null 2>&1; then  # no such user now (a DynamicUser=)
    printf -; return; fi
  # uid 0 reads every file it sees; the helper never runs anything as uid 0 (issue 26)
  if [ "$(id -u "$SVC_USER")" = 0 ]; then printf 1; return; fi
  R setpriv --reuid="$SVC_USER" --regid="$(id -g "$SVC_USER")" --init-groups \
    test -r "$1" 2>/dev/null
  case $? in 0) printf 1;; 1) printf 0;; *) printf -;; esac
}
declare -A EMITTED ROOTS PENV AGENTDIRS
emit() {  # one F record per path: state, stat data and (when readable) the content
  local role=$1 p=$2 st=ok size=- own=- mode=- real= data= rd=- dst d
  [ -n "$p" ] && [ -n "${EMITTED[$p]+x}" ] && return
  [ -n "$p" ] && EMITTED[$p]=1
  if [ -z "$p" ]; then st=nohome
  elif [ -e "$p" ]; then
    real=$(readlink -f -- "$p")
    if [ ! -f "$p" ]; then st=notfile
    else
      read -r size own mode < <(stat -L -c '"'"'%s %U %a'"'"' -- "$p")
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
  dst=$( [ -n "$p" ] && stat -L -c '"'"'%U:%a'"'"' -- "$(dirname -- "$p")" 2>/dev/null || echo -)
  printf '"'"'F\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n'"'"' "$role" "$(b "$p")" "$st" "$size" \
    "$own" "$mode" "$(b "$real")" "$dst" "$rd" "$data"
  [ -n "$p" ] || return 0
  ancestors "$(dirname -- "$p")"
  [ -n "$real" ] && [ "$(dirname -- "$real")" != "$(dirname -- "$p")" ] \
    && ancestors "$(dirname -- "$real")"
  return 0
}
ancestors() {  # AD records: $1 and every directory above it up to /, existing or not
  local d=$1 st
  while :; do
    if [ -d "$d" ]; then st=$(stat -L -c '"'"'%U %u %a'"'"' -- "$d" 2>/dev/null) || st='"'"'? ? ?'"'"'
    elif [ -e "$d" ] || [ -L "$d" ]; then st='"'"'? ? ?'"'"'
    elif [ -d "$(dirname -- "$d")" ] && [ ! -x "$(dirname -- "$d")" ]; then
      st='"'"'? ? ?'"'"'  # behind a directory the checking user cannot search: unknown, not missing
    else st='"'"'- - -'"'"'; fi
    printf '"'"'AD\t%s\t%s\n'"'"' "$(b "$d")" "${st// /$'"'"'\t'"'"'}"
    case $d in /|.|'"'"''"'"') break;; esac
    d=$(dirname -- "$d")
  done
}
agent_file() {  # T record: $1 dir, $2 file; the name/model lines of its front matter only
  local st=ok fm="" rc
  if [ ! -f "$2" ] || [ ! -r "$2" ]; then st=unreadable
  else
    fm=$(head -c 65536 -- "$2" | awk '"'"'
      NR == 1 { if ($0 !~ /^---[[:space:]]*$/) { bad = 1; exit } next }
      /^---[[:space:]]*$/ { done = 1; exit }
      /^(name|model)[[:space:]]*:/ { print; next }
      /^[A-Za-z_][A-Za-z0-9_-]*[[:space:]]*:/ { sub(/[[:space:]]*:.*/, ":"); print }
      END { if (bad) exit 3; if (!done) exit 4 }'"'"' | base64 -w0; \
      exit "${PIPESTATUS[1]}")
    rc=$?
    case $rc in 0) ;; 3) st=nofm; fm=;; 4) st=open; fm=;; *) st=unreadable; fm=;; esac
  fi
  printf '"'"'T\t%s\t%s\t%s\t%s\n'"'"' "$(b "$1")" "$(b "$2")" "$st" "$fm"
}
agents_dir() {  # G record: $1 role, $2 a subagents directory, read recursively (*.md)
  local role=$1 d=${2%/} st=ok up list rc n=0 f
  [ -n "$d" ] || return 0
  [ -n "${AGENTDIRS[$d]+x}" ] && return 0
  AGENTDIRS[$d]=1
  if [ ! -e "$d" ]; then
    up=$(dirname -- "$d")
    while [ ! -e "$up" ] && [ "$up" != / ] && [ "$up" != . ]; do up=$(dirname -- "$up"); done
    if [ -x "$up" ]; then st=missing; else st=unsearchable; fi
  elif [ ! -d "$d" ]; then st=notdir
  elif [ ! -r "$d" ] || [ ! -x "$d" ]; then st=unreadable
  else
    list=$(find "$d" -name '"'"'*.md'"'"' \( -type f -o -type l \) -print0 2>/dev/null | \
      base64 -w0; exit "${PIPESTATUS[0]}")
    rc=$?
    [ "$rc" = 0 ] || st=partial
    while IFS= read -r -d '"'"''"'"' f; do
      n=$((n + 1))
      if [ $n -gt 200 ]; then st=toomany; break; fi
      agent_file "$d" "$f"
    done < <(printf '"'"'%s'"'"' "$list" | base64 -d | sort -z)
  fi
  printf '"'"'G\t%s\t%s\t%s\n'"'"' "$role" "$(b "$d")" "$st"
}
gitroot() {  # R record: the nearest directory at or above $1 holding .git; sets GITROOT
  local d=$1 st=none
  GITROOT=
  while :; do
    if [ ! -x "$d" ]; then st=unknown; GITROOT=; break; fi
    if [ -e "$d/.git" ]; then st=ok; GITROOT=$d; break; fi
    [ "$d" = / ] || [ "$d" = . ] && break
    d=$(dirname -- "$d")
  done
  [ -n "${ROOTS[$1]+x}" ] && return
  ROOTS[$1]=1
  printf '"'"'R\t%s\t%s\t%s\n'"'"' "$(b "$1")" "$(b "$GITROOT")" "$st"
}
project_files() {  # project settings of a process started in $1 (both readings)
  local dir=${1%/} d
  emit local "${dir:-}/.claude/settings.local.json"
  emit project "${dir:-}/.claude/settings.json"
  gitroot "${dir:-/}"
  if [ -n "$GITROOT" ] && [ "${GITROOT%/}" != "$dir" ]; then
    emit local.root "${GITROOT%/}/.claude/settings.local.json"
  fi
  d=${dir:-/}  # project subagents: every .claude/agents from here up to the git root
  while :; do
    agents_dir agents.project "${d%/}/.claude/agents"
    [ -n "$GITROOT" ] && [ "${d%/}" != "${GITROOT%/}" ] && [ "$d" != / ] || break
    d=$(dirname -- "$d")
  done
}
user_file() {  # $1 HOME or CLAUDE_CONFIG_DIR, $2 its value, $3 base for a relative dir
  local v=$2
  [ -n "$v" ] || return 0
  if [ "$1" = CLAUDE_CONFIG_DIR ]; then
    case $v in /*) ;; *) v=${3%/}/$v;; esac
    emit user.env "${v%/}/settings.json"
    agents_dir agents.user "${v%/}/agents"
  elif [ "$1" = HOME ]; then
    emit user.env "${v%/}/.claude/settings.json"
    agents_dir agents.user "${v%/}/.claude/agents"
  fi
}
procenv() {  # $1 pid, $2 record prefix: sets PENV and PENV_OUT; rc 1: could not read
  local data rc kv name
  PENV=(); PENV_OUT=
  data=$(R grep -az -e ^ANTHROPIC_MODEL= -e ^ANTHROPIC_DEFAULT_OPUS_MODEL= -e ^ANTHROPIC_DEFAULT_SONNET_MODEL= -e ^ANTHROPIC_DEFAULT_HAIKU_MODEL= -e ^CLAUDE_CODE_SUBAGENT_MODEL= -e ^CLAUDE_CONFIG_DIR= -e ^HOME= -e ^ANTHROPIC_DEFAULT_MODEL= "/proc/$1/environ" 2>/dev/null | base64 -w0; \
    exit "${PIPESTATUS[0]}")
  rc=$?
  [ "$rc" -le 1 ] || return 1  # grep'"'"'s 1 only says none of the variables is set
  while IFS= read -r -d '"'"''"'"' kv; do
    name=${kv%%=*}
    case $name in ANTHROPIC_MODEL|ANTHROPIC_DEFAULT_OPUS_MODEL|ANTHROPIC_DEFAULT_SONNET_MODEL|ANTHROPIC_DEFAULT_HAIKU_MODEL|CLAUDE_CODE_SUBAGENT_MODEL|CLAUDE_CONFIG_DIR|HOME|ANTHROPIC_DEFAULT_MODEL) ;; *) continue;; esac
    [ -n "${PENV[$name]+x}" ] && continue  # the first one wins, as with getenv(3)
    PENV[$name]=${kv#*=}
    PENV_OUT+=$(printf '"'"'%s\t%s\t%s'"'"' "$2" "$name" "$(b "${kv#*=}")")$'"'"'\n'"'"'
  done < <(printf '"'"'%s'"'"' "$data" | base64 -d)
  return 0
}
arg() {  # $1 record prefix, $2 flag name, $3 value, $4 base directory of a relative path
  local p
  if [ "$2" = agents ]; then  # subagent definitions as JSON, sent like inline --settings
    if [ ${#3} -gt "$CAP" ]; then printf '"'"'%s\tagents-inline\t\ttoobig\n'"'"' "$1"
    else printf '"'"'%s\tagents-inline\t%s\tok\n'"'"' "$1" "$(b "$3")"; fi
  elif [ "$2" != settings ]; then
    printf '"'"'%s\t%s\t%s\t\n'"'"' "$1" "$2" "$(b "$3")"
  elif [[ $3 =~ ^[[:space:]]*\{ ]]; then  # inline JSON: a settings file on the command line
    if [ ${#3} -gt "$CAP" ]; then printf '"'"'%s\tsettings-inline\t\ttoobig\n'"'"' "$1"
    else printf '"'"'%s\tsettings-inline\t%s\tok\n'"'"' "$1" "$(b "$3")"; fi
  else
    p=$3
    case $p in /*) ;; *) p=${4%/}/$p;; esac
    printf '"'"'%s\tsettings-file\t%s\t%s\n'"'"' "$1" "$(b "$3")" "$(b "$p")"
    FLAG_FILES+=("$p")
  fi
}
scan_args() {  # $1 record prefix, $2 working directory, then argv: the model arguments
  local pre=$1 dir=$2 i k
  shift 2
  local -a a=("$@")
  for ((i = 0; i < ${#a[@]}; i++)); do
    case ${a[i]} in
      --) break;;
      --model|--permission-mode|--setting-sources|--settings|--agent|--agents\
      |--fallback-model)
        arg "$pre" "${a[i]#--}" "${a[i+1]-}" "$dir"; i=$((i + 1));;
      --model=*|--permission-mode=*|--setting-sources=*|--settings=*|--agent=*|--agents=*\
      |--fallback-model=*)
        k=${a[i]%%=*}; arg "$pre" "${k#--}" "${a[i]#*=}" "$dir";;
      --dangerously-skip-permissions) printf '"'"'%s\tskip\t\t\n'"'"' "$pre";;
      --allow-dangerously-skip-permissions) printf '"'"'%s\tallow-skip\t\t\n'"'"' "$pre";;
    esac
  done
}

wd=${SVC_WORKDIR#-}; wd=${wd#!}
case $wd in '"'"'~'"'"') wd=$SVC_HOME;; '"'"''"'"') wd=/;; esac
FLAG_FILES=()
W() {  # program action name value: a wrapper'"'"'s effect on the environment
  printf '"'"'W\t%s\t%s\t%s\t%s\n'"'"' "$(b "$1")" "$2" "$3" "$(b "$4")"
}
named() {  # program action name value: only for the gathered variables
  case $3 in ANTHROPIC_MODEL|ANTHROPIC_DEFAULT_OPUS_MODEL|ANTHROPIC_DEFAULT_SONNET_MODEL|ANTHROPIC_DEFAULT_HAIKU_MODEL|CLAUDE_CODE_SUBAGENT_MODEL|CLAUDE_CONFIG_DIR|HOME|ANTHROPIC_DEFAULT_MODEL) W "$@";; *) return 0;; esac
  case $2 in set) user_file "$3" "$4" "$wd";; sh) user_file "$3" "$(unq "$4")" "$wd";; esac
}
WORD="('"'"'[^'"'"']*'"'"'|\"([^\"\\\\]|\\\\.)*\"|\\\\.|[^][:space:];&|()<>'"'"'\"\\\\])*"
SET_RE="(^|[[:space:];&|(])(export[[:space:]]+)?(ANTHROPIC_MODEL|ANTHROPIC_DEFAULT_OPUS_MODEL|ANTHROPIC_DEFAULT_SONNET_MODEL|ANTHROPIC_DEFAULT_HAIKU_MODEL|CLAUDE_CODE_SUBAGENT_MODEL|CLAUDE_CONFIG_DIR|HOME|ANTHROPIC_DEFAULT_MODEL)=($WORD)"
UNSET_RE="(^|[[:space:];&|(])unset[[:space:]]+(-v[[:space:]]+)?(ANTHROPIC_MODEL|ANTHROPIC_DEFAULT_OPUS_MODEL|ANTHROPIC_DEFAULT_SONNET_MODEL|ANTHROPIC_DEFAULT_HAIKU_MODEL|CLAUDE_CODE_SUBAGENT_MODEL|CLAUDE_CONFIG_DIR|HOME|ANTHROPIC_DEFAULT_MODEL)([[:space:];&|)]|$)"
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
    '"'"'['"'"') depth=$((depth + 1)); [ $depth = 3 ] && cur=();;
    '"'"']'"'"')
      if [ $depth = 3 ]; then
        argv=()
        for e in "${cur[@]}"; do argv+=("$(printf '"'"'%s'"'"' "${e#x}" | base64 -d)"); done
        scan_wrappers "${argv[@]}"
        scan_args X "$wd" "${argv[@]}"
      fi
      depth=$((depth - 1));;
    *) [ $depth = 3 ] && cur+=("x$(jdec "${tok:1:${#tok}-2}" | base64 -w0)");;
  esac
done < <(printf '"'"'%s'"'"' "$j" | grep -oE '"'"'"([^"\\]|\\.)*"|\[|\]'"'"')
for f in "${FLAG_FILES[@]}"; do emit flag "$f"; done'
S cfg_procs 'set -o pipefail
CAP=1048576
b() { printf '"'"'%s'"'"' "$1" | base64 -w0; }
unit_path() {
  busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
    org.freedesktop.systemd1.Manager LoadUnit s "$UNIT" | cut -d'"'"'"'"'"' -f2
}
prop() { busctl --json=short get-property org.freedesktop.systemd1 "$1" "$2" "$3"; }
jdec() {  # the text of a JSON string body (without its quotes)
  local s=$1 out=
  while [[ $s == *\\* ]]; do
    out+=${s%%\\*}; s=${s#*\\}
    case ${s:0:1} in
      n) out+=$'"'"'\n'"'"';; t) out+=$'"'"'\t'"'"';; r) out+=$'"'"'\r'"'"';; b) out+=$'"'"'\b'"'"';; f) out+=$'"'"'\f'"'"';;
      u) out+=$(printf "\\u${s:1:4}"); s=${s:4};;
      *) out+=${s:0:1};;
    esac
    s=${s:1}
  done
  printf '"'"'%s'"'"' "$out$s"
}
unq() {  # a shell word or EnvironmentFile value without its outer quotes (approximate)
  local v=$1
  case $v in \'"'"'*\'"'"') v=${v:1:${#v}-2};; \"*\") v=${v:1:${#v}-2}; v=${v//\\\"/\"};; esac
  printf '"'"'%s'"'"' "$v"
}
# a whole setpriv argv (R runs it as is for root); the helper only checks --regid: it takes
# uid and gid from the passwd entry and refuses any other gid, root or 0 (issue 26)
canread() {  # 1/0: can the service user read it; '"'"'-'"'"': could not ask (no root)
  if [ -z "$SVC_USER" ] || { [ "$(id -u)" != 0 ] && [ -z "$JADA_SUDO" ]; } \
      || ! id -u "$SVC_USER" >/dev/null 2>&1; then  # no such user now (a DynamicUser=)
    printf -; return; fi
  # uid 0 reads every file it sees; the helper never runs anything as uid 0 (issue 26)
  if [ "$(id -u "$SVC_USER")" = 0 ]; then printf 1; return; fi
  R setpriv --reuid="$SVC_USER" --regid="$(id -g "$SVC_USER")" --init-groups \
    test -r "$1" 2>/dev/null
  case $? in 0) printf 1;; 1) printf 0;; *) printf -;; esac
}
declare -A EMITTED ROOTS PENV AGENTDIRS
emit() {  # one F record per path: state, stat data and (when readable) the content
  local role=$1 p=$2 st=ok size=- own=- mode=- real= data= rd=- dst d
  [ -n "$p" ] && [ -n "${EMITTED[$p]+x}" ] && return
  [ -n "$p" ] && EMITTED[$p]=1
  if [ -z "$p" ]; then st=nohome
  elif [ -e "$p" ]; then
    real=$(readlink -f -- "$p")
    if [ ! -f "$p" ]; then st=notfile
    else
      read -r size own mode < <(stat -L -c '"'"'%s %U %a'"'"' -- "$p")
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
  dst=$( [ -n "$p" ] && stat -L -c '"'"'%U:%a'"'"' -- "$(dirname -- "$p")" 2>/dev/null || echo -)
  printf '"'"'F\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n'"'"' "$role" "$(b "$p")" "$st" "$size" \
    "$own" "$mode" "$(b "$real")" "$dst" "$rd" "$data"
  [ -n "$p" ] || return 0
  ancestors "$(dirname -- "$p")"
  [ -n "$real" ] && [ "$(dirname -- "$real")" != "$(dirname -- "$p")" ] \
    && ancestors "$(dirname -- "$real")"
  return 0
}
ancestors() {  # AD records: $1 and every directory above it up to /, existing or not
  local d=$1 st
  while :; do
    if [ -d "$d" ]; then st=$(stat -L -c '"'"'%U %u %a'"'"' -- "$d" 2>/dev/null) || st='"'"'? ? ?'"'"'
    elif [ -e "$d" ] || [ -L "$d" ]; then st='"'"'? ? ?'"'"'
    elif [ -d "$(dirname -- "$d")" ] && [ ! -x "$(dirname -- "$d")" ]; then
      st='"'"'? ? ?'"'"'  # behind a directory the checking user cannot search: unknown, not missing
    else st='"'"'- - -'"'"'; fi
    printf '"'"'AD\t%s\t%s\n'"'"' "$(b "$d")" "${st// /$'"'"'\t'"'"'}"
    case $d in /|.|'"'"''"'"') break;; esac
    d=$(dirname -- "$d")
  done
}
agent_file() {  # T record: $1 dir, $2 file; the name/model lines of its front matter only
  local st=ok fm="" rc
  if [ ! -f "$2" ] || [ ! -r "$2" ]; then st=unreadable
  else
    fm=$(head -c 65536 -- "$2" | awk '"'"'
      NR == 1 { if ($0 !~ /^---[[:space:]]*$/) { bad = 1; exit } next }
      /^---[[:space:]]*$/ { done = 1; exit }
      /^(name|model)[[:space:]]*:/ { print; next }
      /^[A-Za-z_][A-Za-z0-9_-]*[[:space:]]*:/ { sub(/[[:space:]]*:.*/, ":"); print }
      END { if (bad) exit 3; if (!done) exit 4 }'"'"' | base64 -w0; \
      exit "${PIPESTATUS[1]}")
    rc=$?
    case $rc in 0) ;; 3) st=nofm; fm=;; 4) st=open; fm=;; *) st=unreadable; fm=;; esac
  fi
  printf '"'"'T\t%s\t%s\t%s\t%s\n'"'"' "$(b "$1")" "$(b "$2")" "$st" "$fm"
}
agents_dir() {  # G record: $1 role, $2 a subagents directory, read recursively (*.md)
  local role=$1 d=${2%/} st=ok up list rc n=0 f
  [ -n "$d" ] || return 0
  [ -n "${AGENTDIRS[$d]+x}" ] && return 0
  AGENTDIRS[$d]=1
  if [ ! -e "$d" ]; then
    up=$(dirname -- "$d")
    while [ ! -e "$up" ] && [ "$up" != / ] && [ "$up" != . ]; do up=$(dirname -- "$up"); done
    if [ -x "$up" ]; then st=missing; else st=unsearchable; fi
  elif [ ! -d "$d" ]; then st=notdir
  elif [ ! -r "$d" ] || [ ! -x "$d" ]; then st=unreadable
  else
    list=$(find "$d" -name '"'"'*.md'"'"' \( -type f -o -type l \) -print0 2>/dev/null | \
      base64 -w0; exit "${PIPESTATUS[0]}")
    rc=$?
    [ "$rc" = 0 ] || st=partial
    while IFS= read -r -d '"'"''"'"' f; do
      n=$((n + 1))
      if [ $n -gt 200 ]; then st=toomany; break; fi
      agent_file "$d" "$f"
    done < <(printf '"'"'%s'"'"' "$list" | base64 -d | sort -z)
  fi
  printf '"'"'G\t%s\t%s\t%s\n'"'"' "$role" "$(b "$d")" "$st"
}
gitroot() {  # R record: the nearest directory at or above $1 holding .git; sets GITROOT
  local d=$1 st=none
  GITROOT=
  while :; do
    if [ ! -x "$d" ]; then st=unknown; GITROOT=; break; fi
    if [ -e "$d/.git" ]; then st=ok; GITROOT=$d; break; fi
    [ "$d" = / ] || [ "$d" = . ] && break
    d=$(dirname -- "$d")
  done
  [ -n "${ROOTS[$1]+x}" ] && return
  ROOTS[$1]=1
  printf '"'"'R\t%s\t%s\t%s\n'"'"' "$(b "$1")" "$(b "$GITROOT")" "$st"
}
project_files() {  # project settings of a process started in $1 (both readings)
  local dir=${1%/} d
  emit local "${dir:-}/.claude/settings.local.json"
  emit project "${dir:-}/.claude/settings.json"
  gitroot "${dir:-/}"
  if [ -n "$GITROOT" ] && [ "${GITROOT%/}" != "$dir" ]; then
    emit local.root "${GITROOT%/}/.claude/settings.local.json"
  fi
  d=${dir:-/}  # project subagents: every .claude/agents from here up to the git root
  while :; do
    agents_dir agents.project "${d%/}/.claude/agents"
    [ -n "$GITROOT" ] && [ "${d%/}" != "${GITROOT%/}" ] && [ "$d" != / ] || break
    d=$(dirname -- "$d")
  done
}
user_file() {  # $1 HOME or CLAUDE_CONFIG_DIR, $2 its value, $3 base for a relative dir
  local v=$2
  [ -n "$v" ] || return 0
  if [ "$1" = CLAUDE_CONFIG_DIR ]; then
    case $v in /*) ;; *) v=${3%/}/$v;; esac
    emit user.env "${v%/}/settings.json"
    agents_dir agents.user "${v%/}/agents"
  elif [ "$1" = HOME ]; then
    emit user.env "${v%/}/.claude/settings.json"
    agents_dir agents.user "${v%/}/.claude/agents"
  fi
}
procenv() {  # $1 pid, $2 record prefix: sets PENV and PENV_OUT; rc 1: could not read
  local data rc kv name
  PENV=(); PENV_OUT=
  data=$(R grep -az -e ^ANTHROPIC_MODEL= -e ^ANTHROPIC_DEFAULT_OPUS_MODEL= -e ^ANTHROPIC_DEFAULT_SONNET_MODEL= -e ^ANTHROPIC_DEFAULT_HAIKU_MODEL= -e ^CLAUDE_CODE_SUBAGENT_MODEL= -e ^CLAUDE_CONFIG_DIR= -e ^HOME= -e ^ANTHROPIC_DEFAULT_MODEL= "/proc/$1/environ" 2>/dev/null | base64 -w0; \
    exit "${PIPESTATUS[0]}")
  rc=$?
  [ "$rc" -le 1 ] || return 1  # grep'"'"'s 1 only says none of the variables is set
  while IFS= read -r -d '"'"''"'"' kv; do
    name=${kv%%=*}
    case $name in ANTHROPIC_MODEL|ANTHROPIC_DEFAULT_OPUS_MODEL|ANTHROPIC_DEFAULT_SONNET_MODEL|ANTHROPIC_DEFAULT_HAIKU_MODEL|CLAUDE_CODE_SUBAGENT_MODEL|CLAUDE_CONFIG_DIR|HOME|ANTHROPIC_DEFAULT_MODEL) ;; *) continue;; esac
    [ -n "${PENV[$name]+x}" ] && continue  # the first one wins, as with getenv(3)
    PENV[$name]=${kv#*=}
    PENV_OUT+=$(printf '"'"'%s\t%s\t%s'"'"' "$2" "$name" "$(b "${kv#*=}")")$'"'"'\n'"'"'
  done < <(printf '"'"'%s'"'"' "$data" | base64 -d)
  return 0
}
arg() {  # $1 record prefix, $2 flag name, $3 value, $4 base directory of a relative path
  local p
  if [ "$2" = agents ]; then  # subagent definitions as JSON, sent like inline --settings
    if [ ${#3} -gt "$CAP" ]; then printf '"'"'%s\tagents-inline\t\ttoobig\n'"'"' "$1"
    else printf '"'"'%s\tagents-inline\t%s\tok\n'"'"' "$1" "$(b "$3")"; fi
  elif [ "$2" != settings ]; then
    printf '"'"'%s\t%s\t%s\t\n'"'"' "$1" "$2" "$(b "$3")"
  elif [[ $3 =~ ^[[:space:]]*\{ ]]; then  # inline JSON: a settings file on the command line
    if [ ${#3} -gt "$CAP" ]; then printf '"'"'%s\tsettings-inline\t\ttoobig\n'"'"' "$1"
    else printf '"'"'%s\tsettings-inline\t%s\tok\n'"'"' "$1" "$(b "$3")"; fi
  else
    p=$3
    case $p in /*) ;; *) p=${4%/}/$p;; esac
    printf '"'"'%s\tsettings-file\t%s\t%s\n'"'"' "$1" "$(b "$3")" "$(b "$p")"
    FLAG_FILES+=("$p")
  fi
}
scan_args() {  # $1 record prefix, $2 working directory, then argv: the model arguments
  local pre=$1 dir=$2 i k
  shift 2
  local -a a=("$@")
  for ((i = 0; i < ${#a[@]}; i++)); do
    case ${a[i]} in
      --) break;;
      --model|--permission-mode|--setting-sources|--settings|--agent|--agents\
      |--fallback-model)
        arg "$pre" "${a[i]#--}" "${a[i+1]-}" "$dir"; i=$((i + 1));;
      --model=*|--permission-mode=*|--setting-sources=*|--settings=*|--agent=*|--agents=*\
      |--fallback-model=*)
        k=${a[i]%%=*}; arg "$pre" "${k#--}" "${a[i]#*=}" "$dir";;
      --dangerously-skip-permissions) printf '"'"'%s\tskip\t\t\n'"'"' "$pre";;
      --allow-dangerously-skip-permissions) printf '"'"'%s\tallow-skip\t\t\n'"'"' "$pre";;
    esac
  done
}

VER_RE='"'"'^[0-9]+[.][0-9]+[.][0-9]+([-+][0-9A-Za-z.-]+)?$'"'"'
cli_kind() {  # $1 a path or name: sets K to which Claude Code executable it is ('"'"''"'"' if none)
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
NATIVE='"'"' name package-bin platform-bin native-version '"'"'
SCRIPT='"'"' name cli.js cli-wrapper '"'"'
NODE_VALUE='"'"' -r --require --import --loader --experimental-loader -C --conditions --title --env-file --env-file-if-exists --input-type --inspect-port --debug-port --redirect-warnings --disable-warning --openssl-config --icu-data-dir --watch-path --report-dir --report-directory --report-filename --report-signal --diagnostic-dir --heapsnapshot-signal --unhandled-rejections --dns-result-order --secure-heap --trace-event-categories --trace-event-file-pattern --stack-size --max-old-space-size --preload --tsconfig-override --config --cwd '"'"'
cwd_of() {  # the working directory of $AGENT_PID, read once (root)
  [ -n "$CWD_READ" ] || { CWD=$(R readlink "/proc/$AGENT_PID/cwd" 2>/dev/null); CWD_READ=1; }
}
resolved() {  # $1 a path as a process gave it: what it names after every symbolic link
  local r=$1
  case $r in /*) ;; *) cwd_of; r=${CWD%/}/$r;; esac
  readlink -f -- "$r" 2>/dev/null
}
agent_kind() {  # $1 exe ('"'"''"'"' unknown), $2 comm, then argv: sets KIND VIA FROM OPERAND
  local exe=$1 comm=$2
  shift 2
  local -a a=("$@")
  local i n=$#
  KIND= VIA= FROM=1 OPERAND=
  cli_kind "$exe"
  if [ -n "$K" ] && [[ $NATIVE == *" $K "* ]]; then KIND=$K VIA=exe; return 0; fi
  cli_kind "${a[0]}"
  if [ -n "$K" ] && [[ $NATIVE == *" $K "* ]]; then KIND=$K VIA=argv0; return 0; fi
  if [ -z "$exe" ]; then  # /proc/PID/exe not readable: argv[0]'"'"'s links, the kernel'"'"'s name
    if [[ ${a[0]} == */* ]]; then
      cli_kind "$(resolved "${a[0]}")"
      if [ -n "$K" ] && [[ $NATIVE == *" $K "* ]]; then KIND=$K VIA=argv0-link; return 0; fi
    fi
    case $comm in claude|claude.exe) KIND=name VIA=comm; return 0;; esac
  fi
  case ${exe##*/} in
    node|nodejs|node[0-9]*|bun|sh|bash|dash) ;;
    '"'"''"'"') case ${a[0]##*/} in node|nodejs|node[0-9]*|bun|sh|bash|dash) ;; *) return 0;; esac;;
    *) return 0;;
  esac
  for ((i = 1; i < n; i++)); do  # the interpreter'"'"'s options, then its script
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
script_of() {  # $1 exe, then argv: an interpreter'"'"'s script, for a person to read (or '"'"''"'"')
  local exe=$1 i
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
      *) [[ ${a[i]} == /* ]] && [ -f "${a[i]}" ] && printf '"'"'%s'"'"' "${a[i]}"; return 0;;
    esac
  done
}

TAB=$'"'"'\t'"'"'
pids=
cg=$(systemctl show -p ControlGroup --value -- "$UNIT" 2>/dev/null)
if [ -n "$cg" ] && [ -d "/sys/fs/cgroup$cg" ]; then
  pids=$(find "/sys/fs/cgroup$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)
elif [ "${MAINPID:-0}" -gt 0 ]; then
  pids=$(ps -e -o pid=,ppid= | awk -v root="$MAINPID" '"'"'{p[$1]=$2} END {k[root]=1;
    do { n=0; for (x in p) if (!(x in k) && (p[x] in k)) { k[x]=1; n++ } } while (n);
    for (x in k) print x }'"'"')
fi
exe_of() {  # /proc/PID/exe needs ptrace access: root, or the process'"'"'s own user; with
  # ssh.sudo the read helper reads it (readlink /proc/PID/exe, helper version 4).
  if [ "$(id -u)" = 0 ] || [ -z "$JADA_SUDO" ]; then readlink "/proc/$1/exe" 2>/dev/null
  else R readlink "/proc/$1/exe" 2>/dev/null; fi
  return 0
}
printf '"'"'C\t%s\n'"'"' "$(printf '"'"'%s\n'"'"' $pids | grep -c . || true)"
for p in $pids; do
  mapfile -d '"'"''"'"' -t a 2>/dev/null < "/proc/$p/cmdline" || continue
  [ ${#a[@]} -gt 0 ] || continue
  exe=$(exe_of "$p"); comm=$(cat "/proc/$p/comm" 2>/dev/null)
  AGENT_PID=$p CWD= CWD_READ=
  agent_kind "$exe" "$comm" "${a[@]}"
  shown=  # an interpreter'"'"'s script, named only when it is an existing file
  if [[ $OPERAND == /* ]] && [ -f "$OPERAND" ]; then shown=$OPERAND
  elif [ -z "$KIND" ]; then shown=$(script_of "$exe" "${a[@]}"); fi
  printf '"'"'Q\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n'"'"' "$p" "${KIND:--}" "${VIA:--}" "$(b "$exe")" \
    "$(b "${a[0]}")" "$(b "$shown")" "$(b "$comm")"
  [ -n "$KIND" ] || continue
  i=$FROM
  cwd_of; cwd=$CWD
  euid=$(awk '"'"'/^Uid:/ {print $3; exit}'"'"' "/proc/$p/status" 2>/dev/null)
  home=$( [ -n "$euid" ] && getent passwd "$euid" | cut -d: -f6)
  if procenv "$p" "V$TAB$p"; then st=ok; else st=-; fi
  printf '"'"'P\t%s\t%s\t%s\t%s\t%s\n'"'"' "$p" "$(b "$cwd")" "${euid:--}" "$(b "$home")" "$st"
  printf '"'"'%s'"'"' "$PENV_OUT"
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
done'
S hc_main_limits '[ "${MAINPID:-0}" -gt 0 ] 2>/dev/null || { echo "the unit has no main process (MainPID=${MAINPID:-})" >&2; exit 3; }
cat "/proc/$MAINPID/limits"'
S hc_unit_procs '[ "${MAINPID:-0}" -gt 0 ] 2>/dev/null || { echo "the unit has no main process (MainPID=${MAINPID:-})" >&2; exit 3; }
b() { printf '"'"'%s'"'"' "$1" | base64 -w0; }
cg=$(systemctl show -p ControlGroup --value -- "$UNIT" 2>/dev/null)
if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then base=/sys/fs/cgroup
else base=/sys/fs/cgroup/systemd; fi
pids=
walk() {
  local d=$1 rel=${1#"$base"} p s
  if p=$(cat "$d/cgroup.procs" 2>/dev/null); then
    p=$(echo $p); echo "G $(b "$rel") $p"; pids="$pids $p"
  elif [ "$(cat "$d/cgroup.type" 2>/dev/null)" != threaded ]; then
    echo "GX $(b "$rel") cgroup.procs could not be read"
  fi
  if [ ! -r "$d" ] || [ ! -x "$d" ]; then
    echo "GX $(b "$rel") its child cgroups could not be listed"; return
  fi
  for s in "$d"/*/ "$d"/.[!.]*/ "$d"/..?*/; do [ -d "$s" ] && walk "${s%/}"; done
}
if [ -n "$cg" ] && [ -d "$base$cg" ]; then
  echo "source cgroup $cg"; echo "hierarchy $base"
  walk "$base$cg"
else
  echo "source descendants of $MAINPID"
  pids=$(ps -e -o pid=,ppid= | awk -v r="$MAINPID" '"'"'{p[$1]=$2} END{k[r]=1; n=1;
    while(n){n=0; for(i in p) if(!(i in k) && (p[i] in k)){k[i]=1; n=1}} for(i in k) print i}'"'"')
fi
for p in $pids; do
  [ -r "/proc/$p/limits" ] || continue
  if fds=$(R ls -U "/proc/$p/fd" 2>/dev/null); then n=$(printf '"'"'%s\n'"'"' "$fds" | grep -c .)
  else n=-; fi
  soft=$(awk '"'"'/^Max open files/{print $4}'"'"' "/proc/$p/limits" 2>/dev/null)
  comm=$(tr -d '"'"'\n'"'"' < "/proc/$p/comm" 2>/dev/null | tr -c '"'"'[:print:]'"'"' '"'"'?'"'"')
  echo "P $p $n ${soft:--} ${comm:-?}"
done'
S hc_sysctl_runtime 'v() {
  if x=$(cat "/proc/sys/$2" 2>/dev/null); then echo "V $1 $2 $x"
  else echo "V $1 $2 !unreadable"; fi
}
for k in fs/nr_open fs/file-max fs/file-nr net/core/somaxconn net/ipv4/tcp_max_syn_backlog; do
  v host "$k"
done
me=$(readlink /proc/self/ns/net)
svc=""
if [ "${MAINPID:-0}" -gt 0 ] 2>/dev/null; then
  svc=$(R readlink "/proc/$MAINPID/ns/net" 2>/dev/null) || svc='"'"'!unreadable'"'"'
fi
echo "NS host $me"; echo "NS service ${svc:-?}"
if [ -n "$svc" ] && [ "$svc" != "$me" ] && [ "$svc" != '"'"'!unreadable'"'"' ]; then
  for k in net/core/somaxconn net/ipv4/tcp_max_syn_backlog; do
    if x=$(R nsenter -t "$MAINPID" -n cat "/proc/sys/$k" 2>/dev/null); then echo "V service $k $x"
    else echo "V service $k !unreadable"; fi
  done
fi'
S hc_sysctl_files 'dumpf() {
  for f in "$@"; do
    p=$(printf '"'"'%s'"'"' "$f" | base64 -w0)
    if [ -d "$f" ]; then echo "F $p dir"
    elif [ ! -e "$f" ]; then if [ -L "$f" ]; then echo "F $p dangling"; else echo "F $p missing"; fi
    elif c=$(base64 -w0 < "$f" 2>/dev/null); then echo "F $p ok $c"
    else echo "F $p unreadable"; fi
  done
}
for d in /etc/sysctl.d /run/sysctl.d /usr/local/lib/sysctl.d /usr/lib/sysctl.d /lib/sysctl.d; do
  echo "D $(printf '"'"'%s'"'"' "$d" | base64 -w0)"
  for f in "$d"/*.conf; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    dumpf "$f"
  done
done'
S hc_nofile_lines 'frag=$(systemctl show -p FragmentPath --value -- "$UNIT" 2>/dev/null)
drop=$(systemctl show -p DropInPaths --value -- "$UNIT" 2>/dev/null)
for f in $frag $drop; do
  echo "FILE unit $f"
  [ -r "$f" ] || { echo "UNREADABLE unit $f"; continue; }
  grep -n -E '"'"'^[[:space:]]*LimitNOFILE[[:space:]]*='"'"' "$f" | sed "s|^|LINE unit $f |"
done
for f in /etc/systemd/system.conf /etc/systemd/system.conf.d/*.conf \
         /run/systemd/system.conf.d/*.conf /usr/local/lib/systemd/system.conf.d/*.conf \
         /usr/lib/systemd/system.conf.d/*.conf; do
  [ -e "$f" ] || continue
  echo "FILE manager $f"
  [ -r "$f" ] || { echo "UNREADABLE manager $f"; continue; }
  grep -n -E '"'"'^[[:space:]]*DefaultLimitNOFILE[[:space:]]*='"'"' "$f" | sed "s|^|LINE manager $f |"
done
true'
S hc_boot_facts 'echo "release $(cat /proc/sys/kernel/osrelease 2>/dev/null)"
echo "cmdline $(awk '"'"'{for (i = 1; i <= NF && $i != "--"; i++) if ($i ~ /^sysctl[.\/]/) \
  printf "%s ", $i}'"'"' /proc/cmdline 2>/dev/null | head -c 4096)"
echo "container $(systemd-detect-virt --container 2>/dev/null || echo none)"
echo "ehash $(cat /proc/sys/net/ipv4/tcp_ehash_entries 2>/dev/null)"'
S hc_listen 'me=$(readlink /proc/self/ns/net)
svc=""
[ "${MAINPID:-0}" -gt 0 ] 2>/dev/null && svc=$(R readlink "/proc/$MAINPID/ns/net" 2>/dev/null)
if [ -n "$svc" ] && [ "$svc" != "$me" ]; then R nsenter -t "$MAINPID" -n ss -H -l -n -t -p
else R ss -H -l -n -t -p; fi'
S http_listen_units '{
me=$(readlink /proc/self/ns/net)
svc=""
[ "${MAINPID:-0}" -gt 0 ] 2>/dev/null && svc=$(R readlink "/proc/$MAINPID/ns/net" 2>/dev/null)
if [ -n "$svc" ] && [ "$svc" != "$me" ]; then R nsenter -t "$MAINPID" -n ss -H -l -n -t -p
else R ss -H -l -n -t -p; fi
} | grep -o '"'"'pid=[0-9]*'"'"' | sort -u | while IFS== read -r _ pid; do printf '"'"'%s %s\n'"'"' "$pid" "$(sed -n -e '"'"'s/^0:://p'"'"' -e '"'"'s/^[0-9]*:name=systemd://p'"'"' "/proc/$pid/cgroup" 2>/dev/null | head -n 1)"; done'
S hc_limits_files 'dumpf() {
  for f in "$@"; do
    p=$(printf '"'"'%s'"'"' "$f" | base64 -w0)
    if [ -d "$f" ]; then echo "F $p dir"
    elif [ ! -e "$f" ]; then if [ -L "$f" ]; then echo "F $p dangling"; else echo "F $p missing"; fi
    elif c=$(base64 -w0 < "$f" 2>/dev/null); then echo "F $p ok $c"
    else echo "F $p unreadable"; fi
  done
}
dumpf /etc/security/limits.conf
for f in /etc/security/limits.d/*.conf; do [ -e "$f" ] || [ -L "$f" ] || continue; dumpf "$f"; done'
S hc_session 'u=${SUDO_USER:-$(id -un)}
echo "user $u"
echo "uid $(id -u "$u")"
echo "gid $(id -g "$u")"
echo "gids $(id -G "$u")"
echo "groups $(id -Gn "$u")"
echo "sudo ${SUDO_USER:+yes}"
echo "nofile $(ulimit -Sn) $(ulimit -Hn)"
echo "nproc $(ulimit -Su) $(ulimit -Hu)"
grep -E '"'"'^(ID|ID_LIKE)='"'"' /etc/os-release 2>/dev/null | sed '"'"'s/^/os /'"'"'
true'
S hc_boot_route 'b() { printf '"'"'%s'"'"' "$1" | base64 -w0; }
echo "default $(systemctl show -p Id --value default.target 2>/dev/null)"
echo "P $(systemctl show -p WantedBy,RequiredBy,BoundBy,UpheldBy --value -- "$UNIT" \
  2>/dev/null | tr '"'"'\n'"'"' '"'"' '"'"')"
systemctl list-dependencies --reverse --all --no-pager -- "$UNIT" 2>/dev/null \
  | head -n 3000 | sed '"'"'s/^/T /'"'"'
dirs=
for d in /etc/systemd/system.control /run/systemd/system.control /run/systemd/transient \
    /run/systemd/generator.early /etc/systemd/system /run/systemd/system \
    /run/systemd/generator /usr/local/lib/systemd/system /usr/lib/systemd/system \
    /lib/systemd/system /run/systemd/generator.late; do
  [ -d "$d" ] || continue
  case " $dirs " in *" $(readlink -f "$d") "*) continue;; esac  # /lib -> /usr/lib
  dirs="$dirs $d"
done
for par in $(systemctl show -p WantedBy,RequiredBy,BoundBy,UpheldBy --value -- "$UNIT" \
    2>/dev/null); do
  for d in $dirs; do
    for l in "$d/$par.wants/$UNIT" "$d/$par.requires/$UNIT" "$d/$par.upholds/$UNIT"; do
      if [ -L "$l" ] || [ -e "$l" ]; then echo "L $(b "$par") $(b "$l")"; fi
    done
  done
  for f in $(systemctl show -p FragmentPath,DropInPaths --value -- "$par" 2>/dev/null); do
    grep -n -E "^[[:space:]]*(Wants|Requires|BindsTo|Upholds)[[:space:]]*=.*" "$f" 2>/dev/null \
      | grep -F -- "$UNIT" | cut -c1-200 | while IFS= read -r m; do
        echo "W $(b "$par") $(b "$f:$m")"; done
  done
done
for d in $dirs; do
  for a in "$d"/*; do
    [ -L "$a" ] || continue
    t=$(readlink -- "$a")
    if [ "${t##*/}" = "$UNIT" ] && [ "${a##*/}" != "$UNIT" ]; then echo "A $(b "$a")"; fi
  done
done
true'
S hc_uptime 'cat /proc/uptime'
S hc_main_status '[ "${MAINPID:-0}" -gt 0 ] 2>/dev/null || { echo "the unit has no main process (MainPID=${MAINPID:-})" >&2; exit 3; }
grep -E '"'"'^(Name|Uid|Gid):'"'"' "/proc/$MAINPID/status"'
S hc_unit_uids '[ "${MAINPID:-0}" -gt 0 ] 2>/dev/null || { echo "the unit has no main process (MainPID=${MAINPID:-})" >&2; exit 3; }
cg=$(systemctl show -p ControlGroup --value -- "$UNIT" 2>/dev/null)
if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then base=/sys/fs/cgroup
else base=/sys/fs/cgroup/systemd; fi
if [ -n "$cg" ] && [ -d "$base$cg" ]; then
  pids=$(find "$base$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)
else
  pids=$(ps -e -o pid=,ppid= | awk -v r="$MAINPID" '"'"'{p[$1]=$2} END{k[r]=1; n=1;
    while(n){n=0; for(i in p) if(!(i in k) && (p[i] in k)){k[i]=1; n=1}} for(i in k) print i}'"'"')
fi
for p in $MAINPID $pids; do
  u=$(awk '"'"'/^Uid:/ {print $2, $3; exit}'"'"' "/proc/$p/status" 2>/dev/null) || continue
  [ -n "$u" ] || continue
  comm=$(tr -d '"'"'\n'"'"' < "/proc/$p/comm" 2>/dev/null | tr -c '"'"'[:print:]'"'"' '"'"'?'"'"')
  name=$(getent passwd "${u%% *}" | cut -d: -f1)
  echo "U $p $u ${name:--} ${comm:-?}"
done'
S hc_journal 'EMFILE_ERE='"'"'too many open files|(^|[^0-9a-z_])emfile([^0-9a-z_]|$)'"'"'
echo "now $(date +%s)"
if [ "$(id -u)" = 0 ] || id -nG | grep -qwE '"'"'adm|systemd-journal'"'"'; then echo "access full"
else echo "access limited"; fi
last=$(journalctl --no-pager -q -o short-unix -n 1 _SYSTEMD_UNIT="$UNIT" | awk '"'"'NR==1{print $1}'"'"')
echo "last ${last:--}"
journalctl --no-pager -q -o short-unix -u "$UNIT" --since "-1440min" \
  | awk -v re="$EMFILE_ERE" '"'"'{m=$0; sub(/^[^ ]+ [^ ]+ [^:]*: /, "", m)}
         tolower(m) ~ re {c[int($1/60)]++; l=$0}
         END{for (m in c) print "M", m, c[m]; if (l != "") print "L", substr(l, 1, 400)}'"'"'
true'
S hc_analyze 'out=$(systemd-analyze security --no-pager -- "$UNIT"); rc=$?
if [ "$rc" != 0 ]; then echo "systemd-analyze security exited $rc" >&2; exit "$rc"; fi
printf '"'"'%s\n'"'"' "$out" | grep -F '"'"'Overall exposure level'"'"' \
  || { echo "no '"'"'Overall exposure level'"'"' line in systemd-analyze output" >&2; exit 4; }'
