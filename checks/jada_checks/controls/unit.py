"""JADA-UNIT: the orchestrator's systemd unit."""

from __future__ import annotations

from jada_checks.context import CheckContext
from jada_checks.facts.probes import probe, unit_properties
from jada_checks.model import CheckError, Outcome, control, failed, passed
from jada_checks.parsers.boot_route import BootRoute, Step, parse_boot_route
from jada_checks.parsers.systemd import parse_show

unit_properties("LoadState", "ActiveState", "SubState", "UnitFileState", "FragmentPath")

# The routes by which the unit starts at boot: the default target, every unit that pulls
# it in (recursively, from the loaded graph), and for each direct one the links and
# dependency lines that made it (only lines naming the unit leave the target), plus the
# symlinks that are only aliases of it. parsers/boot_route.py reads it.
BOOT_ROUTE = r"""
# the parents as systemctl show -p ... --value printed them (its order, one value a line)
pars=
for x in "${JADA_SHOW_LINES[@]}"; do
  case $x in WantedBy=*|RequiredBy=*|BoundBy=*|UpheldBy=*) pars="$pars${x#*=} " ;; esac
done
set -f; parl=($pars); set +f
# default.target's Id and every parent's fragment and drop-ins from one systemctl show: a
# block per unit in the order of the arguments, a blank line between (man 1 systemctl)
def=; declare -a files=()
i=0; { l=$(systemctl show -p Id,FragmentPath,DropInPaths -- default.target "${parl[@]}"); } \
  2>/dev/null; l+=$'\n'
while [[ -n $l ]]; do
  x=${l%%$'\n'*}; l=${l#*$'\n'}
  case $x in
    '') i=$((i + 1)) ;;
    Id=*) [ "$i" = 0 ] && def=${x#Id=} ;;
    FragmentPath=*|DropInPaths=*) [ "$i" -gt 0 ] && files[i-1]="${files[i-1]} ${x#*=}" ;;
  esac
done
echo "default $def"
echo "P $pars"
mapfile -t -n 3000 deps < <(exec systemctl list-dependencies --reverse --all --no-pager \
  -- "$UNIT" 2>/dev/null)
[ "${#deps[@]}" = 0 ] || printf 'T %s\n' "${deps[@]}"
dirs=
for d in /etc/systemd/system.control /run/systemd/system.control /run/systemd/transient \
    /run/systemd/generator.early /etc/systemd/system /run/systemd/system \
    /run/systemd/generator /usr/local/lib/systemd/system /usr/lib/systemd/system \
    /lib/systemd/system /run/systemd/generator.late; do
  [ -d "$d" ] || continue
  for e in $dirs; do [ "$d" -ef "$e" ] && continue 2; done  # /lib -> /usr/lib: the same dir
  dirs="$dirs $d"
done
ere='^[[:space:]]*(Wants|Requires|BindsTo|Upholds)[[:space:]]*=.*'
for i in "${!parl[@]}"; do
  par=${parl[i]}; jada_b64 "$par" bp
  for d in $dirs; do
    for l in "$d/$par.wants/$UNIT" "$d/$par.requires/$UNIT" "$d/$par.upholds/$UNIT"; do
      if [ -L "$l" ] || [ -e "$l" ]; then jada_b64 "$l" bl; echo "L $bp $bl"; fi
    done
  done
  for f in ${files[i]}; do  # as grep -n -E ERE FILE | grep -F UNIT | cut -c1-200
    a=(); mapfile -t a 2>/dev/null < "$f" || continue
    for n in "${!a[@]}"; do
      [[ ${a[n]} =~ $ere ]] || continue
      m="$((n + 1)):${a[n]}"; [[ $m == *"$UNIT"* ]] || continue
      jada_b64 "$f:${m:0:200}" bl; echo "W $bp $bl"
    done
  done
done
# the aliases: symlinks in the unit dirs whose target's name is the unit. One find names
# them (-lname matches readlink's answer: the unit, or */unit, with fnmatch's specials of
# the name escaped); they print in the order of the dirs and of their globs
declare -A alias=() adir=()
pat=$UNIT; pat=${pat//\\/\\\\}; pat=${pat//\*/\\*}; pat=${pat//\?/\\?}; pat=${pat//\[/\\[}
if [ -n "$dirs" ]; then
  { l=$(find $dirs -mindepth 1 -maxdepth 1 -type l \( -lname "$pat" -o -lname "*/$pat" \) \
    -printf '%p\n'); } 2>/dev/null; l+=$'\n'
  while [[ -n $l ]]; do
    x=${l%%$'\n'*}; l=${l#*$'\n'}; [ -n "$x" ] && { alias[$x]=1; adir[${x%/*}]=1; }
  done
fi
for d in $dirs; do
  [ -n "${adir[$d]+set}" ] || continue  # no alias there: no need to list the whole dir
  for a in "$d"/*; do
    if [ -n "${alias[$a]+set}" ] && [ "${a##*/}" != "$UNIT" ]; then
      jada_b64 "$a" bl; echo "A $bl"
    fi
  done
done
true
""".strip()
probe("hc_boot_route", BOOT_ROUTE)


