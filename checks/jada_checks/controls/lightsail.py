"""JADA-LS: the Lightsail instance, read through the Lightsail API (boto3).

GetInstance is asked once per target (``ctx.lightsail``) and answers LS-01/02/03/08/09 and
part of LS-06/07; metrics come from GetInstanceMetricData, snapshots from GetAutoSnapshots.
The firewall check is split in two because a control has one severity: LS-03 (high)
compares the open port set exactly, LS-09 (critical) finds admin ports open to the Internet.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

from jada_checks import ipspace
from jada_checks.aws.lightsail import Datapoint, NotFound
from jada_checks.aws.ports import (
    API,
    ICMP,
    field,
    inbound_rules,
    indexed_inbound_rules,
    port_key,
    show_port,
    show_ports,
)
from jada_checks.context import CheckContext
from jada_checks.hostnames import is_address, resolve
from jada_checks.model import CheckError, Outcome, control, failed, passed, skipped

# Bound on resolving a profile's DNS name when the target has no ssh.connect_timeout.
RESOLVE_TIMEOUT = 10.0


def hhmm(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def window_points(ctx: CheckContext, metric: str, statistic: str, unit: str,
                  period: int) -> tuple[list[Datapoint], int]:
    """Datapoints over the profile's metrics window; none at all is an error, not a pass."""
    minutes = ctx.expect["lightsail"]["metrics_window_minutes"]
    points = ctx.lightsail.datapoints(metric, statistic, unit, period, minutes)
    if not points:
        raise CheckError(f"no {metric} datapoints in the last {minutes} min (period {period} s, "
                         f"{statistic}, {unit}): the instance publishes none (stopped, just "
                         "created) or the metric is unavailable")
    return points, minutes


@control(
    "JADA-LS-01",
    title="The Lightsail instance exists and is running",
    severity="critical",
    side="lightsail",
    rationale=f"""
Nothing on the host works unless the instance runs. Reads instance.state.name from
GetInstance ({API}API_GetInstance.html, InstanceState: {API}API_InstanceState.html) and
compares the state *name* (pending, running, stopping, stopped, ...), not the code, whose
high byte is internal. A NotFoundException means the instance is not in that region.
""",
    remediation="aws lightsail start-instance --instance-name <instance> --region <region>  "
                "(state: aws lightsail get-instance-state --instance-name <instance>)",
    fix="""\
aws lightsail start-instance --instance-name {instance} --region {region}
aws lightsail get-instance-state --instance-name {instance} --region {region}""",
)
def ls_running(ctx: CheckContext) -> Outcome:
    ls = ctx.lightsail
    try:
        inst = ls.instance()
    except NotFound as exc:
        return failed(str(exc), observed="no such instance",
                      expected=f"instance {ls.name!r} in {ls.region}",
                      source=ls.source("NotFoundException"))
    state = field(inst, "state.name", str)
    src = ls.source("instance.state.name")
    if state.lower() != "running":
        return failed(f"instance {ls.name} is {state}, not running", observed=state,
                      expected="running", source=src)
    return passed(f"instance {ls.name} is running", observed=state, expected="running",
                  source=src)


