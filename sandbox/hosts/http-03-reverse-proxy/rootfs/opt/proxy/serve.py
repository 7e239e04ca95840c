#!/usr/bin/env python3
"""Sandbox stand-in for a reverse proxy: answers GET /healthz with 200 on an HTTPS port
and a plain-HTTP port (any other path: 404). It forwards nothing; HTTP-03 only asks which
unit listens where, HTTP-01/02 what the port answers and with which certificate."""

import argparse
import http.server
import ssl
import threading


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        ok = self.path == "/healthz"
        body = b"ok\n" if ok else b"not found\n"
        self.send_response(200 if ok else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--https", type=int, required=True)
    ap.add_argument("--http", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    a = ap.parse_args()
    secure = http.server.ThreadingHTTPServer(("0.0.0.0", a.https), Health)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    secure.socket = ctx.wrap_socket(secure.socket, server_side=True)
    plain = http.server.ThreadingHTTPServer(("0.0.0.0", a.http), Health)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    secure.serve_forever()


if __name__ == "__main__":
    main()
