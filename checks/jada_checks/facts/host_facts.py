"""Shell snippets and readers shared by the host controls (UNIT-02..05, FD, LIM, NET).

Each control module registers the snippets it needs with ``probe()``; registering the
same snippet twice is allowed, so modules share facts without sharing registration
order. All snippets run inside the ONE batched script per target. They print only what
the checks need: LimitNOFILE lines (never whole unit files, which may hold secrets in
Environment=), counts and the latest matching journal line (never the journal).
"""

from __future__ import annotations

import base64
import binascii

from jada_checks.context import CheckContext
from jada_checks.facts.host import Section
from jada_checks.model import CheckError
from jada_checks.parsers.boot_sysctl import BootFacts, parse_boot_facts
from jada_checks.parsers.cgroup import CgroupTree, parse_cgroup_tree
from jada_checks.parsers.dump import DUMP_FUNCTION, FileDump, parse_dump
from jada_checks.parsers.nr_open import BootNrOpen, nr_open_at_boot
from jada_checks.parsers.numbers import INT_MAX, NR_OPEN_MAX, U64_MAX, whole
from jada_checks.parsers.proc import Pair, ProcFds, parse_fd_table, parse_limits, parse_values
from jada_checks.parsers.sysctl import SYSCTL_DIRS, resolve
from jada_checks.parsers.systemd import parse_show

NEED_PID = ('[ "${MAINPID:-0}" -gt 0 ] 2>/dev/null || '
            '{ echo "the unit has no main process (MainPID=${MAINPID:-})" >&2; exit 3; }')

MAIN_LIMITS = NEED_PID + '\njada_cat "/proc/$MAINPID/limits"'
# as grep -E '^(Name|Uid|Gid):' prints them and exits, without a process; grep itself when
# the file cannot be read, for its own words
MAIN_STATUS = NEED_PID + "\n" + r"""
# (an empty read is grep's to judge: mapfile says 0 on a read error after open)
if mapfile -t st 2>/dev/null < "/proc/$MAINPID/status" && [ "${#st[@]}" -gt 0 ]; then
  r=1
  for l in "${st[@]}"; do [[ $l =~ ^(Name|Uid|Gid): ]] && { printf '%s\n' "$l"; r=0; }; done
  exit "$r"
fi
grep -E '^(Name|Uid|Gid):' "/proc/$MAINPID/status"
""".strip()

