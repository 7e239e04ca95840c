"""``jada-sandbox``: boot and remove the sandbox's test hosts.

    jada-sandbox up --host NAME=DIR [--host NAME=DIR ...] --profile-out FILE
    jada-sandbox down
    jada-sandbox status
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from jada_checks.sandbox.hostdir import HostDirError
from jada_checks.sandbox.machines import SandboxError
from jada_checks.sandbox.sandbox import Sandbox, exclusive


def _host(spec: str) -> tuple[str, str]:
    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"{spec!r}: expected NAME=DIR")
    return name, path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="jada-sandbox", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="boot hosts (clearing any stale sandbox first)")
    up.add_argument("--host", type=_host, action="append", required=True, metavar="NAME=DIR")
    up.add_argument("--profile-out", type=Path, required=True, metavar="FILE")
    up.add_argument("--expect", type=Path, metavar="FILE",
                    help="expectations for the profile (default: sandbox/expect.yaml)")
    sub.add_parser("down", help="remove every process, mount, namespace and link")
    sub.add_parser("status", help="list the running hosts")
    args = ap.parse_args(argv)
    sb = Sandbox()
    with exclusive():
        return _dispatch(args, sb, ap)


def _dispatch(args: argparse.Namespace, sb: Sandbox, ap: argparse.ArgumentParser) -> int:
    try:
        if args.cmd == "up":
            hosts = dict(args.host)
            if len(hosts) != len(args.host):
                ap.error("a host name is given twice")
            start = time.monotonic()
            profile = sb.up(hosts, args.profile_out, args.expect)
            for name, m in sb.machines().items():
                print(f"{name:<24} {m.address:<15} pid {m.init_pid}")
            if sb.endpoint_url:
                print(f"lightsail endpoint      {sb.endpoint_url}")
            print(f"profile: {profile}  ({time.monotonic() - start:.1f} s)")
        elif args.cmd == "down":
            removed = sb.down()
            print(f"removed: {', '.join(removed) if removed else 'nothing'}")
        else:
            for name, m in sb.machines().items():
                print(f"{name:<24} {m.address:<15} pid {m.init_pid}")
    except (SandboxError, HostDirError) as exc:
        print(f"jada-sandbox: {exc}", file=sys.stderr)
        if args.cmd == "up":
            sb.down(quiet=True)
        return 1
    except KeyboardInterrupt:
        sb.down(quiet=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