@control(
    "JADA-LS-02",
    title="A static IP is attached and is the address the profile expects",
    severity="high",
    side="lightsail",
    rationale=f"""
Without a static IP the public address changes on every stop/start, breaking DNS, the SSH
target and any allow-list naming it. Reads instance.isStaticIp, instance.publicIpAddress
and instance.ipv6Addresses from GetInstance ({API}API_Instance.html). The address must be
the target's lightsail.public_ip, else its ssh.host. ssh(1) resolves ssh.host with
getaddrinfo for any family (ssh_config(5) AddressFamily, default any) and may connect to
any answer, so a DNS name is resolved (A and AAAA) and every answer must be one of the
instance's public addresses; a name that does not resolve is an error naming it, and
.invalid names are never looked up (RFC 6761 section 6.4).
""",
    remediation="aws lightsail allocate-static-ip --static-ip-name <instance>-ip && "
                "aws lightsail attach-static-ip --static-ip-name <instance>-ip "
                "--instance-name <instance>  (then point DNS and the profile at it)",
    fix="""\
aws lightsail allocate-static-ip --static-ip-name {instance}-ip --region {region}
aws lightsail attach-static-ip --static-ip-name {instance}-ip --instance-name {instance} \
--region {region}
# then point DNS and the profile at the new address""",
)
def ls_static_ip(ctx: CheckContext) -> Outcome:
    ls = ctx.lightsail
    inst = ls.instance()
    static = inst.get("isStaticIp") is True
    address = inst.get("publicIpAddress") or "(none)"
    observed = f"isStaticIp={str(static).lower()} publicIpAddress={address}"
    src = ls.source("instance.isStaticIp, instance.publicIpAddress")
    problems = [] if static else [
        f"no static IP is attached (public address {address} is ephemeral)"]
    want = ctx.target.expected_public_ip
    expected = f"isStaticIp=true publicIpAddress={want or '(any: no address in profile)'}"
    mine = instance_addresses(inst)
    if want and not is_address(want):
        # A DNS name: what ssh will connect to is whatever it resolves to.
        what = "lightsail.public_ip" if (ctx.target.lightsail or {}).get("public_ip") \
            else "ssh.host"
        timeout = float(ctx.target.ssh["connect_timeout"]) if ctx.target.ssh else RESOLVE_TIMEOUT
        resolved = resolve(want, timeout, what)  # CheckError (-> error) if it cannot
        stray = [a for a in resolved if a not in mine]
        observed += f" {what} {want} -> {', '.join(resolved)}"
        expected = (f"isStaticIp=true; {what} {want} resolves only to the instance's "
                    f"public addresses ({', '.join(mine) or 'none'})")
        src = ls.source("instance.isStaticIp, instance.publicIpAddress, "
                        "instance.ipv6Addresses") + f"; getaddrinfo({want})"
        if stray:
            problems.append(f"{what} {want} resolves to {', '.join(resolved)}: "
                            f"{', '.join(stray)} is not a public address of the instance "
                            f"({', '.join(mine) or 'it has none'})")
    elif want and str(ipaddress.ip_address(want)) not in mine:
        problems.append(f"public address is {address}, expected {want}")
    if problems:
        return failed("; ".join(problems), observed=observed, expected=expected, source=src)
    resolves = f" and {want} resolves to it" if want and not is_address(want) else ""
    return passed(f"static IP {address} is attached{resolves}", observed=observed,
                  expected=expected, source=src)


def instance_addresses(inst: dict[str, Any]) -> list[str]:
    """The instance's public addresses (IPv4 publicIpAddress, IPv6 ipv6Addresses), normalised."""
    raw = [inst.get("publicIpAddress"), *(inst.get("ipv6Addresses") or [])]
    out = []
    for text in raw:
        if isinstance(text, str) and is_address(text):
            out.append(str(ipaddress.ip_address(text)))
    return out


