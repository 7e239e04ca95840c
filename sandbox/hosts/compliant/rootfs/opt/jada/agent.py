#!/usr/bin/env python3
"""Sandbox stand-in for the jada orchestrator: the load shape the checks must see.

It listens on TCP with a chosen backlog, holds a chosen number of open descriptors,
starts `claude` child processes, and logs to the journal (stdout), including the real
"Too many open files" error when asked to exhaust its descriptor limit, printed as
Python prints it or as a Go orchestrator's net/http server does. A worker it starts
can detach from it (so it is no descendant of the main process) and move itself into a
child cgroup of the unit (Delegate=yes), as a supervisor with delegated cgroups would.

``--health FILE`` (default /etc/jada/health.json, if it exists) answers HTTP(S) health
requests on the listening socket: ``{"path": "/healthz", "status": 200, "delay_ms": 0,
"tls": {"cert": PEM, "key": PEM}}`` (``status`` and ``delay_ms`` let a fault host answer
500 or slowly; without ``tls`` it speaks plain HTTP). Without the file nothing accepts.

``--children-file FILE`` starts more children, each as a JSON object describes it, the way
a real orchestrator varies its agents: ``{"args": [...], "env": {NAME: VALUE},
"unset": [NAME], "cwd": DIR, "exec": [...], "argv0": NAME}`` (arguments after
``--dangerously-skip-permissions``, not ``--child-model``; variables added to or removed
from the inherited environment; the working directory; the program and its interpreter's
options instead of ``/usr/local/bin/claude``, e.g. ``["node", "--max-old-space-size=256",
".../cli.js"]``; the argv[0] the program sees instead of its path).

``--api-sink PORT`` listens on 127.0.0.1:PORT, accepts every connection and never answers:
the API endpoint (``ANTHROPIC_BASE_URL``) a real Claude Code agent waits on in the sandbox.
"""

import argparse
import http.server
import json
import os
import shlex
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time


def tracking_cgroup() -> str:
    """This process's cgroup directory in the hierarchy systemd tracks services by: the
    cgroup2 mount at /sys/fs/cgroup (unified), else the v1 name=systemd one (hybrid and
    legacy hosts, such as the sandbox machine, where the cgroup2 mount at .../unified
    is shared between containers and must not be written)."""
    mounts = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            mounts[fields[4]] = (fields[sep + 1], fields[sep + 3])
    unified = mounts.get("/sys/fs/cgroup", ("",))[0] == "cgroup2"
    mount = "/sys/fs/cgroup" if unified else next(
        (m for m, (fs, opts) in mounts.items()
         if fs == "cgroup" and "name=systemd" in opts.split(",")), "")
    with open("/proc/self/cgroup") as f:
        for line in f:
            hid, ctrl, path = line.rstrip("\n").split(":", 2)
            if mount and (hid == "0" if unified else ctrl == "name=systemd"):
                return mount + path
    raise SystemExit("no cgroup hierarchy that systemd tracks services by")


def join_cgroup(name: str) -> None:
    """Move this process into a child cgroup of its own (needs Delegate=yes), named
    ``<name>-<boot id>``: on the sandbox machine every host's jada-agent.service is the same
    cgroup directory (seen through each host's PID namespace), so the name is per host."""
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot = f.read().strip().replace("-", "")[:8]
    child = os.path.join(tracking_cgroup(), f"{name}-{boot}")
    os.makedirs(child, exist_ok=True)
    with open(os.path.join(child, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))
    print(f"moved into cgroup {child}", flush=True)


def exhaust(srv: socket.socket, port: int, style: str) -> None:
    """Open descriptors until EMFILE, log the error once as ``style`` prints it, release."""
    client = socket.create_connection(("127.0.0.1", port))  # waits in the accept queue
    spent = []
    try:
        while True:
            spent.append(os.open("/dev/null", os.O_RDONLY))
    except OSError as exc:
        error = exc
    if style == "go":
        try:
            srv.accept()  # accept4(2) needs a descriptor first: it fails with EMFILE
        except OSError as exc:
            error = exc
        host, port_ = srv.getsockname()[:2]
        # net/http Server.Serve: srv.logf("http: Accept error: %v; retrying in %v", ...);
        # Go's syscall errors print strerror in lower case; log.Printf adds the date.
        print(f"{time.strftime('%Y/%m/%d %H:%M:%S')} http: Accept error: accept tcp "
              f"{host}:{port_}: accept4: {(error.strerror or '').lower()}; retrying in 5ms",
              flush=True)
    else:
        print(f"agent stream failed: {error}", flush=True)
    for fd in spent:
        os.close(fd)
    conn, _ = srv.accept()
    conn.close()
    client.close()


