"""The naive baseline for ``make bench``: the same facts, the straightforward Testinfra way.

One remote command per fact, through Testinfra's stock fixtures (``--hosts``), as a
hand-written Testinfra suite would do it. Never part of the suite; only measured.
"""

UNIT = "jada-agent.service"


def test_unit(host):
    svc = host.service(UNIT)
    assert svc.is_running
    assert svc.is_enabled
    for prop in ("Restart", "NRestarts", "User", "LimitNOFILE", "LimitNPROC", "TasksMax",
                 "StandardOutput", "WorkingDirectory", "ExecStart"):
        assert host.run(f"systemctl show -p {prop} --value {UNIT}").rc == 0


def test_descriptors(host):
    pid = host.run(f"systemctl show -p MainPID --value {UNIT}").stdout.strip()
    assert "Max open files" in host.file(f"/proc/{pid}/limits").content_string
    assert host.run(f"ls /proc/{pid}/fd | wc -l").rc == 0
    assert host.run(f"pgrep -P {pid}").rc in (0, 1)
    for key in ("fs.nr_open", "fs.file-max", "fs.file-nr"):
        assert host.sysctl(key) is not None


def test_login_limits(host):
    assert host.file("/etc/security/limits.conf").exists
    for name in host.file("/etc/security/limits.d").listdir():
        assert host.file(f"/etc/security/limits.d/{name}").content_string is not None
    assert host.run("ulimit -Sn").rc == 0
    assert host.run("ulimit -Hn").rc == 0


def test_network(host):
    for key in ("net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog"):
        assert host.sysctl(key) is not None
    for name in host.file("/etc/sysctl.d").listdir():
        assert host.file(f"/etc/sysctl.d/{name}").exists
    assert host.run("ss -lnt").rc == 0


def test_settings(host):
    user = host.run(f"systemctl show -p User --value {UNIT}").stdout.strip()
    home = host.user(user).home
    assert host.file(f"{home}/.claude/settings.json").content_string is not None
    assert host.file("/etc/claude-code/managed-settings.json").exists in (True, False)
    assert host.run(f"journalctl -u {UNIT} --since -60min -o cat | grep -c 'open files'").rc \
        in (0, 1)