@control(
    "JADA-LS-03",
    title="The Lightsail firewall opens exactly the expected ports",
    severity="high",
    side="lightsail",
    rationale=f"""
Every open port is attack surface; a port the deployment does not need should be closed.
Reads the inbound rules in instance.networking.ports from GetInstance (InstancePortInfo:
fromPort, toPort, protocol; {API}API_InstancePortInfo.html) and compares the set of
(from, to, protocol) with expect.lightsail.open_ports, protocols case-insensitively. For
icmp and icmpv6 InstancePortInfo's fromPort is the ICMP type and toPort the ICMP code,
-1 meaning every type or code (Ping is 8 and -1), and the profile says them the same way.
Who may reach an admin port is JADA-LS-09.
""",
    remediation="aws lightsail put-instance-public-ports --instance-name <instance> "
                "--port-infos fromPort=22,toPort=22,protocol=tcp,cidrs=<admin CIDR>  "
                "(replaces the whole rule set)",
    fix="""\
# replaces the whole rule set with the profile's ports; restrict admin ports to your range
ADMIN_CIDR="${{ADMIN_CIDR:?set ADMIN_CIDR to your office or VPN range, e.g. 203.0.113.0/24}}"
aws lightsail put-instance-public-ports --instance-name {instance} --region {region} \
--port-infos {port_infos}""",
)
def ls_open_ports(ctx: CheckContext) -> Outcome:
    rules = inbound_rules(ctx.lightsail.instance())
    have = {port_key(r["fromPort"], r["toPort"], r["protocol"]) for r in rules}
    want = {port_key(p["from_port"], p.get("to_port", p["from_port"]), p["protocol"])
            for p in ctx.expect["lightsail"]["open_ports"]}
    observed, expected = show_ports(have), show_ports(want)
    src = ctx.lightsail.source("instance.networking.ports")
    extra, missing = have - want, want - have
    if extra or missing:
        parts = ([f"unexpected open: {show_ports(extra)}"] if extra else []) + \
                ([f"expected but not open: {show_ports(missing)}"] if missing else [])
        return failed("firewall differs: " + "; ".join(parts), observed=observed,
                      expected=expected, source=src)
    return passed(f"firewall opens exactly {observed}", observed=observed, expected=expected,
                  source=src)


def rule_sources(index: int, rule: dict[str, Any]) -> list[tuple[str, ipspace.Network]]:
    """(as written, parsed) for each of the rule's cidrs and ipv6Cidrs; a source that is
    not an IP network is a CheckError naming its place in the answer, never skipped."""
    out = []
    for key in ("cidrs", "ipv6Cidrs"):
        values = rule.get(key) or []
        if not isinstance(values, list):
            raise CheckError(f"the GetInstance answer's instance.networking.ports[{index}]."
                             f"{key} is not a list")
        for j, text in enumerate(values):
            try:
                out.append((str(text).strip(), ipspace.parse(text)))
            except ValueError:
                raise CheckError(f"the GetInstance answer's instance.networking.ports[{index}]"
                                 f".{key}[{j}] is not an IP network: {text!r}") from None
    return out


def show_sources(texts: list[str], most: int = 4) -> str:
    """'a and b', or 'a, b, c and 7 more': a message stays short whatever the rule says."""
    texts = list(dict.fromkeys(texts))
    if len(texts) <= most:
        return " and ".join(texts)
    return f"{', '.join(texts[:most - 1])} and {len(texts) - most + 1} more"


def exposures(rules: list[tuple[int, dict[str, Any]]], port: int) -> list[str]:
    """How ``port`` is open to the Internet, one line per (transport, address family).

    Sources are pooled across every rule that reaches the port over that transport (its
    own protocol or ``all``), because two rules of /1 each are one world.
    """
    found: list[str] = []
    for transport in ("tcp", "udp"):
        reaching = [(i, r) for i, r in rules if r["protocol"].lower() in (transport, "all")
                    and r["fromPort"] <= port <= r["toPort"]]
        for version in (4, 6):
            via: list[str] = []
            sources: list[tuple[str, ipspace.Network]] = []
            for i, r in reaching:
                mine = [(text, net) for text, net in rule_sources(i, r)
                        if net.version == version and ipspace.public_reach([net])]
                if mine:
                    via.append(show_port(port_key(r["fromPort"], r["toPort"], r["protocol"])))
                    sources.extend(mine)
            reach = ipspace.public_reach(net for _, net in sources)
            if reach > ipspace.threshold(version):
                line = (f"{port} via {', '.join(dict.fromkeys(via))} from "
                        f"{show_sources([t for t, _ in sources])} "
                        f"({ipspace.share(reach, version)})")
                if line not in found:
                    found.append(line)
    return found


