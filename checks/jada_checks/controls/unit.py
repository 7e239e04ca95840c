"""JADA-UNIT: the orchestrator's systemd unit."""

from __future__ import annotations

from jada_checks.context import CheckContext
from jada_checks.facts.probes import unit_properties
from jada_checks.model import CheckError, Outcome, control, failed, passed
from jada_checks.parsers.systemd import parse_show

unit_properties("LoadState", "ActiveState", "SubState", "UnitFileState", "FragmentPath")


def unit_props(ctx: CheckContext) -> dict[str, str]:
    """The unit's properties from the batched ``systemctl show``."""
    props = parse_show(ctx.host.section("unit_show").require_ok().out)
    if "LoadState" not in props:
        raise CheckError("systemctl show returned no LoadState for the unit")
    return props


@control(
    "JADA-UNIT-01",
    title="The orchestrator unit is loaded, enabled and active",
    severity="critical",
    side="host",
    rationale="""
The orchestrator only does work while its unit runs, and only comes back after a reboot
if it is enabled. Reads LoadState, UnitFileState, ActiveState and SubState from
`systemctl show` (systemctl(1); states defined in systemd.unit(5), "LoadState" and
"ActiveState" in org.freedesktop.systemd1(5)).
""",
    remediation="systemctl enable --now jada-agent.service  (then: journalctl -u jada-agent)",
    fix="""\
systemctl enable --now {unit}
systemctl status --no-pager {unit}
# if it does not stay up, the journal says why:
journalctl -u {unit} -b -n 50 --no-pager""",
)
def unit_running(ctx: CheckContext) -> Outcome:
    unit = ctx.expect["unit"]
    p = unit_props(ctx)
    load, active, sub = p.get("LoadState", "?"), p.get("ActiveState", "?"), p.get("SubState", "?")
    enabled = p.get("UnitFileState", "") or "(no unit file state)"
    observed = f"LoadState={load} UnitFileState={enabled} ActiveState={active} SubState={sub}"
    expected = "LoadState=loaded UnitFileState=enabled ActiveState=active"
    source = f"systemctl show {unit}"
    if load != "loaded":
        return failed(f"{unit} is not loaded ({load})", observed=observed, expected=expected,
                      source=source)
    problems = []
    if active != "active":
        problems.append(f"is {active} ({sub})")
    if enabled != "enabled":
        problems.append(f"is {enabled}, not enabled (it would not start at boot)")
    if problems:
        return failed(f"{unit} " + " and ".join(problems), observed=observed,
                      expected=expected, source=source)
    return passed(f"{unit} is loaded, enabled and {active} ({sub})", observed=observed,
                  expected=expected, source=source)
