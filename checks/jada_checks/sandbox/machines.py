"""Booting and removing sandbox hosts: systemd-nspawn over overlayfs, one netns each.

Each host is real systemd as PID 1 with a real OpenSSH server. The root is an overlay
whose lower layer is this machine's ``/`` and whose upper layer is the host's own, so a
host costs only what it changes. ``--private-network`` gives it its own network
namespace (with a writable ``/proc/sys/net``, so ``systemd-sysctl`` applies persisted
sysctls at boot); one end of a veth pair is moved in to reach it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jada_checks import processes
from jada_checks.sandbox import claude_code
from jada_checks.sandbox.hostdir import HostDir

# Units of this machine that a test host does not need: everything enabled in
# multi-user.target.wants except sshd, plus units that would fight over the network.
KEEP_ENABLED = {"ssh.service", "jada-agent.service"}
ALWAYS_MASK = ("systemd-networkd.service", "systemd-resolved.service",
               "systemd-timesyncd.service", "networking.service", "apt-daily.timer",
               "apt-daily-upgrade.timer", "man-db.timer", "e2scrub_all.timer",
               "fstrim.timer", "logrotate.timer", "dpkg-db-backup.timer")
# Host slot i (1..16383, leased machine-wide: see leases.py) is the /30 block
# 10.231.(i // 64).(i % 64 * 4): .1 on this side, .2 in the host.
SUBNET = "10.231"


class SandboxError(Exception):
    """Booting or reaching a host failed; the message says which and why."""


@dataclass
class Machine:
    name: str
    index: int
    dir: str
    nspawn_pid: int = 0
    init_pid: int = 0
    lower: str = "/"  # the base tree (bases.py): this machine's root, or another release
    cgroups: list[str] = field(default_factory=list)  # its own (own_cgroup_dirs), once booted

    @property
    def address(self) -> str:
        return self._ip(2)

    @property
    def gateway(self) -> str:
        return self._ip(1)

    def _ip(self, host: int) -> str:
        return f"{SUBNET}.{self.index >> 6}.{(self.index & 63) * 4 + host}"

    @property
    def link(self) -> str:
        return f"jsb{self.index}"

    @property
    def root(self) -> Path:
        return Path(self.dir) / "merged"

    def to_json(self) -> dict:
        return asdict(self)


def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    res = processes.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        raise SandboxError(f"{' '.join(cmd[:4])}...: {res.stderr.strip()[-300:]}")
    return res


def prepare(m: Machine, hostdir: HostDir, pubkey: str) -> str:
    """Mount the overlay and lay the host's files; return its ed25519 host public key."""
    base = Path(m.dir)
    for sub in ("upper", "work", "merged"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    run(["mount", "-t", "overlay", "overlay", "-o",
         f"lowerdir={m.lower},upperdir={base}/upper,workdir={base}/work", str(m.root)])
    root = m.root
    units = root / "etc/systemd/system"
    for wants in (units / "multi-user.target.wants").glob("*"):
        if wants.name not in KEEP_ENABLED:
            wants.unlink()
    for unit in ALWAYS_MASK:
        (units / unit).unlink(missing_ok=True)
        (units / unit).symlink_to("/dev/null")
    stock_root_dotfiles(root)
    for layer in hostdir.rootfs_layers:
        run(["cp", "-a", "--no-preserve=ownership", f"{layer}/.", str(root)])
    if hostdir.claude_code:  # the real CLI over the stand-in (or a note saying why not)
        claude_code.install(root, hostdir.claude_code)
    (root / "etc/hostname").write_text(m.name + "\n")
    # sudo resolves its own host name (and stalls or warns when it cannot).
    (root / "etc/hosts").write_text(f"127.0.0.1\tlocalhost\n127.0.1.1\t{m.name}\n"
                                    "::1\tlocalhost ip6-localhost ip6-loopback\n")
    ssh = root / "etc/ssh"
    for key in ssh.glob("ssh_host_*"):
        key.unlink()
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", m.name,
         "-f", str(ssh / "ssh_host_ed25519_key")])
    (ssh / "sshd_config.d").mkdir(exist_ok=True)
    (ssh / "sshd_config.d/00-jada-sandbox.conf").write_text(
        "HostKey /etc/ssh/ssh_host_ed25519_key\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nUseDNS no\n")
    dot_ssh = root / "root/.ssh"
    dot_ssh.mkdir(mode=0o700, exist_ok=True)
    (dot_ssh / "authorized_keys").write_text(pubkey)
    os.chmod(dot_ssh / "authorized_keys", 0o600)
    run(["systemd-sysusers", f"--root={root}"])
    for user in hostdir.ssh_users:
        authorize(root, user, pubkey)
    for script in hostdir.prepare_scripts:
        run(["bash", str(script)], cwd=root)
    return (ssh / "ssh_host_ed25519_key.pub").read_text().split()[1]


