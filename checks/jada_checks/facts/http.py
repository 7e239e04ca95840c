"""Probing a target's service ports from the runner, as the orchestrator's clients do.

One probe per ``expect.http`` entry: a TCP connect with its own timeout, for https a TLS
handshake that verifies the chain and the name (the client's view), a GET of the health
path with ``User-Agent: jada-checks/<version>``, and the time to the response headers.
What happened is recorded, not judged: the controls in ``controls/http.py`` decide.

Only the target's own address is ever connected to (the profile's lightsail.public_ip or
ssh.host, else the instance's public IP), and only on the ports the profile names: the
``expect.http`` ports, and ``ssh.port`` as a reference (a bare TCP connect, closed at once)
that tells a filtered service port from a host that is down. Every port of a target is
probed at once, so an unreachable target costs one connect timeout.
Standard library only (``socket``, ``ssl``, ``http.client``): nothing to install on the
runner, and the same OpenSSL the system's other clients use.
"""

from __future__ import annotations

import errno
import http.client
import os
import socket
import ssl
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import jada_checks

USER_AGENT = f"jada-checks/{jada_checks.__version__}"
# errno values of connect(2) that mean the address itself cannot be reached (no route,
# network down), as opposed to the port: the whole target is unreachable.
UNREACHABLE_ERRNOS = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN,
                      errno.ENETDOWN, errno.EADDRNOTAVAIL}


@dataclass
class Probe:
    """What one (address, port) answered.

    ``connect``: ok | refused | timeout | unreachable | error. ``tls``: None (plain http
    or never reached), ok, or failed (``tls_detail`` says why). ``verify``: for https, None
    when the chain and the name verified, else OpenSSL's reason. ``cert``: the peer
    certificate as :meth:`ssl.SSLSocket.getpeercert` decodes it (also when it did not
    verify). ``status``/``reason``: the answer; ``answer``: ok | timeout | error.
    """

    port: int
    scheme: str
    address: str
    server_name: str
    path: str
    connect: str = "error"
    connect_detail: str = ""
    tls: str | None = None
    tls_detail: str = ""
    verify: str | None = None
    cert: dict[str, Any] = field(default_factory=dict)
    answer: str | None = None
    answer_detail: str = ""
    status: int | None = None
    reason: str = ""
    elapsed_ms: float | None = None
    started: float = 0.0  # monotonic start of the connect whose answer is timed

    @property
    def where(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{host}:{self.port}{self.path}"


@dataclass(frozen=True)
class Knock:
    """A bare TCP connect to a port the target certainly has (its SSH port), closed at once:
    no banner read, nothing sent. ``connect``: ok | refused | timeout | unreachable | error."""

    port: int
    connect: str
    detail: str = ""

    @property
    def answered(self) -> bool:
        """Connected, or refused: either way a TCP stack at the address answered the SYN
        (RFC 9293 section 3.5.2: a segment for no connection is answered with a reset)."""
        return self.connect in ("ok", "refused")


def knock(address: str, port: int, timeout: float) -> Knock:
    sock, state, detail = _connect(address, port, timeout)
    if sock is not None:
        sock.close()
    return Knock(port, state, detail)


def probe_target(address: str, entries: list[dict[str, Any]], reference: int | None
                 ) -> tuple[list[Probe], Knock | None]:
    """Every entry and the reference port at once, so the whole target still costs one
    connect timeout (the longest of its entries, which the reference also gets)."""
    if not entries:
        return [], None
    timeout = max(e["connect_timeout"] for e in entries)
    with ThreadPoolExecutor(max_workers=len(entries) + 1,
                            thread_name_prefix="jada-http") as pool:
        ref = pool.submit(knock, address, reference, timeout) if reference else None
        probes = list(pool.map(lambda e: probe(address, e), entries))
        return probes, (ref.result() if ref is not None else None)


def probe(address: str, entry: dict[str, Any]) -> Probe:
    name = entry.get("server_name") or address
    p = Probe(entry["port"], entry["scheme"], address, name, entry["path"])
    p.started = time.monotonic()
    sock, p.connect, p.connect_detail = _connect(address, p.port, entry["connect_timeout"])
    if sock is None:
        return p
    conn: socket.socket | None = _tls(sock, p, entry) if p.scheme == "https" else sock
    if conn is None:  # _tls closed what it opened
        return p
    try:
        conn.settimeout(entry["read_timeout"])
        _get(conn, p)
    finally:
        conn.close()
    return p


def _connect(address: str, port: int, timeout: float
             ) -> tuple[socket.socket | None, str, str]:
    """(socket or None, ok | refused | timeout | unreachable | error, detail)."""
    try:
        return socket.create_connection((address, port), timeout=timeout), "ok", ""
    except ConnectionRefusedError:
        return None, "refused", "connection refused"
    except TimeoutError:
        return None, "timeout", f"connect timed out after {timeout:g} s"
    except OSError as exc:
        state = "unreachable" if exc.errno in UNREACHABLE_ERRNOS else "error"
        return None, state, exc.strerror or str(exc)


# Which X.509 checks a verifying client makes is a set of OpenSSL flags, and Python's
# default set changed under the suite: 3.13's create_default_context() adds
# VERIFY_X509_STRICT and VERIFY_X509_PARTIAL_CHAIN (gh-107361), so the same certificate
# passed on a 3.11 runner and failed on a 3.13 one. The probe sets the flags itself:
# OpenSSL's own defaults (trusted certificates first; no RFC 5280 strict checks, no
# partial chains), which is how Node.js verifies (src/crypto/crypto_context.cc sets no
# X509 flags on its store), the runtime of Claude Code's cli.js, and Python before 3.13.
# An expect.http entry with x509_strict: true verifies as Python 3.13+ (and urllib3 on
# it) does instead. docs/http.md says why.
VERIFY_FLAGS = ssl.VERIFY_X509_TRUSTED_FIRST
STRICT_FLAGS = VERIFY_FLAGS | ssl.VERIFY_X509_STRICT | ssl.VERIFY_X509_PARTIAL_CHAIN


def verify_flags(entry: dict[str, Any]) -> ssl.VerifyFlags:
    """The flags the probe verifies ``entry``'s certificate with, whatever the runner's
    Python would choose."""
    return STRICT_FLAGS if entry.get("x509_strict") else VERIFY_FLAGS


def flag_names(flags: int) -> str:
    """``VERIFY_X509_TRUSTED_FIRST | VERIFY_X509_STRICT``: for messages and sources."""
    names = [f.name for f in (ssl.VERIFY_X509_TRUSTED_FIRST, ssl.VERIFY_X509_STRICT,
                              ssl.VERIFY_X509_PARTIAL_CHAIN) if flags & f]
    return " | ".join(n or "?" for n in names) or "none"


def _context(entry: dict[str, Any], verify: bool) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=entry.get("ca_bundle")) if verify \
        else ssl.create_default_context()
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        # RFC 9525 (obsoleting RFC 6125's fallback, 6.4.4): only subjectAltName entries
        # identify the service, never the subject's CN (Python falls back by default).
        ctx.hostname_checks_common_name = False
        ctx.verify_flags = verify_flags(entry)  # not the runner's Python's choice
    return ctx


