"""JADA-HTTP: the orchestrator's service ports, checked from the runner as clients see them.

Everything else looks from inside (SSH) or at Lightsail's record; these controls ask the
port itself (facts: ``facts/http_facts.py``, probes: ``facts/http.py``). HTTP-01 is
availability (connect, TLS session, status, time), HTTP-02 the certificate (chain, name,
expiry), HTTP-03 whether the Lightsail firewall and the unit's listeners agree.
Outcomes, sources and the fail/error line: docs/http.md.
"""

from __future__ import annotations

import ipaddress
import ssl
import time
from datetime import UTC, datetime
from typing import Any

from jada_checks.aws import ports as ls
from jada_checks.aws.lightsail import NotFound
from jada_checks.context import CheckContext
from jada_checks.facts.http import USER_AGENT, Probe, flag_names, verify_flags
from jada_checks.facts.listeners import other_listeners, unit_listeners
from jada_checks.facts.listeners import register as register_listeners
from jada_checks.facts.listeners import register_units as register_listener_units
from jada_checks.model import CheckError, Outcome, control, failed, passed, skipped
from jada_checks.parsers.ss import Listener

SHOWN_PORTS = 8

register_listeners()  # HTTP-03 reads the unit's listeners (the same facts as NET-04)
register_listener_units()  # and, for a port the unit does not serve, whose listener it is


def _probes(ctx: CheckContext) -> list[Probe]:
    facts = ctx.http
    facts.require_reachable()
    return list(facts.probes)


def _source(probes: list[Probe]) -> str:
    where = ", ".join(p.where for p in probes)
    return f"GET {where} from the runner (User-Agent {USER_AGENT})"


def availability(p: Probe, entry: dict[str, Any], witness: str | None = None
                 ) -> tuple[bool, str]:
    """(ok, one line) for one port: the outcomes HTTP-01 tells apart. ``witness`` says
    what shows the address is up (HttpFacts.witness): without it a timeout is an error."""
    port, budget = p.port, entry["budget_ms"]
    if p.connect == "refused":
        return False, (f"port {port}: connection refused (nothing listens on it, or a "
                       "firewall rejects it)")
    if p.connect == "timeout":
        if witness is None:
            raise CheckError(f"http: port {port}: {p.connect_detail}, and nothing else at "
                             "this address answered: filtered or down cannot be told")
        return False, (f"port {port}: {p.connect_detail} (filtered: a firewall drops the "
                       f"connection, while {witness})")
    if p.connect != "ok":
        raise CheckError(f"http: port {port}: connect failed: {p.connect_detail}")
    if p.tls == "failed":
        return False, f"port {port}: TLS handshake failed: {p.tls_detail}"
    if p.answer == "timeout":
        return False, (f"port {port}: connected, but {p.answer_detail}: over the budget "
                       f"of {budget:g} ms")
    if p.answer != "ok":
        return False, f"port {port}: connected, but no HTTP answer: {p.answer_detail}"
    assert p.elapsed_ms is not None
    got = f"{p.status} {p.reason}".strip()
    if p.status != entry["status"]:
        return False, (f"port {port}: GET {p.path} answered {got}, expected "
                       f"{entry['status']}")
    if p.elapsed_ms > budget:
        return False, (f"port {port}: GET {p.path} answered {got} in {p.elapsed_ms:.0f} ms, "
                       f"over the budget of {budget:g} ms")
    return True, f"port {port}: GET {p.path} answered {got} in {p.elapsed_ms:.0f} ms " \
        f"(budget {budget:g} ms)"


def port_state(p: Probe, entry: dict[str, Any]) -> str:
    """What a port showed, without the times: the observed value that reports and the drift
    section compare between runs (a time in it would be a change on every run)."""
    if p.connect != "ok":
        return f"{p.port}: connect {p.connect}"
    if p.tls == "failed":
        return f"{p.port}: TLS handshake failed"
    if p.answer != "ok":
        return f"{p.port}: no answer ({p.answer})"
    within = "within" if (p.elapsed_ms or 0) <= entry["budget_ms"] else "over"
    return f"{p.port}: {p.status} {p.reason}".strip() + f", {within} budget"