@control(
    "JADA-LS-09",
    title="No admin port is open to the Internet",
    severity="critical",
    side="lightsail",
    rationale=f"""
SSH (and any other admin port) open to the Internet invites credential stuffing and
exposes every future sshd flaw. Reads cidrs and ipv6Cidrs of each inbound rule in
instance.networking.ports from GetInstance ({API}API_InstancePortInfo.html). For each
expect.lightsail.admin_ports entry, transport (tcp, udp; a rule of protocol all counts for
both) and address family, the sources of every rule whose port range covers it are
pooled, and the public addresses in their union are counted (the IANA special-purpose,
private, multicast and reserved blocks are not the Internet; IPv6 is the global unicast
2000::/3 IANA allocates from). More than one IANA allocation unit - a /8 of IPv4, a /12
of IPv6, the blocks IANA hands a Regional Internet Registry - is open to the Internet:
so 0.0.0.0/0, 0.0.0.0/1 plus 128.0.0.0/1, ::/0 and ::/1 all are. A source that is not
an IP network is an error, not skipped. cidrListAliases (lightsail-connect, the
console's browser SSH) is not the Internet.
""",
    remediation="aws lightsail put-instance-public-ports --instance-name <instance> "
                "--port-infos fromPort=22,toPort=22,protocol=tcp,cidrs=<admin CIDR>  "
                "(or use Lightsail's browser SSH alias instead of 0.0.0.0/0)",
    fix="""\
# replaces the whole rule set: admin ports open to your range only
ADMIN_CIDR="${{ADMIN_CIDR:?set ADMIN_CIDR to your office or VPN range, e.g. 203.0.113.0/24}}"
aws lightsail put-instance-public-ports --instance-name {instance} --region {region} \
--port-infos {port_infos}""",
)
def ls_admin_exposure(ctx: CheckContext) -> Outcome:
    admin = sorted(set(ctx.expect["lightsail"]["admin_ports"]))
    inbound = indexed_inbound_rules(ctx.lightsail.instance())
    # An icmp/icmpv6 rule's fromPort and toPort are an ICMP type and code, not ports:
    # such a rule opens no TCP or UDP port at all, whatever its numbers.
    rules = [(i, r) for i, r in inbound if r["protocol"].lower() in ("tcp", "udp", "all")]
    icmp = [show_port(port_key(r["fromPort"], r["toPort"], r["protocol"]))
            for _, r in inbound if r["protocol"].lower() in ICMP]
    exposed = [line for port in admin for line in exposures(rules, port)]
    limit = "more than a /8 of public IPv4 or a /12 of public IPv6"
    observed = "; ".join(exposed) or f"no admin port open to {limit}"
    expected = f"admin ports {admin} not open to {limit}"
    src = ctx.lightsail.source("instance.networking.ports[].cidrs, ipv6Cidrs")
    if exposed:
        return failed(f"admin port open to the Internet: {observed}", observed=observed,
                      expected=expected, source=src)
    note = f" (ICMP rules open no port: {', '.join(dict.fromkeys(icmp))})" if icmp else ""
    return passed(f"admin ports {admin} are not open to the Internet{note}",
                  observed=observed, expected=expected, source=src)


@control(
    "JADA-LS-04",
    title="No failed status check in the metrics window",
    severity="high",
    side="lightsail",
    rationale=f"""
A failed system or instance status check means the host or the guest is impaired, often
before anything else notices. Sums StatusCheckFailed (0 passed / 1 failed, Count, 60 s
granularity) from GetInstanceMetricData over expect.lightsail.metrics_window_minutes
({API}API_GetInstanceMetricData.html); no datapoints at all is an error, not a pass.
""",
    remediation="aws lightsail get-instance-metric-data --instance-name <instance> "
                "--metric-name StatusCheckFailed_System (or _Instance) ...  to tell host from "
                "guest; then aws lightsail reboot-instance, or stop-instance + start-instance",
    fix="""\
# tell a host failure from a guest one, then reboot (or stop and start to move hosts)
aws lightsail get-instance-metric-data --instance-name {instance} --region {region} \
--metric-name StatusCheckFailed_System --period 60 --statistics Sum --unit Count \
--start-time "$(date -u -d '-1 hour' +%FT%TZ)" --end-time "$(date -u +%FT%TZ)"
aws lightsail reboot-instance --instance-name {instance} --region {region}""",
)
def ls_status_checks(ctx: CheckContext) -> Outcome:
    points, minutes = window_points(ctx, "StatusCheckFailed", "Sum", "Count", 60)
    total = sum(p.value for p in points)
    bad = [p for p in points if p.value > 0]
    observed = f"sum={total:g} over {len(points)} datapoints of 60 s"
    if bad:
        observed += " (failed at " + ", ".join(hhmm(p.timestamp) for p in bad[-3:]) + ")"
    src = ctx.lightsail.source("StatusCheckFailed Sum", "GetInstanceMetricData")
    expected = f"sum=0 over the last {minutes} min"
    if total > 0:
        return failed(f"status checks failed {total:g} time(s) in the last {minutes} min",
                      observed=observed, expected=expected, source=src)
    return passed(f"no failed status check in the last {minutes} min", observed=observed,
                  expected=expected, source=src)