# The unit's processes: every cgroup of its subtree (child cgroups made under Delegate=
# included), read in the hierarchy systemd tracks services by (src/basic/cgroup-util.c:
# cgroup2 when /sys/fs/cgroup is cgroup2fs, else the v1 name=systemd hierarchy); without
# a cgroup, MainPID and its descendants.
UNIT_PROCS = NEED_PID + "\n" + r"""
cg=${JADA_PROP[ControlGroup]}
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then base=/sys/fs/cgroup
else base=/sys/fs/cgroup/systemd; fi
pids=
# walk keeps the G/GX lines in order; a cgroup whose cgroup.procs read empty (no process,
# or a read that failed) waits in empty/at, for one cat of them all (issue 25: a cat each)
out=() empty=() at=()
walk() {
  local d=$1 rel=${1#"$base"} s r
  local -a pa=()
  jada_b64 "$rel" r
  if mapfile -t pa 2>/dev/null < "$d/cgroup.procs" && [ "${#pa[@]}" -gt 0 ]; then
    out+=("G $r ${pa[*]}")
  else
    empty+=("$d/cgroup.procs"); at+=("${#out[@]}"); out+=("$r")
  fi
  if [ ! -r "$d" ] || [ ! -x "$d" ]; then
    out+=("GX $r its child cgroups could not be listed"); return
  fi
  for s in "$d"/*/ "$d"/.[!.]*/ "$d"/..?*/; do [ -d "$s" ] && walk "${s%/}"; done
}
if [ -n "$cg" ] && [ -d "$base$cg" ]; then
  echo "source cgroup $cg"; echo "hierarchy $base"
  walk "$base$cg"
  if [ "${#empty[@]}" -gt 0 ] && { p=$(cat "${empty[@]}"); } 2>/dev/null && [ -z "$p" ]; then
    for i in "${at[@]}"; do out[i]="G ${out[i]} "; done  # all read, all empty
  else  # each as before: cat's answer, else GX unless the cgroup is threaded (no processes)
    for j in "${!at[@]}"; do
      i=${at[j]}; r=${out[i]}
      if { p=$(cat "${empty[j]}"); } 2>/dev/null; then
        pa=($p); out[i]="G $r ${pa[*]}"  # as $(echo $p)
      elif s=; jada_read s "${empty[j]%/cgroup.procs}/cgroup.type"; [ "$s" != threaded ]; then
        out[i]="GX $r cgroup.procs could not be read"
      else unset 'out[i]'; fi
    done
  fi
  [ "${#out[@]}" = 0 ] || printf '%s\n' "${out[@]}"
  for l in "${out[@]}"; do [[ $l == 'G '* ]] && { l=${l#G }; pids="$pids ${l#* }"; }; done
else
  echo "source descendants of $MAINPID"
  pids=$(ps -e -o pid=,ppid= | awk -v r="$MAINPID" '{p[$1]=$2} END{k[r]=1; n=1;
    while(n){n=0; for(i in p) if(!(i in k) && (p[i] in k)){k[i]=1; n=1}} for(i in k) print i}')
fi
shopt -s nullglob
for p in $pids; do
  [ -r "/proc/$p/limits" ] || continue
  n=-
  if [ -z "$JADA_SUDO" ] || [ "$EUID" = 0 ]; then fds=("/proc/$p/fd/"*); n=${#fds[@]}; fi
  if [ "$n" = - ] || [ "$n" = 0 ]; then  # as ls sees it (a listing that failed: -)
    if { fds=$(R ls -U "/proc/$p/fd"); } 2>/dev/null; then n=$(printf '%s\n' "$fds" | grep -c .)
    else n=-; fi
  fi
  soft=; lim=()
  mapfile -t lim 2>/dev/null < "/proc/$p/limits"
  for l in "${lim[@]}"; do
    if [[ $l == 'Max open files'* ]]; then l=($l); soft=${l[3]}; break; fi
  done
  comm=; IFS= read -r -d '' comm 2>/dev/null < "/proc/$p/comm"
  comm=${comm//$'\n'/}; comm=${comm//[![:print:]]/?}
  echo "P $p $n ${soft:--} ${comm:-?}"
done
""".strip()

# Who each process of the unit really runs as: real and effective uid from
# /proc/<pid>/status (world-readable), for every process of the unit's cgroup subtree (or
# MainPID's descendants without one). JADA-UNIT-03 judges these, not User= alone.
UNIT_UIDS = NEED_PID + "\n" + r"""
cg=${JADA_PROP[ControlGroup]}
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then base=/sys/fs/cgroup
else base=/sys/fs/cgroup/systemd; fi
if [ -n "$cg" ] && [ -d "$base$cg" ]; then
  { pids=$(find "$base$cg" -name cgroup.procs -exec cat {} +); } 2>/dev/null
else
  pids=$(ps -e -o pid=,ppid= | awk -v r="$MAINPID" '{p[$1]=$2} END{k[r]=1; n=1;
    while(n){n=0; for(i in p) if(!(i in k) && (p[i] in k)){k[i]=1; n=1}} for(i in k) print i}')
fi
declare -A names=()
for p in $MAINPID $pids; do
  st=(); u=
  mapfile -t st 2>/dev/null < "/proc/$p/status" || continue
  for l in "${st[@]}"; do
    if [[ $l == Uid:* ]]; then l=(${l#Uid:}); u="${l[0]} ${l[1]}"; break; fi
  done
  [ -n "$u" ] || continue
  comm=; IFS= read -r -d '' comm 2>/dev/null < "/proc/$p/comm"
  comm=${comm//$'\n'/}; comm=${comm//[![:print:]]/?}
  if [ -z "${names[${u%% *}]+set}" ]; then
    name=$(getent passwd "${u%% *}"); names[${u%% *}]=${name%%:*}
  fi
  name=${names[${u%% *}]}
  echo "U $p $u ${name:--} ${comm:-?}"
done
""".strip()