# What Debian puts in root's home: base-files' postinst copies these two (cp -p) when they
# are missing ("install_from_default dot.profile /root/.profile", "... dot.bashrc
# /root/.bashrc"), from the release's own /usr/share/base-files.
STOCK_ROOT_DOTFILES = {".profile": "dot.profile", ".bashrc": "dot.bashrc"}
# bash reads these before or besides ~/.profile (bash(1), INVOCATION); Debian installs none
# for root, so a host has none either, whatever this machine's /root holds.
NOT_STOCK_ROOT_DOTFILES = (".bash_profile", ".bash_login", ".bash_logout")


def stock_root_dotfiles(root: Path) -> None:
    """Give the host's root a stock Debian shell start-up, not this machine's: a host over
    this machine's ``/`` would run its /root/.bashrc (a developer's pyenv and cargo set-up,
    about 0.1 s of CPU) at every root login, which no real Debian host does. Written in
    the host's upper layer only; a host directory's rootfs may still bring its own."""
    home = root / "root"
    home.mkdir(mode=0o700, exist_ok=True)
    for name, stock in STOCK_ROOT_DOTFILES.items():
        src = root / "usr/share/base-files" / stock
        if src.is_file():
            (home / name).unlink(missing_ok=True)
            shutil.copy2(src, home / name)
            os.chown(home / name, 0, 0)
    for name in NOT_STOCK_ROOT_DOTFILES:
        (home / name).unlink(missing_ok=True)  # a whiteout in the upper layer


def authorize(root: Path, user: str, pubkey: str) -> None:
    """Let a non-root user of the host log in with the sandbox key (least-privilege runs).
    Before boot the host's names mean nothing here: owners are set by number from its
    passwd, which systemd-sysusers --root has just written."""
    for line in (root / "etc/passwd").read_text().splitlines():
        f = line.split(":")
        if len(f) >= 7 and f[0] == user:
            uid, gid, home = int(f[2]), int(f[3]), f[5]
            break
    else:
        raise SandboxError(f"ssh-users: {user!r} is not in the host's passwd (add it to "
                           "rootfs/etc/sysusers.d/)")
    if not home.startswith("/") or home == "/":
        raise SandboxError(f"ssh-users: {user!r} has no home directory ({home!r})")
    home_dir = root / home.lstrip("/")
    dot_ssh = home_dir / ".ssh"
    dot_ssh.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys = dot_ssh / "authorized_keys"
    keys.write_text(pubkey)
    os.chmod(keys, 0o600)
    os.chmod(dot_ssh, 0o700)
    for path in (home_dir, dot_ssh, keys):
        os.chown(path, uid, gid)