@control(
    "JADA-LS-05",
    title="CPU burst capacity is above the minimum",
    severity="medium",
    side="lightsail",
    rationale=f"""
Lightsail instances are burstable: once burst capacity is spent the CPU is held to its
baseline and the orchestrator slows to a crawl. Reads the latest BurstCapacityPercentage
(Percent, Average of 5-minute periods) from GetInstanceMetricData
({API}API_GetInstanceMetricData.html) and compares it with expect.lightsail.burst_min_percent.
""",
    remediation="find the load: aws lightsail get-instance-metric-data --metric-name "
                "CPUUtilization ...; or move to a larger bundle: aws lightsail "
                "create-instance-snapshot, then create-instances-from-snapshot --bundle-id <id>",
    fix="""\
# find the load, or move to a larger bundle (snapshot, then a new instance from it)
aws lightsail get-instance-metric-data --instance-name {instance} --region {region} \
--metric-name CPUUtilization --period 300 --statistics Average --unit Percent \
--start-time "$(date -u -d '-6 hours' +%FT%TZ)" --end-time "$(date -u +%FT%TZ)"
aws lightsail create-instance-snapshot --instance-name {instance} --region {region} \
--instance-snapshot-name {instance}-resize""",
)
def ls_burst(ctx: CheckContext) -> Outcome:
    points, _ = window_points(ctx, "BurstCapacityPercentage", "Average", "Percent", 300)
    latest = points[-1]
    floor = float(ctx.expect["lightsail"]["burst_min_percent"])
    observed = f"{latest.value:g}% at {hhmm(latest.timestamp)}"
    expected = f">= {floor:g}%"
    src = ctx.lightsail.source("BurstCapacityPercentage Average", "GetInstanceMetricData")
    if latest.value < floor:
        return failed(f"burst capacity {latest.value:g}% is below the minimum {floor:g}%",
                      observed=observed, expected=expected, source=src)
    return passed(f"burst capacity {latest.value:g}% (minimum {floor:g}%)", observed=observed,
                  expected=expected, source=src)