# Runtime sysctls: ours (the SSH session's netns) and, if different, the service's netns.
SYSCTL_RUNTIME = r"""
v() {
  if jada_read x "/proc/sys/$2"; then echo "V $1 $2 $x"
  else echo "V $1 $2 !unreadable"; fi
}
for k in fs/nr_open fs/file-max fs/file-nr net/core/somaxconn net/ipv4/tcp_max_syn_backlog; do
  v host "$k"
done
me=$JADA_NETNS
svc=""
if [ "${MAINPID:-0}" -gt 0 ] 2>/dev/null; then
  jada_svc_netns && svc=$JADA_SVC || svc='!unreadable'
fi
echo "NS host $me"; echo "NS service ${svc:-?}"
if [ -n "$svc" ] && [ "$svc" != "$me" ] && [ "$svc" != '!unreadable' ]; then
  for k in net/core/somaxconn net/ipv4/tcp_max_syn_backlog; do
    if { x=$(R nsenter -t "$MAINPID" -n cat "/proc/sys/$k"); } 2>/dev/null
    then echo "V service $k $x"
    else echo "V service $k !unreadable"; fi
  done
fi
""".strip()

# parsers/dump.py's dumpf, the same lines, with fewer processes (issue 25): the path is
# encoded in the shell (jada_b64), and the content's base64 replaces the shell of its
# $(...) (exec: a redirection that fails still says so in the same words, and fails it);
# a file dumped before under another name (-ef: /lib/sysctl.d is /usr/lib/sysctl.d on a
# merged /usr) is not encoded again. Every line stays where it was: bash names the line of
# a redirection that failed.
FAST_DUMP = DUMP_FUNCTION.replace("""p=$(printf '%s' "$f" | base64 -w0)""", 'jada_b64 "$f" p'
                                  ).replace(
    'elif c=$(base64 -w0 < "$f" 2>/dev/null); then echo "F $p ok $c"',
    'elif jada_seen "$f" || c=$(exec base64 -w0 < "$f" 2>/dev/null); then echo "F $p ok $c"'
    '; JADA_DF+=("$f"); JADA_DC+=("$c")') + "\n" + r"""
JADA_DF=() JADA_DC=()  # the files dumped, and their base64
jada_seen() {  # c gets the base64 of file $1 when it was dumped before under another name
  local i
  for i in "${!JADA_DF[@]}"; do [ "$1" -ef "${JADA_DF[i]}" ] && { c=${JADA_DC[i]}; return; }; done
  return 1
}""".strip()
assert FAST_DUMP.count("jada_b64") == FAST_DUMP.count("exec base64") == 1
assert FAST_DUMP.count("jada_seen") == 2
assert len(FAST_DUMP.splitlines()) == len(DUMP_FUNCTION.splitlines()) + 6

SYSCTL_FILES = FAST_DUMP + "\n" + r"""
for d in /etc/sysctl.d /run/sysctl.d /usr/local/lib/sysctl.d /usr/lib/sysctl.d /lib/sysctl.d; do
  jada_b64 "$d" p; echo "D $p"
  for f in "$d"/*.conf; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    dumpf "$f"
  done
done
""".strip()

LIMITS_FILES = FAST_DUMP + "\n" + r"""
dumpf /etc/security/limits.conf
for f in /etc/security/limits.d/*.conf; do [ -e "$f" ] || [ -L "$f" ] || continue; dumpf "$f"; done
""".strip()