@control(
    "JADA-HTTP-01",
    title="Every service port answers its health path in time, from outside",
    severity="critical",
    side="http",
    rationale="""
A unit can be active (running) while clients cannot reach it or get errors. From the runner,
at the address clients use (lightsail.public_ip, else ssh.host, else the instance's public
IP), each expect.http port must accept a TCP connection, complete a TLS handshake (https;
verification is JADA-HTTP-02's), and answer GET <path> with the expected status code
(RFC 9110 section 15: a 5xx means the server failed to fulfil a valid request, 15.6)
within budget_ms, from the start of the connect to the end of the response headers. The
outcomes differ: connection refused (an RST: nothing listens, or a firewall rejects), connect
timed out (filtered: dropped silently, nft(8) "drop", while another port of the address
answers), TLS handshake failure, wrong status, over budget. What shows the address is up
is another service port, or the target's ssh.port at the same address, probed at the same
time with a bare TCP connect closed at once: connected, or refused, since a TCP stack
answers a SYN for no connection with a reset (RFC 9293 section 3.5.2), whereas a dropped
SYN gets no answer at all and connect(2) ends in ETIMEDOUT. No route, or every service port
and ssh.port timing out, is an error: the address could not be reached at all, and a host
that is down looks the same (connect(2), tcp(7)).
""",
    remediation="""
On the host: systemctl status jada-agent; ss -lntp (is the port bound to a public
address?); curl -sv https://<address>:<port><path>. A 5xx: the service's own log
(journalctl -u jada-agent). Refused/filtered from outside only: the Lightsail firewall
(aws lightsail get-instance-port-states) and any host firewall (nft list ruleset;
iptables -S).
""",
    fix="""\
# from the runner, as a client: what answers, how fast
# (-k: availability only; JADA-HTTP-02 judges the certificate)
curl -sS -k -o /dev/null -D - --connect-timeout 3 {http_url}
# on the host: is the unit up, and does it listen on a public address?
systemctl status --no-pager {unit}
ss -lntp
journalctl -u {unit} -b -n 50 --no-pager
# timed out while ssh.port answers (filtered): a host firewall drops it; also the
# Lightsail firewall (aws lightsail get-instance-port-states)
nft list ruleset""",
)
def http_available(ctx: CheckContext) -> Outcome:
    probes = _probes(ctx)
    entries = ctx.expect["http"]
    witness = ctx.http.witness()
    lines = [availability(p, e, witness) for p, e in zip(probes, entries, strict=True)]
    bad = [text for ok, text in lines if not ok]
    observed = "; ".join(port_state(p, e) for p, e in zip(probes, entries, strict=True))
    expected = "; ".join(f"{e['port']}: GET {e['path']} -> {e['status']} within "
                         f"{e['budget_ms']:g} ms" for e in entries)
    if bad:
        source = _source(probes)
        if witness and witness.startswith("ssh.port") and \
                any(p.connect == "timeout" for p in probes):
            ref = ctx.http.reference
            assert ref is not None
            source += f"; TCP connect to {ctx.http.address}:{ref.port} (ssh.port, closed " \
                "at once) as the reference"
        return failed("; ".join(bad), observed=observed, expected=expected, source=source)
    return passed("; ".join(text for _, text in lines), observed=observed, expected=expected,
                  source=_source(probes))


def _name(rdn_seq: Any) -> str:
    """A certificate name as ``CN=..., O=...`` from getpeercert()'s nested tuples."""
    parts = []
    for rdn in rdn_seq or ():
        for key, value in rdn:
            short = {"commonName": "CN", "organizationName": "O",
                     "organizationalUnitName": "OU", "countryName": "C"}.get(key)
            if short:
                parts.append(f"{short}={value}")
    return ", ".join(parts) or "(empty)"


