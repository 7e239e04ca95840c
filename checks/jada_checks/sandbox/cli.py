"""``jada-sandbox``: boot and remove the sandbox's test hosts.

    jada-sandbox up --host NAME=DIR [--host NAME=DIR ...] --profile-out FILE
                    [--name SANDBOX] [--base RELEASE] [--owner-pid PID | --hold]
    jada-sandbox down [--name SANDBOX]
    jada-sandbox status [--name SANDBOX | --all]

Sandboxes are isolated (own state directory, key, known_hosts, addresses and links), so
two can run at once under different names. A sandbox lasts as long as its owner process,
by default the shell that ran ``up``; the next ``up`` sweeps sandboxes whose owner died.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from jada_checks.cli import plain
from jada_checks.sandbox import bases, leases
from jada_checks.sandbox.hostdir import HostDirError
from jada_checks.sandbox.machines import SandboxError
from jada_checks.sandbox.sandbox import Sandbox


def _host(spec: str) -> tuple[str, str]:
    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"{spec!r}: expected NAME=DIR")
    return name, path


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="jada-sandbox",
                                 description=plain(__doc__.split("\n")[0]))
    sub = ap.add_subparsers(dest="cmd", required=True)
    named = argparse.ArgumentParser(add_help=False)
    named.add_argument("--name", default=os.environ.get("JADA_SANDBOX_NAME", "default"),
                       help="which sandbox (default: $JADA_SANDBOX_NAME or 'default'); its "
                            "state lives in $JADA_SANDBOX_DIR/NAME (/var/tmp/jada-sandbox)")
    up = sub.add_parser("up", parents=[named], help="boot hosts into a new sandbox")
    up.add_argument("--host", type=_host, action="append", required=True, metavar="NAME=DIR",
                    help="boot a host NAME from the host directory DIR (e.g. "
                         "compliant=sandbox/hosts/compliant); repeat for more hosts")
    up.add_argument("--profile-out", type=Path, required=True, metavar="FILE",
                    help="write the profile that checks the booted hosts here (use it "
                         "with pytest --jada-profile FILE)")
    up.add_argument("--expect", type=Path, metavar="FILE",
                    help="expectations for the profile (default: sandbox/expect.yaml of a "
                         "checkout)")
    up.add_argument("--base", choices=bases.choices(), default=bases.HOST_BASE,
                    help="what the hosts run: 'host' (an overlay of this machine's root, "
                         "the default) or a Debian release, built once with debootstrap "
                         f"and cached under {bases.CACHE}")
    owner = up.add_mutually_exclusive_group()
    owner.add_argument("--owner-pid", type=int, metavar="PID",
                       help="the sandbox lasts as long as this process (default: the "
                            "process that ran jada-sandbox, e.g. your shell)")
    owner.add_argument("--hold", action="store_true",
                       help="keep the sandbox until 'jada-sandbox down', whoever started it")
    sub.add_parser("down", parents=[named], help="remove the sandbox's processes, mounts, "
                                                  "links and slots")
    status = sub.add_parser("status", parents=[named], help="list the sandbox's hosts")
    status.add_argument("--all", action="store_true", help="list every sandbox's owner")
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    try:
        sb = Sandbox(args.name)
        if args.cmd == "up":
            return _up(args, sb, ap)
        if args.cmd == "down":
            removed = sb.down()
            print(f"removed: {', '.join(removed) if removed else 'nothing'}")
        elif args.all:
            _status_all()
        else:
            machines = sb.machines()
            for name, m in machines.items():
                print(f"{name:<24} {m.address:<15} pid {m.init_pid}")
            if not machines:
                print(f"sandbox {sb.name!r}: no hosts running (jada-sandbox up --host "
                      "NAME=DIR --profile-out FILE boots some; status --all lists "
                      "every sandbox)")
    except (SandboxError, HostDirError, leases.LeaseError) as exc:
        print(f"jada-sandbox: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _up(args: argparse.Namespace, sb: Sandbox, ap: argparse.ArgumentParser) -> int:
    hosts = dict(args.host)
    if len(hosts) != len(args.host):
        ap.error("a host name is given twice")
    if args.hold:
        owner = None
    else:
        pid = args.owner_pid or os.getppid()
        owner = leases.Owner.of(pid)
        if not owner.alive():
            ap.error(f"--owner-pid {pid}: no such process")
    start = time.monotonic()
    profile = sb.up(hosts, args.profile_out, args.expect, owner=owner, base=args.base)
    for name, m in sb.machines().items():
        print(f"{name:<24} {m.address:<15} pid {m.init_pid}")
    if sb.endpoint_url:
        print(f"lightsail endpoint      {sb.endpoint_url}")
    how = "held until down" if owner is None else f"lasts while pid {owner.pid} runs"
    print(f"sandbox {sb.name!r} ({how}); profile: {profile}  "
          f"({time.monotonic() - start:.1f} s)")
    return 0


def _status_all() -> None:
    with leases.registry_lock():
        found = leases.leases()
    for le in found:
        state = "live" if le.alive() else "stale (owner gone; the next up sweeps it)"
        print(f"{le.state_dir:<40} {len(le.slots):>3} hosts  {state}: {le.whose()}")
    if not found:
        print("no sandboxes")


if __name__ == "__main__":
    sys.exit(main())
