"""``make bench``'s user module: 40 Testinfra calls against a sandbox ``compliant`` host.

What a deployment's own checks look like (README, "Writing your own checks"): files,
packages, services, sockets, users, sysctls and commands, one Testinfra call each (a call
is one or more remote commands: Testinfra asks some things first, e.g. which service
manager runs). Only the ``host`` fixture, so the same module runs in the suite (its
``host`` over the target's one login) and in plain Testinfra (``--hosts``). Never part of
the suite; only measured.
"""

UNIT = "jada-agent.service"


def test_files(host):  # 8 calls
    assert host.file("/etc/passwd").user == "root"
    assert host.file("/etc/passwd").mode == 0o644
    assert host.file("/etc/shadow").group == "shadow"
    assert host.file("/etc/shadow").mode == 0o640
    assert host.file("/etc/ssh/sshd_config").is_file
    assert host.file(f"/etc/systemd/system/{UNIT}").contains("^ExecStart=")
    assert host.file("/etc/sysctl.d/60-jada.conf").contains("somaxconn")
    assert host.file("/etc/security/limits.d/60-jada.conf").exists


def test_directories(host):  # 4 calls
    assert host.file("/srv/jada").is_directory
    assert "README" in host.file("/srv/jada").listdir()
    assert host.file("/home/jada/.claude").is_directory
    assert host.file("/etc/jada/health.json").size > 0


def test_packages(host):  # 6 calls
    for name in ("openssh-server", "systemd", "bash", "coreutils", "procps", "iproute2"):
        assert host.package(name).is_installed, name


def test_services(host):  # 6 calls
    assert host.service(UNIT).is_running
    assert host.service(UNIT).is_enabled
    assert host.service("ssh").is_running
    assert host.service("ssh").is_enabled
    assert host.service("systemd-journald").is_running
    assert not host.service("cron").is_running


def test_sockets(host):  # 3 calls
    assert host.socket("tcp://0.0.0.0:22").is_listening
    assert host.socket("tcp://0.0.0.0:7070").is_listening
    assert not host.socket("tcp://0.0.0.0:80").is_listening


def test_users_and_groups(host):  # 5 calls
    assert host.user("jada").exists
    assert host.user("jada").shell == "/bin/sh"
    assert host.user("root").uid == 0
    assert host.group("jada").exists
    assert host.group("shadow").exists


def test_kernel(host):  # 3 calls
    assert host.sysctl("net.core.somaxconn") >= 4096
    assert host.sysctl("net.ipv4.tcp_max_syn_backlog") >= 4096
    assert host.sysctl("fs.file-max") > 0


def test_commands(host):  # 5 calls
    assert host.run("systemctl show -p User --value " + UNIT).stdout.strip() == "jada"
    pid = host.check_output("systemctl show -p MainPID --value " + UNIT)
    assert int(pid) > 0
    assert "Max open files" in host.check_output(f"cat /proc/{pid}/limits")
    assert host.run("journalctl -u " + UNIT + " -n 1 -o cat").rc == 0
    assert host.exists("openssl")
