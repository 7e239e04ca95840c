"""JADA-HTTP outcomes against real servers on loopback: every outcome HTTP-01 tells apart,
the certificate judgement of HTTP-02, and what a request carries.

No sandbox host: each case is a real socket (a closed port, a full accept queue, a plain
HTTP server asked for TLS, a slow or failing server, a TLS server with a certificate from
a CA made here with openssl), probed by ``facts/http.py`` and judged by the controls.
"""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import jada_checks
from jada_checks.controls import catalogue
from jada_checks.controls.http_facts import HttpFacts
from jada_checks.facts.http import probe, probe_all
from jada_checks.inputs import fill_defaults, load_schema
from jada_checks.model import REGISTRY, CheckError, Outcome
from jada_checks.sandbox import tls

catalogue()
LOOP = "127.0.0.1"
SCHEMA = load_schema("profile.schema.json")


def entry(port: int, **kw: Any) -> dict[str, Any]:
    """An expect.http entry with the schema's defaults (plain http unless asked)."""
    return fill_defaults({"port": port, "scheme": "http", "connect_timeout": 1,
                          "read_timeout": 2, **kw}, SCHEMA["$defs"]["http_expect"], SCHEMA)


@dataclass
class Ctx:
    """What the HTTP-01/02 checks read: the probes and the expectations."""

    http: HttpFacts
    expect: dict[str, Any]


