"""``make bench``'s small user module: 5 Testinfra calls, run against 2 sandbox hosts (10 in
all), far below the break-even at which ``-n 2`` pays (README, "Speed"): the rows
``own_small_*`` show that ``-n 2`` then starts no worker and costs nothing, and what
splitting it anyway (``jada_calls_per_worker = 0``, as before the rule) would cost."""


def test_passwd(host):
    assert host.file("/etc/passwd").user == "root"


def test_shadow(host):
    assert host.file("/etc/shadow").group == "shadow"


def test_service(host):
    assert host.service("jada-agent.service").is_running


def test_backlog(host):
    assert host.sysctl("net.core.somaxconn") >= 4096


def test_uid(host):
    assert host.run("id -u").stdout.strip() == "0"