def serve_health(srv: socket.socket, config_path: str) -> None:
    """Answer GET <path> on the listening socket in threads (the agent's real work is
    elsewhere); a config that cannot be used is logged, never fatal."""
    try:
        with open(config_path) as f:
            cfg = json.load(f)
    except FileNotFoundError:
        return
    except (OSError, ValueError) as exc:
        print(f"health: {config_path} unusable: {exc}", flush=True)
        return
    ctx = None
    if cfg.get("tls"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            ctx.load_cert_chain(cfg["tls"]["cert"], cfg["tls"]["key"])
        except (OSError, ssl.SSLError, KeyError) as exc:
            print(f"health: TLS unusable, not serving: {exc}", flush=True)
            return
    path, status = cfg.get("path", "/healthz"), int(cfg.get("status", 200))
    delay = float(cfg.get("delay_ms", 0)) / 1000

    class Health(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            time.sleep(delay)
            code = status if self.path == path else 404
            body = json.dumps({"status": "ok" if code < 400 else "failing"}).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # not into the journal: UNIT-04 reads it
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

        def finish_request(self, request, client_address) -> None:
            if ctx is None:
                return super().finish_request(request, client_address)
            request.settimeout(10)
            try:
                conn = ctx.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                return
            try:
                super().finish_request(conn, client_address)
            finally:
                conn.close()

    server = Server(srv.getsockname()[:2], Health, bind_and_activate=False)
    server.socket.close()
    server.socket = srv
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    print(f"health: {'https' if ctx else 'http'} on :{srv.getsockname()[1]}{path}", flush=True)


def api_sink(port: int) -> None:
    """Accept on 127.0.0.1:port and never answer: the agents' requests wait for ever."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sink.bind(("127.0.0.1", port))
    sink.listen(64)
    held = []

    def accept() -> None:
        while True:
            held.append(sink.accept()[0])

    threading.Thread(target=accept, name="api-sink", daemon=True).start()
    print(f"api sink on 127.0.0.1:{port}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=7070)
    ap.add_argument("--backlog", type=int, default=8192)
    ap.add_argument("--hold-fds", type=int, default=0, help="descriptors to keep open")
    ap.add_argument("--hold-percent", type=float, default=0.0,
                    help="keep this percentage of the soft nofile limit open")
    ap.add_argument("--children", type=int, default=0, help="claude child processes")
    ap.add_argument("--child-model", default="", help="pass --model to the children")
    ap.add_argument("--children-file", default="", help="JSON list of child descriptions")
    ap.add_argument("--exhaust-fds", action="store_true",
                    help="open descriptors until EMFILE once, log the error, release them")
    ap.add_argument("--log-style", choices=("python", "go"), default="python",
                    help="how --exhaust-fds logs EMFILE")
    ap.add_argument("--worker", default="",
                    help="start a detached worker: agent.py with these arguments")
    ap.add_argument("--detach", action="store_true",
                    help="fork and let the parent exit: the worker leaves the process tree")
    ap.add_argument("--join-cgroup", default="", help="move into this child cgroup")
    ap.add_argument("--exit-after", type=float, default=0.0, help="exit 1 after N seconds")
    ap.add_argument("--api-sink", type=int, default=0,
                    help="accept connections on 127.0.0.1:PORT and never answer")
    ap.add_argument("--health", default="/etc/jada/health.json",
                    help="health endpoint config (JSON); absent: no health endpoint")
    args = ap.parse_args()

    if args.join_cgroup:  # before detaching, so a failure reaches the starter's exit code
        join_cgroup(args.join_cgroup)
    if args.detach and os.fork():
        os._exit(0)  # the worker is reparented to PID 1; the fork stays in the cgroup

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", args.port))
    srv.listen(args.backlog)
    print(f"jada-agent listening on :{args.port} backlog={args.backlog}", flush=True)

    if args.exhaust_fds:
        exhaust(srv, args.port, args.log_style)
    serve_health(srv, args.health)  # after exhaust(), which accepts its own connection

    import resource
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(args.hold_fds, int(soft * args.hold_percent / 100))
    held = [os.open("/dev/null", os.O_RDONLY) for _ in range(max(0, want - 8))]
    print(f"holding {len(held)} descriptors (soft limit {soft})", flush=True)

    if args.api_sink:
        api_sink(args.api_sink)
    argv = ["/usr/local/bin/claude", "--dangerously-skip-permissions"]
    if args.child_model:
        argv += ["--model", args.child_model]
    kids = [subprocess.Popen(argv) for _ in range(args.children)]
    if args.children_file:
        with open(args.children_file) as f:
            for spec in json.load(f):
                env = {k: v for k, v in os.environ.items() if k not in spec.get("unset", [])}
                env.update(spec.get("env", {}))
                program = spec.get("exec", argv[:1])
                cmd = program + argv[1:2] + spec.get("args", [])
                if "argv0" in spec:  # the program by its path, argv[0] as the spec says
                    cmd[0] = spec["argv0"]
                kids.append(subprocess.Popen(cmd, executable=program[0], env=env,
                                             cwd=spec.get("cwd")))
    print(f"started {len(kids)} agents", flush=True)
    if args.worker:
        starter = subprocess.Popen([sys.executable, os.path.abspath(__file__),
                                    *shlex.split(args.worker), "--detach"])
        if starter.wait() != 0:
            print(f"worker failed to start ({starter.returncode})", flush=True)
            return 1
        print("started a detached worker", flush=True)

    def stop(*_):
        for k in kids:
            k.terminate()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    start = time.monotonic()
    while True:
        time.sleep(1)
        if args.exit_after and time.monotonic() - start > args.exit_after:
            print("agent exiting with failure (test fault)", flush=True)
            return 1


if __name__ == "__main__":
    sys.exit(main())