@control(
    "JADA-LS-06",
    title="IMDSv2 is required (or IMDS is off), in effect, and nothing used IMDSv1",
    severity="high",
    side="lightsail",
    rationale=f"""
IMDSv1 answers any GET, so an SSRF in anything on the host can read the instance's role
credentials; IMDSv2 needs a session token. Reads instance.metadataOptions from GetInstance
(InstanceMetadataOptions, {API}API_InstanceMetadataOptions.html): httpTokens (optional |
required), httpEndpoint (enabled | disabled; "if disabled, you cannot access your instance
metadata") and state (pending: "the instance is not yet ready to process metadata traffic
with the new selection"; applied). A setting counts only once state is applied
(UpdateInstanceMetadataOptions, {API}API_UpdateInstanceMetadataOptions.html): pending is
not a pass. httpEndpoint=disabled, applied, passes whatever httpTokens says (there is no
IMDS to ask). Otherwise httpTokens must be required and the Sum of MetadataNoToken (Count)
from GetInstanceMetricData over the metrics window - metadata reads made without a token -
must be 0.
""",
    remediation="aws lightsail update-instance-metadata-options --instance-name <instance> "
                "--http-tokens required  (first find and update the IMDSv1 callers that "
                "MetadataNoToken counts; then wait until get-instance shows "
                "metadataOptions.state applied)",
    fix="""\
# first update the IMDSv1 callers that MetadataNoToken counts, then:
aws lightsail update-instance-metadata-options --instance-name {instance} --region {region} \
--http-tokens required
aws lightsail get-instance --instance-name {instance} --region {region} \
--query instance.metadataOptions""",
)
def ls_imdsv2(ctx: CheckContext) -> Outcome:
    ls = ctx.lightsail
    inst = ls.instance()
    tokens = field(inst, "metadataOptions.httpTokens", str)
    state = field(inst, "metadataOptions.state", str)
    # httpEndpoint is optional in the API; absent, IMDS is taken to be on (the strict case).
    endpoint = field(inst, "metadataOptions.httpEndpoint", str) \
        if "httpEndpoint" in inst["metadataOptions"] else "enabled"
    off = endpoint.lower() == "disabled"
    settings = f"httpTokens={tokens} httpEndpoint={endpoint} state={state}"
    expected = "httpTokens=required (or httpEndpoint=disabled), state=applied"
    src = ls.source("instance.metadataOptions.httpTokens, httpEndpoint, state")
    applied = state.lower() == "applied"
    if not off and tokens.lower() != "required":
        pending = "" if applied else f" (metadataOptions.state is {state})"
        return failed(f"IMDSv2 is not required (httpTokens={tokens}){pending}",
                      observed=settings, expected=expected, source=src)
    if not applied:
        chosen = "httpEndpoint=disabled" if off else "httpTokens=required"
        return failed(f"{chosen} is not in effect yet: metadataOptions.state is {state}, "
                      "not applied (the instance may still answer the previous setting)",
                      observed=settings, expected=expected, source=src)
    if off:
        return passed("the instance metadata service is off (httpEndpoint=disabled, applied)",
                      observed=settings, expected=expected, source=src)
    points, minutes = window_points(ctx, "MetadataNoToken", "Sum", "Count", 60)
    total = sum(p.value for p in points)
    observed = f"{settings} MetadataNoToken sum={total:g}"
    expected = f"{expected}; MetadataNoToken sum=0 over the last {minutes} min"
    src = ls.source("instance.metadataOptions; MetadataNoToken Sum (GetInstanceMetricData)")
    if total > 0:
        return failed(f"{total:g} metadata read(s) without a token in the last {minutes} min",
                      observed=observed, expected=expected, source=src)
    return passed("IMDSv2 is required and no tokenless metadata read was seen",
                  observed=observed, expected=expected, source=src)


