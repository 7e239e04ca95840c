#!/usr/bin/env python3
"""Sandbox stand-in for the jada orchestrator: the load shape the checks must see.

It listens on TCP with a chosen backlog, holds a chosen number of open descriptors,
starts `claude` child processes, and logs to the journal (stdout), including the real
"Too many open files" error when asked to exhaust its descriptor limit.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=7070)
    ap.add_argument("--backlog", type=int, default=8192)
    ap.add_argument("--hold-fds", type=int, default=0, help="descriptors to keep open")
    ap.add_argument("--hold-percent", type=float, default=0.0,
                    help="keep this percentage of the soft nofile limit open")
    ap.add_argument("--children", type=int, default=0, help="claude child processes")
    ap.add_argument("--child-model", default="", help="pass --model to the children")
    ap.add_argument("--exhaust-fds", action="store_true",
                    help="open descriptors until EMFILE once, log the error, release them")
    ap.add_argument("--exit-after", type=float, default=0.0, help="exit 1 after N seconds")
    args = ap.parse_args()

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", args.port))
    srv.listen(args.backlog)
    print(f"jada-agent listening on :{args.port} backlog={args.backlog}", flush=True)

    if args.exhaust_fds:
        spent = []
        try:
            while True:
                spent.append(os.open("/dev/null", os.O_RDONLY))
        except OSError as exc:
            print(f"agent stream failed: {exc}", flush=True)
        for fd in spent:
            os.close(fd)

    import resource
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(args.hold_fds, int(soft * args.hold_percent / 100))
    held = [os.open("/dev/null", os.O_RDONLY) for _ in range(max(0, want - 8))]
    print(f"holding {len(held)} descriptors (soft limit {soft})", flush=True)

    argv = ["/usr/local/bin/claude", "--dangerously-skip-permissions"]
    if args.child_model:
        argv += ["--model", args.child_model]
    kids = [subprocess.Popen(argv) for _ in range(args.children)]
    print(f"started {len(kids)} agents", flush=True)

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