def launch(m: Machine) -> None:
    """Start systemd-nspawn in the background, in the host's own cgroups, and find the
    host's PID 1."""
    m.cgroups = make_own_cgroups(m)
    # sh joins them and execs nspawn (the same pid): a preexec_fn is unsafe here, the
    # hosts are started from threads (subprocess docs).
    join = ('while [ "$1" != -- ]; do echo $$ 2>/dev/null > "$1/cgroup.procs" || '
            '{ echo "cannot join the cgroup $1" >&2; exit 125; }; shift; done; '
            'shift; exec "$@"')
    with open(Path(m.dir) / "console.log", "wb") as log:  # the child keeps its own fd
        proc = processes.popen(
            ["sh", "-c", join, "jada-join-cgroups", *m.cgroups, "--",
             "systemd-nspawn", "-D", str(m.root), "-b", "--register=no", "--keep-unit",
             "--link-journal=no", "--private-network", "-M", m.name, "--console=read-only"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    m.nspawn_pid = proc.pid
    deadline = time.monotonic() + 15
    own_netns = os.readlink("/proc/self/ns/net")
    while time.monotonic() < deadline:
        for kid in _children(proc.pid):
            if _is_container_init(kid, own_netns):
                m.init_pid = kid
                return
        if proc.poll() is not None:
            what = ("joining its own cgroups failed" if proc.returncode == 125 else
                    f"systemd-nspawn exited ({proc.returncode})")
            raise SandboxError(f"{m.name}: {what}; see {m.dir}/console.log")
        time.sleep(0.05)
    raise SandboxError(f"{m.name}: systemd-nspawn started no init within 15 s")


# The hierarchies systemd tracks units by (src/basic/cgroup-util.c): cgroup2 at
# /sys/fs/cgroup (unified), else cgroup v1's named one and, on a hybrid machine such as
# this one, the cgroup2 one beside it at .../unified.
UNIFIED = "/sys/fs/cgroup"
HYBRID = ("/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified")


def own_cgroup_dirs(m: Machine, proc_cgroup: str | None = None) -> list[Path]:
    """The host's own cgroup in each tracking hierarchy: jada-sandbox/<sandbox>/<host>
    below the cgroup the starting process is in (``proc_cgroup``: its /proc/self/cgroup),
    so stopping the runner's own unit (a CI job's scope) still stops its hosts.
    Why: nspawn --keep-unit runs a host in its starter's cgroup, so hosts started from one
    cgroup built their units in the same directories (each host's jada-agent.service
    cgroup held the others' child cgroups, and a unit's stop waited on the other hosts'
    processes, which it cannot kill: "Failed to kill control group ...: Input/output
    error"; a root user@0.service stop hung for its 120 s timeout, with every root login
    of that host). A host with a tree of its own sees only its own, as a real machine
    does."""
    if proc_cgroup is None:
        proc_cgroup = Path("/proc/self/cgroup").read_text()
    own = {}
    for line in proc_cgroup.splitlines():
        _, controllers, path = line.split(":", 2)
        own[controllers] = path
    if Path(UNIFIED, "cgroup.controllers").is_file():
        mounts = [(UNIFIED, own.get("", "/"))]
    else:
        mounts = [(HYBRID[0], own.get("name=systemd", "/")), (HYBRID[1], own.get("", "/"))]
    sandbox = Path(m.dir).parent.parent.name
    return [Path(mount + path.rstrip("/")) / "jada-sandbox" / sandbox / m.name
            for mount, path in mounts if Path(mount, "cgroup.procs").is_file()]


def make_own_cgroups(m: Machine) -> list[str]:
    """Create the host's cgroups; a leftover of an earlier run that still holds processes
    (its starter crashed) is refused, never shared."""
    dirs = own_cgroup_dirs(m)
    if not dirs:
        raise SandboxError(f"{m.name}: no cgroup hierarchy that systemd tracks units by "
                           f"under /sys/fs/cgroup (neither {UNIFIED} as cgroup2 nor "
                           f"{HYBRID[0]}): the host would share its starter's cgroups")
    for d in dirs:
        for procs in d.rglob("cgroup.procs"):
            if procs.read_text().strip():
                raise SandboxError(f"{m.name}: its cgroup {procs.parent} still holds "
                                   "processes of an earlier sandbox (its runner did not "
                                   "take it down): run 'jada-sandbox down' for it, or "
                                   "kill them, then boot again")
        d.mkdir(parents=True, exist_ok=True)
    return [str(d) for d in dirs]


def remove_own_cgroups(machines: list[Machine], wait: float = 5.0) -> None:
    """Remove the hosts' cgroup trees, deepest first, once their processes are gone (a
    killed PID namespace empties within moments), then each sandbox's, if empty. Best
    effort, one deadline for all: an empty cgroup left behind holds nothing."""
    deadline = time.monotonic() + wait
    tops = [Path(d) for m in machines for d in m.cgroups]
    while True:
        for top in tops:
            if top.is_dir():
                for d in sorted((p for p in top.rglob("*") if p.is_dir()),
                                key=lambda p: len(p.parts), reverse=True) + [top]:
                    try:
                        d.rmdir()
                    except OSError:
                        pass
        if not any(t.is_dir() for t in tops) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for parent in {t.parent for t in tops}:
        try:
            parent.rmdir()
        except OSError:
            pass  # another host of the sandbox still runs, or a process lingers


def _is_container_init(pid: int, own_netns: str) -> bool:
    """nspawn forks helpers before the host's init: wait for systemd in its own netns."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        netns = os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return False
    return comm == "systemd" and netns != own_netns


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def wire(m: Machine) -> None:
    """Move one end of a veth pair into the host's netns and address both ends."""
    peer = f"{m.link}c"
    run(["ip", "link", "add", m.link, "type", "veth", "peer", "name", peer])
    run(["ip", "link", "set", peer, "netns", str(m.init_pid)])
    run(["ip", "addr", "add", f"{m.gateway}/30", "dev", m.link])
    run(["ip", "link", "set", m.link, "up"])
    ns = ["nsenter", "-t", str(m.init_pid), "-n"]
    run(ns + ["ip", "link", "set", peer, "name", "eth0"])
    run(ns + ["ip", "addr", "add", f"{m.address}/30", "dev", "eth0"])
    run(ns + ["ip", "link", "set", "eth0", "up"])
    run(ns + ["ip", "link", "set", "lo", "up"])


def apply_runtime_sysctls(m: Machine, values: dict[str, str]) -> None:
    """Drift between runtime and disk: write net.* sysctls in the host's netns only."""
    for key, value in values.items():
        run(["nsenter", "-t", str(m.init_pid), "-n", "sysctl", "-q", "-w", f"{key}={value}"])


def stop_all(machines: list[Machine], grace: float = 3.0) -> None:
    """Power hosts off together (SIGTERM to nspawn), kill what is left after ``grace``
    seconds (they are throwaway: no state to save), unmount and remove them."""
    for m in machines:
        _signal(m.nspawn_pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(m.nspawn_pid) for m in machines):
        time.sleep(0.1)
    for m in machines:
        for pid in (m.init_pid, m.nspawn_pid):
            _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(m.nspawn_pid) for m in machines):
        time.sleep(0.05)
    for m in machines:
        unmount_and_remove(Path(m.dir))
        processes.run(["ip", "link", "del", m.link], capture_output=True)
    remove_own_cgroups(machines)


def unmount_and_remove(base: Path) -> None:
    merged = base / "merged"
    if os.path.ismount(merged):
        if processes.run(["umount", str(merged)], capture_output=True).returncode != 0:
            processes.run(["umount", "-l", str(merged)], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Running (not exited, not a zombie); reaps our own exited children."""
    if pid <= 0:
        return False
    try:
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return False
    except ChildProcessError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _signal(pid: int, sig: int) -> None:
    if pid > 0:
        try:
            os.kill(pid, sig)
        except OSError:
            pass