# Who the SSH session is (under sudo: the invoking user) and the limits it really got.
SESSION = r"""
u=${SUDO_USER:-$(id -un)}
echo "user $u"
ok=
if { ids=$(id -- "$u"); } 2>/dev/null \
    && [[ $ids =~ ^uid=([0-9]+)\([^\)]*\)\ gid=([0-9]+)\([^\)]*\)\ groups=(.*)$ ]]; then
  # one id(1): "uid=N(name) gid=N(name) groups=N(name),..."; a group without a name (id
  # -Gn would warn on stderr) falls back to the four calls
  uid=${BASH_REMATCH[1]}; gid=${BASH_REMATCH[2]}; gids=; gnames=; ok=1
  set -f; IFS=,; gl=(${BASH_REMATCH[3]}); IFS=$' \t\n'; set +f
  for g in "${gl[@]}"; do
    [[ $g =~ ^([0-9]+)\((.*)\)$ ]] || { ok=; break; }
    gids="$gids ${BASH_REMATCH[1]}"; gnames="$gnames ${BASH_REMATCH[2]}"
  done
fi
if [ -n "$ok" ]; then
  echo "uid $uid"; echo "gid $gid"; echo "gids ${gids# }"; echo "groups ${gnames# }"
else
  echo "uid $(id -u "$u")"
  echo "gid $(id -g "$u")"
  echo "gids $(id -G "$u")"
  echo "groups $(id -Gn "$u")"
fi
echo "sudo ${SUDO_USER:+yes}"
nof= npr=  # ulimit's soft and hard values, as this shell's /proc/self/limits shows them
if mapfile -t lim 2>/dev/null < /proc/self/limits; then  # (no subshell per value)
  for l in "${lim[@]}"; do
    set -f; w=($l); set +f
    case $l in
      'Max open files '*) nof="${w[3]} ${w[4]}" ;;
      'Max processes '*) npr="${w[2]} ${w[3]}" ;;
    esac
  done
fi
echo "nofile ${nof:-$(ulimit -Sn) $(ulimit -Hn)}"
echo "nproc ${npr:-$(ulimit -Su) $(ulimit -Hu)}"
if mapfile -t os 2>/dev/null < /etc/os-release; then
  for l in "${os[@]}"; do [[ $l =~ ^(ID|ID_LIKE)= ]] && echo "os $l"; done
fi
true
""".strip()

# LimitNOFILE= lines of the unit (fragment + drop-ins) and DefaultLimitNOFILE= lines of
# system.conf(.d): grep only those keys, so Environment= secrets never leave the target.
NOFILE_LINES = r"""
lines() {  # lines SCOPE FILE ERE: as grep -n -E ERE FILE | sed "s|^|LINE SCOPE FILE |"
  local -a a; local i
  mapfile -t a 2>/dev/null < "$2" || return
  # nothing read: empty, or a read error mapfile does not report (grep does, on stderr)
  [ "${#a[@]}" -gt 0 ] || { grep -q -E -- "$3" "$2"; return 0; }
  for i in "${!a[@]}"; do [[ ${a[i]} =~ $3 ]] && echo "LINE $1 $2 $((i + 1)):${a[i]}"; done
}
for f in ${JADA_PROP[FragmentPath]} ${JADA_PROP[DropInPaths]}; do
  echo "FILE unit $f"
  [ -r "$f" ] || { echo "UNREADABLE unit $f"; continue; }
  lines unit "$f" '^[[:space:]]*LimitNOFILE[[:space:]]*='
done
for f in /etc/systemd/system.conf /etc/systemd/system.conf.d/*.conf \
         /run/systemd/system.conf.d/*.conf /usr/local/lib/systemd/system.conf.d/*.conf \
         /usr/lib/systemd/system.conf.d/*.conf; do
  [ -e "$f" ] || continue
  echo "FILE manager $f"
  [ -r "$f" ] || { echo "UNREADABLE manager $f"; continue; }
  lines manager "$f" '^[[:space:]]*DefaultLimitNOFILE[[:space:]]*='
done
true
""".strip()

UPTIME = "jada_cat /proc/uptime"

# What a boot starts from (parsers/boot_sysctl.py): the kernel release, the sysctl.* words
# of its command line (nothing else of it leaves the target), whether this is a container
# (the command line then is the machine's, and its net.* options never reach this network
# namespace) and the TCP hash size behind tcp_max_syn_backlog's default. All world-readable.
BOOT_FACTS = r"""
x=; jada_read x /proc/sys/kernel/osrelease; echo "release $x"
x=; c=
if jada_read x /proc/cmdline; then  # awk's fields: split on blanks, up to a "--"
  set -f; for w in $x; do [ "$w" = -- ] && break; [[ $w == sysctl[./]* ]] && c+="$w "; done
fi
echo "cmdline ${c:0:4096}"
# as $(systemd-detect-virt --container 2>/dev/null || echo none), with one process less
{ x=$(systemd-detect-virt --container); } 2>/dev/null || x=${x:+$x$'\n'}none
echo "container $x"
x=; jada_read x /proc/sys/net/ipv4/tcp_ehash_entries; echo "ehash $x"
""".strip()

