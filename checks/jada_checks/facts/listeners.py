"""The unit's listening TCP sockets: ss in the service's network namespace, filtered by the
pids of every process of the unit's cgroup subtree. JADA-NET-04 judges their backlogs and
JADA-HTTP-03 compares them with the Lightsail firewall; both register the same probes.
"""

from __future__ import annotations

from typing import Any

from jada_checks.context import CheckContext
from jada_checks.facts import host_facts as hf
from jada_checks.facts.probes import probe, shared
from jada_checks.model import CheckError
from jada_checks.parsers.listen_units import parse_listen_units
from jada_checks.parsers.ss import Listener, parse_listeners

# ss in the service's network namespace (nsenter when it has its own), with owning pids.
READ = r"""
me=$JADA_NETNS
svc=""
[ "${MAINPID:-0}" -gt 0 ] 2>/dev/null && { jada_svc_netns; svc=$JADA_SVC; }
if [ -n "$svc" ] && [ "$svc" != "$me" ]; then R nsenter -t "$MAINPID" -n ss -H -l -n -t -p
else R ss -H -l -n -t -p; fi
""".strip()

# Both sections below read the sockets, and ss -p reads every process's open files to name
# their owners: when R is the command itself (no refusal can be due on fd 9), they are read
# once, before the sections (issue 25). JADA_LISTEN_OUT, _ERR and _RC keep ss's stdout,
# stderr and status apart: stderr, then a random token, the status, the token, stdout.
# Otherwise JADA_LISTEN_RC is unset and each section reads them itself, as before.
SHARED = r"""
unset JADA_LISTEN_RC
if [ -z "$JADA_SUDO" ] || [ "$EUID" = 0 ]; then
  jada_t=$'\2'$RANDOM$RANDOM$RANDOM$'\2'
  jada_x=$( { jada_o=$( { @READ@
      } 2>&3 3>&-; jada_r=$?; printf x; exit "$jada_r"); jada_r=$?; } 3>&1
    printf '%s%s%s%s' "$jada_t" "$jada_r" "$jada_t" "$jada_o")
  JADA_LISTEN_ERR=${jada_x%%"$jada_t"*}; jada_x=${jada_x#*"$jada_t"}
  JADA_LISTEN_RC=${jada_x%%"$jada_t"*}; JADA_LISTEN_OUT=${jada_x#*"$jada_t"}
  JADA_LISTEN_OUT=${JADA_LISTEN_OUT%x}
fi
""".strip().replace("@READ@", READ)

LISTEN = r"""
if [ -n "${JADA_LISTEN_RC+set}" ]; then  # read before the sections
  printf '%s' "$JADA_LISTEN_OUT"; printf '%s' "$JADA_LISTEN_ERR" >&2; exit "$JADA_LISTEN_RC"
fi
""".strip() + "\n" + READ


def register() -> None:
    """Add the unit's processes and its listening sockets to the fact script."""
    shared("listen", SHARED)
    probe("hc_unit_procs", hf.UNIT_PROCS)
    probe("hc_listen", LISTEN)


# For each pid that owns a listening TCP socket (the same ss as hc_listen, in the same
# network namespace), its cgroup: which unit serves a port the agent's unit does not (a
# reverse proxy in front: nginx, Caddy). /proc/PID/cgroup is world-readable.
LISTEN_UNITS = r"""
if [ -n "${JADA_LISTEN_RC+set}" ]; then  # as $(...) gives it: without the final newlines
  ss=${JADA_LISTEN_OUT%"${JADA_LISTEN_OUT##*[!$'\n']}"}; printf '%s' "$JADA_LISTEN_ERR" >&2
else ss=$(
""" + READ + "\n); fi\n" + r"""
# as grep -o 'pid=[0-9]*' | sort -u, then each pid's first 0:: or name=systemd cgroup line
# (sed -n -e 's/^0:://p' -e 's/^[0-9]*:name=systemd://p' | head -n 1), all in the shell
declare -A seen=(); pids=()
while [[ $ss =~ pid=([0-9]*) ]]; do
  ss=${ss#*"${BASH_REMATCH[0]}"}; p=${BASH_REMATCH[1]}
  [ -n "${seen[x$p]+set}" ] && continue
  seen[x$p]=1; i=${#pids[@]}
  while [ "$i" -gt 0 ] && [[ "pid=$p" < "pid=${pids[i-1]}" ]]; do
    pids[i]=${pids[i-1]}; i=$((i - 1))
  done
  pids[i]=$p
done
for pid in "${pids[@]}"; do
  cg=; c=()
  mapfile -t c 2>/dev/null < "/proc/$pid/cgroup"
  for l in "${c[@]}"; do
    if [[ $l == 0::* ]]; then cg=${l#0::}; break; fi
    if [[ $l =~ ^[0-9]*:name=systemd:(.*)$ ]]; then cg=${BASH_REMATCH[1]}; break; fi
  done
  printf '%s %s\n' "$pid" "$cg"
done
true
""".strip()


def register_units() -> None:
    """Add every listener's unit (its pids' cgroups) to the fact script (JADA-HTTP-03)."""
    shared("listen", SHARED)
    probe("http_listen_units", LISTEN_UNITS)


def other_listeners(ctx: CheckContext, mine: set[int]) -> list[tuple[Listener, list[str]]]:
    """Every listening socket none of whose pids is in ``mine`` (the unit's), with the
    units its pids belong to ('(unknown unit)' when a pid's cgroup could not be read)."""
    listeners, bad = parse_listeners(hf.root_section(ctx, "hc_listen").out)
    if bad:
        raise CheckError(f"cannot parse ss output: {bad[0]!r}")
    units, bad = parse_listen_units(hf.root_section(ctx, "http_listen_units").out)
    if bad:
        raise CheckError(f"cannot parse the listeners' cgroups: {bad[0]!r} is not "
                         "'<pid> <cgroup path>'")
    return [(s, sorted({units.get(pid) or "(unknown unit)" for pid in s.pids})
             or ["(unknown unit)"]) for s in listeners if not mine & set(s.pids)]


def unit_listeners(ctx: CheckContext) -> tuple[list[Listener], set[int], str, Any]:
    """The unit's listening TCP sockets (ss, filtered by the pids of every process in the
    unit's cgroup subtree), those pids, how they were found, and the cgroup tree."""
    how, procs, tree = hf.unit_processes(ctx)
    pids = {p.pid for p in procs} | set(tree.members)
    text = hf.root_section(ctx, "hc_listen").out
    listeners, bad = parse_listeners(text)
    if bad:
        raise CheckError(f"cannot parse ss output: {bad[0]!r}")
    if listeners and not any(sock.pids for sock in listeners):
        raise CheckError("ss shows no owning processes (needs root: run as root or with sudo)")
    mine = sorted((sock for sock in listeners if pids & set(sock.pids)), key=lambda s: s.local)
    return mine, pids, how, tree
