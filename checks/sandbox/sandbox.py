"""A sandbox: a set of booted hosts, their SSH key and known_hosts, the local Lightsail
endpoint, and the profile that points the suite at all of it.

Only one sandbox exists at a time (its state lives in ``JADA_SANDBOX_DIR``, default
``/var/tmp/jada-sandbox``); ``up`` first clears whatever a crashed run left behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from jada_checks.sandbox import lightsail_records
from jada_checks.sandbox.hostdir import HostDir, load_hostdir
from jada_checks.sandbox.lightsail_endpoint import endpoint_command
from jada_checks.sandbox.machines import (
    Machine,
    SandboxError,
    apply_runtime_sysctls,
    launch,
    prepare,
    run,
    stop_all,
    unmount_and_remove,
    wire,
)

DEFAULT_DIR = "/var/tmp/jada-sandbox"
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")
REPO = Path(__file__).resolve().parents[2]
BOOT_TIMEOUT = 60.0
BOOT_BATCH = 6


LOCK_FILE = Path("/var/tmp/jada-sandbox.lock")
# The local endpoint checks no signatures, but boto3 needs credentials to sign with.
SANDBOX_AWS_ENV = {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox-secret",
                   "AWS_EC2_METADATA_DISABLED": "true"}
_HELD: list[bool] = []


def state_dir() -> Path:
    return Path(os.environ.get("JADA_SANDBOX_DIR", DEFAULT_DIR))


@contextmanager
def exclusive() -> Iterator[None]:
    """Hold the machine-wide sandbox lock: sandboxes share one address range and link
    names, so a second one waits for the first instead of tearing it down."""
    if _HELD:
        raise SandboxError("this process already holds the sandbox (a second up would tear "
                           "the first one down): use the running sandbox instead")
    with open(LOCK_FILE, "a") as fd:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _HELD.append(True)
        try:
            yield
        finally:
            _HELD.clear()
            fcntl.flock(fd, fcntl.LOCK_UN)


class Sandbox:
    def __init__(self, base: Path | None = None) -> None:
        self.base = base or state_dir()
        self.key = self.base / "id_ed25519"
        self.known_hosts = self.base / "known_hosts"
        self.state_file = self.base / "state.json"

    # -- state -------------------------------------------------------------------------
    def machines(self) -> dict[str, Machine]:
        if not self.state_file.exists():
            return {}
        data = json.loads(self.state_file.read_text())
        return {m["name"]: Machine(**m) for m in data.get("machines", [])}

    def _state(self) -> dict[str, Any]:
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else {}

    def _save(self, machines: dict[str, Machine], **extra: Any) -> None:
        state = self._state()
        state.update(extra)
        state["machines"] = [m.to_json() for m in machines.values()]
        self.state_file.write_text(json.dumps(state, indent=2))

    @property
    def endpoint_url(self) -> str | None:
        return self._state().get("endpoint_url")

    def address(self, name: str) -> str:
        return self.machines()[name].address

    # -- up / down -----------------------------------------------------------------------
    def up(self, hosts: dict[str, str | Path], profile_out: Path | None = None,
           expect_file: Path | None = None) -> Path:
        """Boot every host, start the endpoint, write the profile; return its path."""
        for name in hosts:
            if not NAME.match(name):
                raise SandboxError(f"host name {name!r}: use lower-case letters, digits and "
                                   "'-', at most 31 characters")
        if len(hosts) > 250:
            raise SandboxError("at most 250 hosts")
        dirs = {name: load_hostdir(name, d) for name, d in hosts.items()}
        for hd in dirs.values():
            hd.runtime_sysctls()  # validate before booting anything
        self.down(quiet=True)
        raise_inotify_limit(len(hosts))
        self.base.mkdir(parents=True, exist_ok=True)
        for old in (self.key, self.key.with_suffix(".pub")):
            old.unlink(missing_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "jada-sandbox",
             "-f", str(self.key)])
        pubkey = (self.key.with_suffix(".pub")).read_text()
        machines = {name: Machine(name, i + 1, str(self.base / "hosts" / name))
                    for i, name in enumerate(sorted(dirs))}
        self._save(machines, hostdirs={n: str(Path(d).resolve()) for n, d in hosts.items()})
        with ThreadPoolExecutor(max_workers=4) as pool:
            keys = dict(zip(machines, pool.map(
                lambda n: prepare(machines[n], dirs[n], pubkey), machines), strict=True))
        self.known_hosts.write_text("".join(
            f"{m.address} ssh-ed25519 {keys[n]}\n" for n, m in machines.items()))
        batch = list(machines.values())
        while batch:  # boot in small batches: two cores cannot boot dozens at once
            now, batch = batch[:BOOT_BATCH], batch[BOOT_BATCH:]
            for m in now:
                launch(m)
                self._save(machines)
                wire(m)
            with ThreadPoolExecutor(max_workers=BOOT_BATCH) as pool:
                list(pool.map(self._wait_ready, now))
        for n, m in machines.items():
            apply_runtime_sysctls(m, dirs[n].runtime_sysctls())
        endpoint = self._start_endpoint(machines, dirs)
        self._save(machines, endpoint_url=endpoint)
        return self.write_profile(list(machines), profile_out or self.base / "profile.yaml",
                                  expect_file)

    def _wait_ready(self, m: Machine) -> None:
        deadline = time.monotonic() + BOOT_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            res = self.ssh_raw(m.address, "systemctl is-system-running --wait",
                               timeout=max(1.0, deadline - time.monotonic()))
            state = res.stdout.strip()
            if state in ("running", "degraded"):
                return
            last = (res.stderr.strip() or state)[-200:]
            time.sleep(0.3)
        raise SandboxError(f"{m.name}: not ready within {BOOT_TIMEOUT:.0f} s ({last}); "
                           f"see {m.dir}/console.log")

    def _start_endpoint(self, machines: dict[str, Machine],
                        dirs: dict[str, HostDir]) -> str | None:
        records = lightsail_records.collect(
            {n: (dirs[n], machines[n].address) for n in machines})
        if not records:
            return None
        records_file = self.base / "lightsail-records.json"
        records_file.write_text(json.dumps(records, indent=2))
        port_file = self.base / "lightsail.port"
        port_file.unlink(missing_ok=True)
        log = open(self.base / "lightsail.log", "wb")  # noqa: SIM115 - kept by the child
        proc = subprocess.Popen(endpoint_command(records_file, port_file),
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=REPO)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if port_file.exists() and port_file.read_text().strip():
                self._save(machines, endpoint_pid=proc.pid)
                return f"http://127.0.0.1:{port_file.read_text().strip()}"
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        raise SandboxError(f"the local Lightsail endpoint did not start; see "
                           f"{self.base}/lightsail.log")

    def write_profile(self, names: list[str], path: Path,
                      expect_file: Path | None = None) -> Path:
        """A profile for some of this sandbox's hosts (all targets share the sandbox key)."""
        machines = self.machines()
        expect_file = expect_file or REPO / "sandbox" / "expect.yaml"
        expect = yaml.safe_load(expect_file.read_text()) or {}
        records = self._state().get("endpoint_url")
        targets = []
        for name in names:
            m = machines[name]
            hd = load_hostdir(name, self._hostdir_of(name))
            t: dict[str, Any] = {"name": name, "ssh": {
                "host": m.address, "user": "root", "identity_file": str(self.key),
                "known_hosts": str(self.known_hosts), "connect_timeout": 3,
                "command_timeout": 20}}
            inst = lightsail_records.instance_of(hd, name)
            if inst and records:
                t["lightsail"] = {"instance": inst[0], "region": inst[1]}
            if hd.expect():
                t["expect"] = hd.expect()
            targets.append(t)
        profile: dict[str, Any] = {"version": 1, "expect": expect, "targets": targets}
        if records:
            profile["aws"] = {"endpoint_url": records, "connect_timeout": 2,
                              "read_timeout": 5, "max_attempts": 3}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# Written by jada-sandbox up; points at sandbox hosts only.\n"
                        + yaml.safe_dump(profile, sort_keys=False))
        return path

    def _hostdir_of(self, name: str) -> Path:
        return Path(self._state().get("hostdirs", {}).get(name, ""))

    def down(self, quiet: bool = False) -> list[str]:
        """Remove every process, mount and link of the sandbox, stale ones included."""
        removed = []
        machines = self.machines()
        logs = self.base / "logs"
        for m in machines.values():
            console = Path(m.dir) / "console.log"
            if console.exists():  # keep boot logs for diagnosis after the hosts are gone
                logs.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(console, logs / f"{m.name}.console.log")
            removed.append(m.name)
        stop_all(list(machines.values()))
        pid = self._state().get("endpoint_pid")
        if pid:
            try:
                os.killpg(pid, signal.SIGTERM)
            except OSError:
                pass
        removed += self._sweep_stale()
        if self.state_file.exists():
            self.state_file.unlink()
        return removed

    def _sweep_stale(self) -> list[str]:
        """After a crash: nspawn processes, overlays and links under our names."""
        found = []
        hosts_dir = str(self.base / "hosts")
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            text = [a.decode(errors="replace") for a in argv]
            if text and text[0].endswith("systemd-nspawn") and any(
                    a.startswith(hosts_dir) for a in text):
                found.append(f"nspawn pid {proc.name}")
                for kid in _kids(int(proc.name)):
                    _kill(kid)
                _kill(int(proc.name))
            elif any("jada_checks.sandbox.lightsail_endpoint" in a for a in text) and any(
                    str(self.base) in a for a in text):
                found.append(f"endpoint pid {proc.name}")
                _kill(int(proc.name))
        for line in Path("/proc/mounts").read_text().splitlines():
            mnt = line.split()[1]
            if mnt.startswith(hosts_dir):
                found.append(f"mount {mnt}")
        for mnt in sorted({ln.split()[1] for ln in Path("/proc/mounts").read_text()
                          .splitlines() if ln.split()[1].startswith(hosts_dir)}, reverse=True):
            subprocess.run(["umount", "-l", mnt], capture_output=True)
        links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True)
        for link in re.findall(r"^\d+: (jsb\d+)[@:]", links.stdout, re.M):
            found.append(f"link {link}")
            subprocess.run(["ip", "link", "del", link], capture_output=True)
        if Path(hosts_dir).exists():
            for d in Path(hosts_dir).iterdir():
                unmount_and_remove(d)
        return found

    # -- access --------------------------------------------------------------------------
    def ssh_raw(self, address: str, command: str, timeout: float = 30,
                user: str = "root") -> subprocess.CompletedProcess:
        argv = ["ssh", "-i", str(self.key), "-o", f"UserKnownHostsFile={self.known_hosts}",
                "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "ConnectTimeout=2", "-o", "LogLevel=ERROR", f"{user}@{address}", command]
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(argv, 124, "", "timed out")

    def exec(self, name: str, command: str, timeout: float = 30) -> str:
        """Run a command inside a host without SSH (all its namespaces), e.g. to restart
        sshd after a test stopped it; stdout."""
        m = self.machines()[name]
        res = subprocess.run(["nsenter", "-t", str(m.init_pid), "-a", "sh", "-c", command],
                             capture_output=True, text=True, timeout=timeout)
        if res.returncode != 0:
            raise SandboxError(f"{name}: {command!r} exited {res.returncode}: "
                               f"{res.stderr.strip()[-300:]}")
        return res.stdout

    def link(self, name: str) -> str:
        """This machine's end of the host's veth pair (down = the host is unreachable)."""
        return self.machines()[name].link

    def upper(self, name: str) -> Path:
        """The host's overlay upper layer: everything the host ever wrote."""
        return Path(self.machines()[name].dir) / "upper"

    def ssh(self, name: str, command: str, timeout: float = 30) -> str:
        """Run a command on a host as root (for self-tests that change a host); stdout."""
        res = self.ssh_raw(self.address(name), command, timeout)
        if res.returncode != 0:
            raise SandboxError(f"{name}: {command!r} exited {res.returncode}: "
                               f"{res.stderr.strip()[-300:]}")
        return res.stdout


def raise_inotify_limit(hosts: int) -> None:
    """Each host's systemd holds several inotify instances, and the kernel's default of
    128 per user runs out at about 30 hosts (nspawn then fails with EMFILE)."""
    path = Path("/proc/sys/fs/inotify/max_user_instances")
    want = 128 + 32 * hosts
    if int(path.read_text()) < want:
        path.write_text(str(want))


def _kids(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