# The largest value the kernel holds for the /proc/sys integers the controls read: C int
# for the listen-queue sysctls (proc_dointvec), sysctl_nr_open_max for fs.nr_open.
SYSCTL_MAX = {"fs/nr_open": NR_OPEN_MAX, "net/core/somaxconn": INT_MAX,
              "net/ipv4/tcp_max_syn_backlog": INT_MAX}


def section(ctx: CheckContext, name: str) -> Section:
    return ctx.host.section(name).require_ok()


def root_section(ctx: CheckContext, name: str) -> Section:
    """A section whose facts need root (/proc/<pid>/fd, ss -p, other netns): a refused sudo
    read makes it an error naming that read."""
    return section(ctx, name).require_root_reads()


def unit_props(ctx: CheckContext) -> dict[str, str]:
    props = parse_show(section(ctx, "unit_show").out)
    if "LoadState" not in props and "Id" not in props:
        raise CheckError("systemctl show returned no properties for the unit")
    return props


def prop(props: dict[str, str], name: str) -> str:
    """A property the control relies on; missing means the answer was cut short."""
    if name not in props:
        raise CheckError(f"unit property {name} missing from systemctl show")
    return props[name]


def main_limits(ctx: CheckContext) -> dict[str, Pair]:
    limits = parse_limits(section(ctx, "hc_main_limits").out)
    if not limits:
        raise CheckError("/proc/MainPID/limits could not be parsed")
    return limits


def unit_processes(ctx: CheckContext) -> tuple[str, list[ProcFds], CgroupTree]:
    """(where they were found, the unit's processes, its cgroup subtree). A cgroup of the
    subtree that could not be read makes it an error: its processes would go unseen."""
    sec = root_section(ctx, "hc_unit_procs")
    how, procs, bad = parse_fd_table(sec.out)
    if bad:
        raise CheckError(f"cannot parse the unit's process table: {bad[0]!r} is not 'P <pid> "
                         "<open fds|-> <soft nofile|-> <comm>'")
    tree = parse_cgroup_tree(sec.out)
    if tree.problems:
        raise CheckError("the unit's cgroup subtree could not be read completely, so some of "
                         f"its processes would go unseen: {'; '.join(tree.problems[:3])}")
    if not procs:
        raise CheckError("no processes of the unit could be read")
    return (tree.describe() if tree.root else how or "unknown source"), procs, tree


def in_cgroup(tree: CgroupTree, pid: int) -> str:
    """' in cgroup <path>' for a process found in the subtree, else ''."""
    where = tree.members.get(pid)
    return f" in cgroup {where}" if where else ""


def runtime_values(ctx: CheckContext, *, service: bool = False
                   ) -> tuple[dict[tuple[str, str], str | None], bool]:
    """(values by (scope, key), whether the service has its own network namespace).
    ``service``: the caller needs the service's netns, which needs root to find."""
    sec = root_section(ctx, "hc_sysctl_runtime") if service else \
        section(ctx, "hc_sysctl_runtime")
    ns = {}
    for line in sec.out.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0] == "NS":
            ns[parts[1]] = parts[2]
    if service and ns.get("service") == "!unreadable":
        raise CheckError("the service's network namespace (/proc/<MainPID>/ns/net) could not "
                         "be read (needs root: run as root or with ssh.sudo)")
    own = ns.get("service", "?") not in ("?", "!unreadable", ns.get("host"))
    return parse_values(sec.out), own


def sysctl_int(raw: str | None, key: str, where: str) -> int:
    """A /proc/sys or sysctl.d integer: unreadable, or not a value the kernel can hold for
    ``key``, is an error naming the key and where it was read."""
    name = key.replace("/", ".")
    if raw is None:
        raise CheckError(f"{name} could not be read from {where}")
    return whole(raw, f"{name} ({where})", high=SYSCTL_MAX.get(key, U64_MAX))