def judge(control: str, entries: list[dict[str, Any]], address: str = LOOP) -> Outcome:
    facts = HttpFacts(address, tuple(probe_all(address, entries)))
    try:
        return REGISTRY[control].check(Ctx(facts, {"http": entries}))  # type: ignore[arg-type]
    except CheckError as exc:
        return Outcome("error", str(exc))


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers ``status`` after ``delay`` s and keeps the request headers."""

    port = 0
    status = 200
    delay = 0.0
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802
        type(self).seen.append(dict(self.headers.items(), path=self.path))
        threading.Event().wait(self.delay)
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def serve(handler: type[http.server.BaseHTTPRequestHandler],
          context: ssl.SSLContext | None = None) -> tuple[http.server.HTTPServer, int]:
    server = http.server.ThreadingHTTPServer((LOOP, 0), handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, server.server_address[1]


@pytest.fixture
def server() -> Iterator[type[Recorder]]:
    handler = type("Handler", (Recorder,), {"seen": []})
    srv, port = serve(handler)
    handler.port = port
    yield handler
    srv.shutdown()
    srv.server_close()


def closed_port() -> int:
    s = socket.socket()
    s.bind((LOOP, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_answer_in_time_passes_and_carries_our_user_agent(server: type[Recorder]) -> None:
    out = judge("JADA-HTTP-01", [entry(server.port)])
    assert out.status == "pass", out
    assert f"port {server.port}: GET /healthz answered 200 OK in " in out.message
    seen = server.seen[0]
    assert seen["User-Agent"] == f"jada-checks/{jada_checks.__version__}"
    assert seen["path"] == "/healthz" and seen["Host"] == f"{LOOP}:{server.port}"
    assert "User-Agent jada-checks/" in (out.source or "")


def test_refused_is_a_fail_naming_the_port() -> None:
    port = closed_port()
    out = judge("JADA-HTTP-01", [entry(port)])
    assert out.status == "fail", out
    assert out.message == (f"port {port}: connection refused (nothing listens on it, or a "
                           "firewall rejects it)")


def test_filtered_port_times_out_and_an_all_silent_address_is_one_error(
        server: type[Recorder]) -> None:
    """A full accept queue drops SYNs (tcp_conn_request), as a filtering firewall does."""
    full = socket.socket()
    full.bind((LOOP, 0))
    full.listen(0)
    first = socket.create_connection((LOOP, full.getsockname()[1]))  # fills the queue
    try:
        silent = entry(full.getsockname()[1], connect_timeout=0.5)
        both = judge("JADA-HTTP-01", [entry(server.port), silent])
        assert both.status == "fail", both
        assert f"port {silent['port']}: connect timed out after 0.5 s (filtered" in both.message
        alone = judge("JADA-HTTP-01", [silent])
        assert alone.status == "error", alone
        assert alone.message == (f"http: {LOOP} is unreachable: connect to port(s) "
                                 f"{silent['port']} timed out (0.5 s; the host is down or "
                                 "every service port is filtered)")
        cert = judge("JADA-HTTP-02", [dict(silent, scheme="https")])
        assert (cert.status, cert.message) == ("error", alone.message)
    finally:
        first.close()
        full.close()


def test_plain_http_asked_for_tls_is_a_handshake_failure(server: type[Recorder]) -> None:
    out = judge("JADA-HTTP-01", [entry(server.port, scheme="https")])
    assert out.status == "fail", out
    assert f"port {server.port}: TLS handshake failed: " in out.message
    assert "WRONG_VERSION_NUMBER" in out.message or "wrong version" in out.message


def test_wrong_status_names_both(server: type[Recorder]) -> None:
    server.status = 503
    out = judge("JADA-HTTP-01", [entry(server.port)])
    assert out.status == "fail", out
    assert "answered 503 Service Unavailable, expected 200" in out.message


def test_over_budget_names_the_time_and_the_budget(server: type[Recorder]) -> None:
    server.delay = 0.3
    out = judge("JADA-HTTP-01", [entry(server.port, budget_ms=100)])
    assert out.status == "fail", out
    assert "answered 200 OK in " in out.message and "over the budget of 100 ms" in out.message
    ms = int(out.message.split(" in ")[1].split(" ms")[0])
    assert 300 <= ms < 2000, out.message


def test_no_answer_within_the_read_timeout_is_over_budget(server: type[Recorder]) -> None:
    server.delay = 1.5
    out = judge("JADA-HTTP-01", [entry(server.port, read_timeout=0.5)])
    assert out.status == "fail", out
    assert "no answer within the read timeout (0.5 s): over the budget of 1000 ms" in out.message


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """HTTPS on loopback with a certificate for 127.0.0.1 from a CA made here."""
    state = tmp_path_factory.mktemp("tls")
    root = state / "root"
    tls.make_ca(state, "probe-test")
    root.mkdir()
    tls.issue(state, root, "loop", LOOP, "valid")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(root / "etc/jada/tls/cert.pem", root / "etc/jada/tls/key.pem")
    handler = type("Handler", (Recorder,), {"seen": []})
    srv, port = serve(handler, ctx)
    yield port, tls.ca_file(state)
    srv.shutdown()
    srv.server_close()


def test_certificate_verifies_names_and_expiry(tls_server: tuple[int, Path]) -> None:
    port, ca = tls_server
    e = entry(port, scheme="https", ca_bundle=str(ca))
    assert judge("JADA-HTTP-01", [e]).status == "pass"
    out = judge("JADA-HTTP-02", [e])
    assert out.status == "pass", out
    assert f"verifies against the CA bundle {ca}, names '{LOOP}'" in out.message
    assert "subject CN=loop.jada-sandbox.test, O=jada-sandbox, issuer O=jada-sandbox, " \
           "CN=jada-sandbox probe-test CA, expires " in out.message
    assert "(89 days left)" in out.message or "(90 days left)" in out.message


def test_expiry_below_the_warning_passes_with_a_warning_and_below_the_fail_fails(
        tls_server: tuple[int, Path]) -> None:
    port, ca = tls_server
    warn = judge("JADA-HTTP-02", [entry(port, scheme="https", ca_bundle=str(ca),
                                        expiry_warn_days=100)])
    assert warn.status == "pass" and warn.message.startswith(
        f"warning: port {port}: the certificate expires in "), warn
    assert "days (< 100)" in warn.message
    bad = judge("JADA-HTTP-02", [entry(port, scheme="https", ca_bundle=str(ca),
                                       expiry_fail_days=100)])
    assert bad.status == "fail" and "days (< 100); subject CN=loop" in bad.message, bad


def test_system_cas_do_not_trust_a_private_ca_and_the_name_is_checked(
        tls_server: tuple[int, Path]) -> None:
    port, ca = tls_server
    untrusted = judge("JADA-HTTP-02", [entry(port, scheme="https")])
    assert untrusted.status == "fail", untrusted
    assert "does not verify against the system CAs for '127.0.0.1': unable to get local " \
           "issuer certificate; subject CN=loop.jada-sandbox.test" in untrusted.message
    other = judge("JADA-HTTP-02", [entry(port, scheme="https", ca_bundle=str(ca),
                                         server_name="other.jada-sandbox.test")])
    assert other.status == "fail", other
    assert "for 'other.jada-sandbox.test': Hostname mismatch, certificate is not valid for " \
           "'other.jada-sandbox.test'." in other.message
    # availability does not depend on trust: the service answers
    assert judge("JADA-HTTP-01", [entry(port, scheme="https")]).status == "pass"


def test_plain_http_ports_have_no_certificate(server: type[Recorder]) -> None:
    out = judge("JADA-HTTP-02", [entry(server.port)])
    assert out.status == "skipped" and "no https port" in out.message


def test_probe_records_only_the_address_it_was_given(server: type[Recorder]) -> None:
    p = probe(LOOP, entry(server.port, server_name="svc.example"))
    assert (p.address, p.server_name, p.connect, p.status) == (LOOP, "svc.example", "ok", 200)
    assert server.seen[0]["Host"] == f"svc.example:{server.port}"