@control(
    "JADA-LS-07",
    title="Automatic snapshots are enabled and the latest one succeeded recently",
    severity="medium",
    side="lightsail",
    rationale=f"""
Without a recent snapshot a lost disk is lost work and configuration. Looks for the add-on
named AutoSnapshot with status Enabled in instance.addOns from GetInstance
({API}API_AddOn.html), then reads GetAutoSnapshots ({API}API_GetAutoSnapshots.html): the
newest finished snapshot (InProgress ones are skipped) must have status Success and be no
older than expect.lightsail.snapshot_max_age_hours.
""",
    remediation="aws lightsail enable-add-on --resource-name <instance> --add-on-request "
                "'addOnType=AutoSnapshot,autoSnapshotAddOnRequest={snapshotTimeOfDay=06:00}'  "
                "(history: aws lightsail get-auto-snapshots --resource-name <instance>)",
    fix="""\
aws lightsail enable-add-on --resource-name {instance} --region {region} \
--add-on-request 'addOnType=AutoSnapshot,autoSnapshotAddOnRequest={snapshotTimeOfDay=06:00}'
aws lightsail get-auto-snapshots --resource-name {instance} --region {region}""",
)
def ls_auto_snapshots(ctx: CheckContext) -> Outcome:
    ls = ctx.lightsail
    max_age = float(ctx.expect["lightsail"]["snapshot_max_age_hours"])
    addons = ls.instance().get("addOns") or []
    auto = [a for a in addons if isinstance(a, dict)
            and str(a.get("name", "")).lower() == "autosnapshot"]
    status = str(auto[0].get("status", "?")) if auto else "(absent)"
    if status.lower() != "enabled":
        return failed(f"the automatic snapshot add-on is {status}, not Enabled",
                      observed=f"AutoSnapshot add-on {status}", expected="AutoSnapshot Enabled",
                      source=ls.source("instance.addOns"))
    expected = f"AutoSnapshot Enabled; newest snapshot Success, <= {max_age:g} h old"
    src = ls.source("autoSnapshots[].status, createdAt", "GetAutoSnapshots")
    done = [s for s in ls.auto_snapshots() if str(s.get("status", "")) != "InProgress"]
    if not done:
        return failed("the add-on is enabled but no automatic snapshot exists yet",
                      observed="no finished snapshot", expected=expected, source=src)
    newest = done[0]
    created = newest.get("createdAt")
    if not isinstance(created, datetime):
        raise CheckError("the GetAutoSnapshots answer has a snapshot without createdAt")
    age = (datetime.now(UTC) - created).total_seconds() / 3600
    # The observed value carries no time or age: they change at every run, and drift would
    # report an unchanged snapshot policy as changed. The message keeps both.
    when = f"at {hhmm(created)}, {age:.1f} h old"
    fresh = "within" if age <= max_age else "older than"
    observed = f"newest {newest.get('status')}, {fresh} {max_age:g} h"
    if newest.get("status") != "Success":
        return failed(f"the newest automatic snapshot is {newest.get('status')} ({when})",
                      observed=observed, expected=expected, source=src)
    if age > max_age:
        return failed(f"the newest automatic snapshot is {age:.1f} h old (max {max_age:g} h; "
                      f"{when})", observed=observed, expected=expected, source=src)
    return passed(f"automatic snapshot succeeded {when}", observed=observed,
                  expected=expected, source=src)


@control(
    "JADA-LS-08",
    title="Bundle and blueprint are the ones the profile names",
    severity="low",
    side="lightsail",
    rationale=f"""
The bundle fixes CPU, memory and burst baseline; the blueprint fixes the OS image the
hardening assumes. Compares instance.bundleId and instance.blueprintId from GetInstance
({API}API_Instance.html) with expect.lightsail.bundle_id / blueprint_id; skipped when the
profile names neither.
""",
    remediation="bundle: aws lightsail create-instance-snapshot, then "
                "create-instances-from-snapshot --bundle-id <bundle>; blueprint: rebuild with "
                "aws lightsail create-instances --blueprint-id <blueprint>",
    fix="""\
# a bundle or blueprint cannot be changed in place: snapshot, then create a new instance
aws lightsail create-instance-snapshot --instance-name {instance} --region {region} \
--instance-snapshot-name {instance}-rebuild""",
)
def ls_bundle(ctx: CheckContext) -> Outcome:
    want = {k: ctx.expect["lightsail"][f"{k[:-2]}_id"] for k in ("bundleId", "blueprintId")}
    want = {k: v for k, v in want.items() if v}
    if not want:
        return skipped("the profile names no expect.lightsail.bundle_id or blueprint_id")
    inst = ctx.lightsail.instance()
    have = {k: inst.get(k) or "(none)" for k in want}
    observed = " ".join(f"{k}={v}" for k, v in have.items())
    expected = " ".join(f"{k}={v}" for k, v in want.items())
    src = ctx.lightsail.source(", ".join(f"instance.{k}" for k in want))
    wrong = [f"{k} is {have[k]}, expected {want[k]}" for k in want if have[k] != want[k]]
    if wrong:
        return failed("; ".join(wrong), observed=observed, expected=expected, source=src)
    return passed(f"{expected}", observed=observed, expected=expected, source=src)