def _tls(sock: socket.socket, p: Probe, entry: dict[str, Any]) -> ssl.SSLSocket | None:
    """Handshake as a verifying client; if only verification failed, handshake again
    without it (a new connection), so availability (HTTP-01) and the certificate's details
    (HTTP-02) are still known. None when no TLS session could be had at all."""
    try:
        ctx = _context(entry, verify=True)
    except (OSError, ssl.SSLError) as exc:
        sock.close()
        p.tls, p.tls_detail = "failed", f"cannot load ca_bundle {entry.get('ca_bundle')}: {exc}"
        return None
    try:
        tls = ctx.wrap_socket(sock, server_hostname=p.server_name)
        p.tls, p.cert = "ok", tls.getpeercert() or {}
        return tls
    except ssl.SSLCertVerificationError as exc:
        p.verify = exc.verify_message or str(exc)
    except (ssl.SSLError, OSError) as exc:
        p.tls, p.tls_detail = "failed", _ssl_reason(exc)
        sock.close()
        return None
    sock.close()
    p.started = time.monotonic()  # availability is timed on the connection that answers
    try:
        raw = socket.create_connection((p.address, p.port), timeout=entry["connect_timeout"])
        tls = _context(entry, verify=False).wrap_socket(raw, server_hostname=p.server_name)
    except (ssl.SSLError, OSError) as exc:
        p.tls, p.tls_detail = "failed", f"unverified retry: {_ssl_reason(exc)}"
        return None
    p.tls, p.cert = "ok", decode_der(tls.getpeercert(binary_form=True))
    return tls


def _ssl_reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "handshake timed out"
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return f"{exc.reason} ({exc.library or 'SSL'})"
    return str(exc) or type(exc).__name__


def decode_der(der: bytes | None) -> dict[str, Any]:
    """The fields of a certificate that did not verify, decoded as getpeercert() would.
    The stdlib decodes only verified peers; its test decoder reads a PEM file, and is
    used only for this message (empty when it is unavailable)."""
    decoder = getattr(getattr(ssl, "_ssl", None), "_test_decode_cert", None)
    if not der or decoder is None:
        return {}
    fd, name = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(ssl.DER_cert_to_PEM_cert(der))
        return decoder(name)
    except (OSError, ssl.SSLError, ValueError):
        return {}
    finally:
        os.unlink(name)


def _get(sock: socket.socket, p: Probe) -> None:
    conn = http.client.HTTPConnection(p.server_name, p.port)
    conn.sock = sock  # already connected (and TLS-wrapped): no second connect
    try:
        conn.request("GET", p.path, headers={"User-Agent": USER_AGENT, "Accept": "*/*",
                                             "Connection": "close"})
        resp = conn.getresponse()
        p.elapsed_ms = (time.monotonic() - p.started) * 1000
        p.answer, p.status, p.reason = "ok", resp.status, resp.reason
        resp.close()
    except TimeoutError:
        p.elapsed_ms = (time.monotonic() - p.started) * 1000
        p.answer = "timeout"
        p.answer_detail = f"no answer within the read timeout ({sock.gettimeout():g} s)"
    except (http.client.HTTPException, OSError) as exc:
        p.elapsed_ms = (time.monotonic() - p.started) * 1000
        p.answer, p.answer_detail = "error", f"{type(exc).__name__}: {exc}"[:200]