def cert_summary(cert: dict[str, Any], now: float) -> tuple[str, float | None]:
    """'subject ..., issuer ..., expires YYYY-MM-DD (N days)' and the days left."""
    if not cert:
        return "certificate details unavailable", None
    subject, issuer = _name(cert.get("subject")), _name(cert.get("issuer"))
    not_after = cert.get("notAfter")
    try:
        expiry = ssl.cert_time_to_seconds(not_after) if not_after else None
    except ValueError:
        expiry = None
    if expiry is None:
        return f"subject {subject}, issuer {issuer}, expiry unreadable", None
    days = (expiry - now) / 86400
    date = datetime.fromtimestamp(expiry, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"subject {subject}, issuer {issuer}, expires {date}", days


def with_days(stable: str, days: float | None) -> str:
    """The summary with the days left, for messages (they change every day)."""
    if days is None:
        return stable
    return stable + (f" ({days:.0f} days left)" if days >= 0 else
                     f" (expired {-days:.0f} days ago)")


@control(
    "JADA-HTTP-02",
    title="The TLS certificate verifies, names the service, and is not about to expire",
    severity="high",
    side="http",
    rationale="""
Clients verify what the runner verifies here, with OpenSSL (Python ssl) and the
verification flags set explicitly, so the verdict does not depend on the runner's Python
(3.13 added VERIFY_X509_STRICT and VERIFY_X509_PARTIAL_CHAIN to create_default_context):
OpenSSL's defaults, VERIFY_X509_TRUSTED_FIRST, as Node.js verifies (Claude Code's
cli.js; node src/crypto/crypto_context.cc sets no X509 flags), or with expect.http
x509_strict also those two, as Python 3.13+ clients do (docs/http.md). The chain must
validate against the system's CAs, or the expect.http ca_bundle; the certificate must be
within its validity period (RFC 5280 section 4.1.2.5); and it must name server_name
(default: the address connected to) in a subjectAltName, DNS-ID or IP-ID, never the
subject CN (RFC 9525 section 6, which obsoletes RFC 6125; an IP address matches only an
iPAddress SAN). Days to notAfter below expiry_warn_days (21) pass with a warning, below
expiry_fail_days (7) fail: a certificate can expire on a Sunday. The message names
subject, issuer and expiry date. Plain-http ports are skipped; a port with no TLS
session is an error (nothing to look at).
""",
    remediation="""
Renew or replace the certificate (e.g. certbot renew, or your CA's issuance), with a
subjectAltName for every name and address clients use, and the full chain; restart or
reload the service; check: openssl s_client -connect <address>:<port> -servername <name>
""",
    fix="""\
# what the service presents (subject, issuer, dates, names)
openssl s_client -connect {http_hostport} -servername {http_name} </dev/null 2>/dev/null \\
  | openssl x509 -noout -subject -issuer -dates -ext subjectAltName
# renew or replace it with a subjectAltName for every name clients use, then
systemctl reload-or-restart {unit}""",
)
def http_certificate(ctx: CheckContext) -> Outcome:
    pairs = [(p, e) for p, e in zip(_probes(ctx), ctx.expect["http"], strict=True)
             if e["scheme"] == "https"]
    if not pairs:
        return skipped("no https port in expect.http: no certificate to check")
    now = time.time()
    bad, warn, good, observed = [], [], [], []
    for p, e in pairs:
        if p.connect != "ok" or p.tls != "ok":
            why = p.connect_detail if p.connect != "ok" else f"TLS handshake failed: " \
                f"{p.tls_detail}"
            raise CheckError(f"http: port {p.port}: no TLS session to look at ({why})")
        stable, days = cert_summary(p.cert, now)
        summary = with_days(stable, days)
        trust = f"the CA bundle {e['ca_bundle']}" if e.get("ca_bundle") else "the system CAs"
        # The days left change every day: the observed value keeps the date only.
        observed.append(f"{p.port}: {stable}")
        if p.verify is not None:
            bad.append(f"port {p.port}: the certificate does not verify against {trust} for "
                       f"{p.server_name!r} (verify flags {flag_names(verify_flags(e))}): "
                       f"{p.verify}; {summary}")
        elif days is None:
            raise CheckError(f"http: port {p.port}: the certificate's notAfter is unreadable")
        elif days < e["expiry_fail_days"]:
            bad.append(f"port {p.port}: the certificate expires in {days:.1f} days "
                       f"(< {e['expiry_fail_days']}); {summary}")
        elif days < e["expiry_warn_days"]:
            warn.append(f"warning: port {p.port}: the certificate expires in {days:.0f} days "
                        f"(< {e['expiry_warn_days']}); {summary}")
        else:
            good.append(f"port {p.port}: verifies against {trust}, names "
                        f"{p.server_name!r}; {summary}")
    expected = "; ".join(f"{e['port']}: chain valid (verify flags "
                         f"{flag_names(verify_flags(e))}), names {p.server_name!r}, >= "
                         f"{e['expiry_fail_days']} days left (warning below "
                         f"{e['expiry_warn_days']})" for p, e in pairs)
    source = "TLS handshake with " + ", ".join(f"{p.address}:{p.port} (SNI {p.server_name})"
                                               for p, _ in pairs) + "; Python ssl, OpenSSL " \
        f"{ssl.OPENSSL_VERSION.split()[1]}, verify flags " + \
        ", ".join(dict.fromkeys(flag_names(verify_flags(e)) for _, e in pairs)) + \
        " set by the suite, not the runner's Python"
    if bad:
        return failed("; ".join(bad), observed="; ".join(observed), expected=expected,
                      source=source)
    return passed("; ".join(warn + good), observed="; ".join(observed), expected=expected,
                  source=source)


def _reachable_from_outside(local: str) -> bool:
    """A listener bound to a loopback address cannot serve the firewall's port."""
    host = local.rsplit(":", 1)[0].split("%", 1)[0].strip("[]")
    if host in ("*", ""):
        return True
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


# Other units' listeners are looked up for at most this many idle ports of a rule (a
# rule opening 0-65535 names the first ones only), unless the profile declares any.
MAX_NAMED_PORTS = 8


def _other_units(port: int, others: dict[int, list[tuple[str, str]]],
                 declared: dict[int, str]) -> str:
    """What listens on an idle port instead, and what the profile would need to say."""
    there = others.get(port, [])
    units = list(dict.fromkeys(u for u, _ in there))
    wheres = ", ".join(where for _, where in there)
    if port in declared:
        if not units:
            return (f" (expect.http says {declared[port]} serves port {port}, but nothing "
                    "listens there from outside)")
        return (f" (expect.http says {declared[port]} serves port {port}, but "
                f"{' and '.join(units)} listens there: {wheres})")
    if not units:
        return ""
    return (f" ({' and '.join(units)} listens on port {port}: {wheres}; not declared: an "
            f"expect.http entry for port {port} with served_by: {units[0]} would accept it)")


def _ranges(ports: list[int]) -> str:
    out, start = [], None
    for i, port in enumerate(ports):
        if start is None:
            start = port
        if i + 1 == len(ports) or ports[i + 1] != port + 1:
            out.append(str(start) if start == port else f"{start}-{port}")
            start = None
    text = ", ".join(out[:SHOWN_PORTS])
    return text + (f" and {len(out) - SHOWN_PORTS} more" if len(out) > SHOWN_PORTS else "")


@control(
    "JADA-HTTP-03",
    title="The Lightsail firewall and the unit's listeners agree",
    severity="medium",
    side="http",
    rationale=f"""
Lightsail shows a port as open whether or not anything listens behind it; an open port
nothing serves is attack surface without a purpose, and a service port the firewall
closes is an outage. Compares the inbound tcp (and all) rules of instance.networking.ports
from GetInstance ({ls.API}API_InstancePortInfo.html) with the unit's listening sockets,
the facts JADA-NET-04 gathers (ss -lntp filtered by the pids of the unit's cgroup
subtree): every port the firewall opens, besides the admin ports
(expect.lightsail.admin_ports) and ssh.port, must have a listener of the unit on a
non-loopback address; every expect.http port must be open in the firewall. A service
port another unit serves (a reverse proxy in front, nginx or Caddy, and its port 80 for
ACME) is declared with served_by on its expect.http entry, and passes when a process in
that unit's cgroup (/proc/PID/cgroup, systemd.unit(5)) listens there from outside; a
listener of any other unit stays a finding, named. udp rules are not judged (the
listeners read are TCP). Either side unreadable is an error.
""",
    remediation="""
Close what nothing serves: aws lightsail close-instance-public-ports --instance-name
<instance> --port-info fromPort=<port>,toPort=<port>,protocol=tcp; open a service port:
aws lightsail open-instance-public-ports ... ; or start the unit's listener on a public
address (ss -lntp on the host shows what listens where).
""",
    fix="""\
# what the firewall opens, and what the unit listens on (on the host: ss -lntp)
aws lightsail get-instance-port-states --instance-name {instance} --region {region}
# close a port nothing serves (or start the unit's listener on it):
# aws lightsail close-instance-public-ports --instance-name {instance} --region {region} \\
#   --port-info fromPort=PORT,toPort=PORT,protocol=tcp""",
)
def http_firewall_listeners(ctx: CheckContext) -> Outcome:
    target = ctx.target
    if target.lightsail is None or target.ssh is None:
        missing = "lightsail" if target.lightsail is None else "ssh"
        return skipped(f"the target has no {missing} section: the "
                       f"{'firewall' if missing == 'lightsail' else 'listeners'} cannot be read")
    rules = _inbound_rules(ctx)
    listeners, pids, how, _ = unit_listeners(ctx)
    audit = _FirewallAudit(ctx, listeners, pids, target.ssh)
    for _, r in rules:
        audit.judge_rule(r)
    audit.check_service_ports()
    return audit.outcome(how)


def _inbound_rules(ctx: CheckContext) -> list[tuple[int, dict[str, Any]]]:
    """The firewall's inbound rules; a missing instance is an error, not a finding."""
    try:
        return ls.indexed_inbound_rules(ctx.lightsail.instance())
    except NotFound as exc:
        raise CheckError(f"the firewall cannot be read: {exc}") from None


class _FirewallAudit:
    """HTTP-03's comparison, rule by rule: what each firewall rule opens against what the
    unit serves, with the problems and the observed parts gathered along the way."""

    def __init__(self, ctx: CheckContext, listeners: list[Listener], pids: set[int],
                 ssh: dict[str, Any]) -> None:
        self.ctx = ctx
        self.unit = ctx.expect["unit"]
        self.listeners = listeners
        self.pids = pids
        # port -> the unit the profile says serves it, when it is not the agent's own
        self.declared: dict[int, str] = {
            e["port"]: e["served_by"] for e in ctx.expect["http"]
            if e.get("served_by") and e["served_by"] != self.unit}
        self.served = {int(s.port): s for s in listeners if s.port.isdigit()
                       and _reachable_from_outside(s.local)}
        self.loopback = {int(s.port): s for s in listeners if s.port.isdigit()
                         and not _reachable_from_outside(s.local)}
        self.exempt = set(ctx.expect["lightsail"]["admin_ports"]) | {int(ssh["port"])}
        # other units' outside listeners by port, read only once a rule needs them
        self.others: dict[int, list[tuple[str, str]]] | None = None
        self.by_other: list[str] = []
        self.problems: list[str] = []
        self.seen_rules: list[str] = []
        self.udp: list[str] = []
        self.tcp_open: set[int] = set()

    def judge_rule(self, r: dict[str, Any]) -> None:
        """Note a udp rule (not judged), skip other protocols, and report the ports of a
        tcp/all rule that neither the unit nor a declared unit serves."""
        proto = r["protocol"].lower()
        key = ls.port_key(r["fromPort"], r["toPort"], proto)
        if proto == "udp":
            self.udp.append(ls.show_port(key))
            return
        if proto not in ("tcp", "all"):
            return
        lo, hi = (0, 65535) if proto == "all" else (r["fromPort"], r["toPort"])
        self.seen_rules.append(ls.show_port(key))
        ports = range(max(lo, 0), hi + 1)
        self.tcp_open.update(ports)
        idle = [p for p in ports if p not in self.exempt and p not in self.served]
        if idle and (self.declared or len(idle) <= MAX_NAMED_PORTS):
            idle = self._accept_declared(idle)
        if idle:
            self.problems.append(self._idle_problem(key, idle))

    def _other_listeners(self, idle: list[int]) -> dict[int, list[tuple[str, str]]]:
        """Other units' listeners reachable from outside, read once; unreadable is an
        error only when a declared port depends on them (else only the naming is lost)."""
        if self.others is None:
            try:
                self.others = {}
                for sock, names in other_listeners(self.ctx, self.pids):
                    if sock.port.isdigit() and _reachable_from_outside(sock.local):
                        for name in names:
                            self.others.setdefault(int(sock.port), []).append(
                                (name, f"{sock.local} ({sock.process})"))
            except CheckError:
                if any(p in self.declared for p in idle):
                    raise  # a declared port cannot be confirmed: could not look
                self.others = {}  # only the naming of other units is lost, not the finding
        return self.others

    def _accept_declared(self, idle: list[int]) -> list[int]:
        """The idle ports left once those served, as declared (served_by), by their
        unit are taken out; the accepted ones are remembered for the observed value."""
        others = self._other_listeners(idle)
        accepted = set()
        for p in [p for p in idle if p in self.declared]:
            theirs = [where for u, where in others.get(p, []) if u == self.declared[p]]
            if theirs:
                accepted.add(p)
                self.by_other.append(f"{p} by {self.declared[p]} ({', '.join(theirs)})")
        return [p for p in idle if p not in accepted]

    def _idle_problem(self, key: tuple[int, int, str], idle: list[int]) -> str:
        """The finding for a rule's unserved ports, with those only on loopback and what
        other units listen there instead."""
        local_only = [p for p in idle if p in self.loopback]
        what = (f"firewall opens {ls.show_port(key)} but no process of {self.unit} listens "
                f"on {'port' if len(idle) == 1 else 'ports'} {_ranges(idle)} from outside")
        if local_only:
            what += f" ({_ranges(local_only)} only on loopback)"
        what += "".join(_other_units(p, self.others or {}, self.declared)
                        for p in idle[:MAX_NAMED_PORTS])
        return what

    def check_service_ports(self) -> None:
        """Every expect.http port must be open: a closed service port is an outage."""
        closed = sorted({e["port"] for e in self.ctx.expect["http"]} - self.tcp_open)
        if closed:
            self.problems.append(f"service port(s) {_ranges(closed)} (expect.http) not open "
                                 "in the Lightsail firewall")

    def outcome(self, how: str) -> Outcome:
        """Failed with every problem, else passed; both carry the same evidence."""
        ctx, unit = self.ctx, self.unit
        listening = ", ".join(f"{s.local} ({s.process})" for s in self.listeners) or "none"
        observed = (f"firewall tcp: {', '.join(self.seen_rules) or 'none'}; {unit} listens "
                    f"on {listening}"
                    + (f"; served by another unit as declared (expect.http served_by): "
                       f"{', '.join(self.by_other)}" if self.by_other else "")
                    + (f"; udp rules not judged: {', '.join(self.udp)}" if self.udp else ""))
        expected = (f"every firewall tcp port except {sorted(self.exempt)} served by {unit}; "
                    f"service ports {sorted({e['port'] for e in ctx.expect['http']})} open")
        source = (ctx.lightsail.source("instance.networking.ports") + f"; ss -lntp filtered "
                  f"by the unit's processes ({how}, as JADA-NET-04)"
                  + ("; other listeners' units from /proc/PID/cgroup" if self.others else ""))
        if self.problems:
            return failed("; ".join(self.problems), observed=observed, expected=expected,
                          source=source)
        return passed(f"the firewall and {unit} agree: {observed}", observed=observed,
                      expected=expected, source=source)