def unit_props(ctx: CheckContext) -> dict[str, str]:
    """The unit's properties from the batched ``systemctl show``."""
    props = parse_show(ctx.host.section("unit_show").require_ok().out)
    if "LoadState" not in props:
        raise CheckError("systemctl show returned no LoadState for the unit")
    return props


@control(
    "JADA-UNIT-01",
    title="The orchestrator unit is loaded, active, and started at boot",
    severity="critical",
    side="host",
    rationale="""
The orchestrator only does work while its unit runs, and only comes back after a reboot if
something starts it at boot. Reads LoadState, ActiveState and SubState from `systemctl show`
(systemctl(1); org.freedesktop.systemd1(5)). At boot systemd starts default.target and every
unit it pulls in, recursively, with Wants=, Requires=, BindsTo= or Upholds=, from unit file
lines or .wants/.requires/.upholds symlinks in any unit directory, /usr/lib/systemd/system
included (systemd.unit(5), bootup(7)). UnitFileState says something else: "static" units
(no [Install]) shipped with a wants link in /usr/lib start at every boot, and "enabled" is also
shown when the only [Install] symlink is an Alias=, which starts nothing (systemctl(1),
is-enabled; checked on systemd 252). So the route from the default target is read from the
loaded dependency graph (systemctl list-dependencies --reverse --all) and the files that make
its first step; a step made only under /run/systemd/system, system.control or transient is gone
after a reboot.
""",
    remediation="systemctl enable --now jada-agent.service  (with [Install] WantedBy=multi-user"
                ".target; then: systemctl list-dependencies --reverse jada-agent.service)",
    fix="""\
# enabling starts it at boot only through [Install] WantedBy= (an Alias= alone starts nothing)
systemctl enable --now {unit}
systemctl list-dependencies --reverse --no-pager {unit}
systemctl status --no-pager {unit}
# if it does not stay up, the journal says why:
journalctl -u {unit} -b -n 50 --no-pager""",
)
def unit_running(ctx: CheckContext) -> Outcome:
    unit = ctx.expect["unit"]
    p = unit_props(ctx)
    load, active, sub = p.get("LoadState", "?"), p.get("ActiveState", "?"), p.get("SubState", "?")
    enabled = p.get("UnitFileState", "") or "(no unit file state)"
    route = boot_route(ctx)
    steps = route.boot_steps()
    observed = (f"LoadState={load} UnitFileState={enabled} ActiveState={active} SubState={sub}; "
                f"started at boot by: {', '.join(s.parent for s in steps) or 'nothing'}")
    expected = (f"LoadState=loaded ActiveState=active; pulled in from the default target "
                f"({route.default or 'default.target'}) by a dependency that survives a reboot")
    source = (f"systemctl show {unit}; systemctl list-dependencies --reverse --all {unit}; "
              "wants/requires links and dependency lines of the units that pull it in")
    if load != "loaded":
        return failed(f"{unit} is not loaded ({load})", observed=observed, expected=expected,
                      source=source)
    problems = []
    if active != "active":
        problems.append(f"is {active} ({sub})")
    if not steps:
        problems.append(_no_route(route, enabled))
    if problems:
        return failed(f"{unit} " + " and ".join(problems), observed=observed,
                      expected=expected, source=source)
    return passed(f"{unit} is loaded and {active} ({sub}); starts at boot: "
                  + "; ".join(_describe(route, s) for s in steps)
                  + f" (UnitFileState={enabled})", observed=observed, expected=expected,
                  source=source)


def boot_route(ctx: CheckContext) -> BootRoute:
    route = parse_boot_route(ctx.host.section("hc_boot_route").require_ok().out)
    if route.malformed:
        raise CheckError(f"cannot parse the boot route facts: {route.malformed[0]!r}")
    if not route.default or not route.tree:
        raise CheckError("the default target or the unit's reverse dependencies could not be "
                         "read (systemctl show default.target; systemctl list-dependencies)")
    return route


def _describe(route: BootRoute, step: Step) -> str:
    via = ", ".join(step.evidence) if step.evidence else "systemd's loaded dependencies"
    chain = step.parent if step.parent == route.default else \
        f"{route.default} (default target) -> ... -> {step.parent}"
    return f"{chain} pulls it in ({via})"


def _no_route(route: BootRoute, enabled: str) -> str:
    """Why nothing starts it at boot, naming what might look like it does."""
    text = (f"would not start at boot: nothing pulls it in from the default target "
            f"{route.default} (UnitFileState={enabled})")
    if route.aliases:
        text += (f"; {enabled!r} comes only from the alias link(s) {', '.join(route.aliases)}"
                 ", and an Alias= name starts nothing")
    runtime = route.runtime_steps()
    if runtime:
        text += "; only until the next boot: " + "; ".join(
            f"{s.parent} via {', '.join(s.evidence)}" for s in runtime)
    others = [s.parent for s in route.steps if not s.reaches_default]
    if others:
        text += f"; pulled in only by {', '.join(others)}, which the default target does not start"
    return text