def boot_facts(ctx: CheckContext) -> BootFacts:
    """Kernel release, command line, container and TCP hash size (hc_boot_facts)."""
    return parse_boot_facts(section(ctx, "hc_boot_facts").out)


def sysctl_listing(ctx: CheckContext) -> tuple[list[tuple[str, list[str]]],
                                               dict[str, bytes | None]]:
    """The sysctl.d directories in priority order with their *.conf names, and contents."""
    listing: list[tuple[str, list[str]]] = []
    contents: dict[str, bytes | None] = {}
    for line in section(ctx, "hc_sysctl_files").out.splitlines():
        if line.startswith("D "):
            try:
                d = base64.b64decode(line[2:].strip(), validate=True).decode(
                    "utf-8", "surrogateescape")
            except (binascii.Error, ValueError):
                raise CheckError("sysctl.d listing is corrupt") from None
            if d not in SYSCTL_DIRS:  # the probe lists exactly these: anything else is garbage
                raise CheckError(f"sysctl.d listing is corrupt: unexpected directory {d[:80]!r}")
            listing.append((d, []))
            continue
        dumps = parse_dump(line)
        if not dumps or not listing:
            continue
        f: FileDump = dumps[0]
        directory, _, name = f.path.rpartition("/")
        if directory != listing[-1][0]:
            raise CheckError(f"sysctl.d listing is corrupt: {f.path[:120]!r} listed under "
                             f"{listing[-1][0]}")
        listing[-1][1].append(name)
        if f.status == "ok":
            contents[f.path] = f.data
        elif f.status in ("unreadable",):
            contents[f.path] = None
        else:  # dangling symlink or a directory: systemd reads nothing from it
            contents[f.path] = b""
    if not listing:
        raise CheckError("the sysctl.d listing is empty (probe output cut short?)")
    return listing, contents


def limits_files(ctx: CheckContext) -> tuple[dict[str, bytes], list[str]]:
    """(readable limits files by path, problems) from the dump."""
    files: dict[str, bytes] = {}
    problems = []
    for f in parse_dump(section(ctx, "hc_limits_files").out):
        if f.status == "ok" and f.data is not None:
            files[f.path] = f.data
        elif f.status in ("dir",):
            files[f.path] = b""
        else:
            problems.append(f"{f.path} is {f.status}")
    if "/etc/security/limits.conf" not in files:
        problems.append("/etc/security/limits.conf could not be read")
    return files, problems


def session_facts(ctx: CheckContext) -> dict[str, str]:
    out = {}
    for line in section(ctx, "hc_session").out.splitlines():
        key, _, value = line.partition(" ")
        if key == "os":
            k, _, v = value.partition("=")
            out[f"os_{k}"] = v.strip().strip('"')
        elif key:
            out[key] = value.strip()
    return out


def is_debian_family(facts: dict[str, str]) -> bool:
    """Debian and Ubuntu carry the pam_limits patches this suite models."""
    words = f"{facts.get('os_ID', '')} {facts.get('os_ID_LIKE', '')}".split()
    return "debian" in words or "ubuntu" in words


def nr_open(ctx: CheckContext) -> int:
    """fs.nr_open now (the host's, /proc/sys/fs/nr_open): FD-03 and LIM-02 compare with it."""
    values, _ = runtime_values(ctx)
    return sysctl_int(values.get(("host", "fs/nr_open")), "fs/nr_open",
                      "/proc/sys/fs/nr_open")


def boot_nr_open(ctx: CheckContext) -> BootNrOpen:
    """fs.nr_open after the next boot: sysctl.d as systemd-sysctl applies it, else the kernel
    command line's sysctl.fs.nr_open= (5.8+), else the kernel default."""
    listing, contents = sysctl_listing(ctx)
    res = resolve(listing, contents)
    if res.unreadable:
        raise CheckError(f"cannot read {', '.join(res.unreadable)}: fs.nr_open after the next "
                         "boot is unknown")
    return nr_open_at_boot(res, boot_facts(ctx))
