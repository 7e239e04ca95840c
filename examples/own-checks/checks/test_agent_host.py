"""ACME's own checks of a jada-agent host, run by jada-checks beside its controls.

Each test runs once per target of the profile (``test_name[target]``), over the suite's
own SSH connection to it (``host``, a ``testinfra.host.Host``), with the profile's target
(``target``) and a Lightsail client made as the suite makes its own (``lightsail``).
``pytest.mark.jada`` gives a test its id and severity in the reports and the gate.
"""

import pytest

AGENT = "jada-agent.service"


@pytest.mark.jada(id="ACME-AGENT-01", severity="critical",
                  title="The agent service is running",
                  remediation="systemctl start jada-agent.service")
def test_agent_is_running(host):
    assert host.service(AGENT).is_running


@pytest.mark.jada(id="ACME-AGENT-02", severity="high",
                  title="The agent runs as its own user, not root",
                  remediation="set User=jada in a drop-in of jada-agent.service, "
                              "then systemctl daemon-reload && systemctl restart jada-agent")
def test_agent_is_not_root(host):
    user = host.service(AGENT).systemd_properties.get("User", "")
    assert user not in ("", "root"), f"{AGENT} runs as {user or 'root (no User=)'}"


@pytest.mark.jada(id="ACME-NET-01", severity="medium")
def test_listen_queue_fits_the_profile(host, target):
    """net.core.somaxconn is at least the profile's somaxconn_min."""
    assert host.sysctl("net.core.somaxconn") >= target.expect["somaxconn_min"]


@pytest.mark.jada(id="ACME-LS-01", severity="high", title="The instance is running")
def test_instance_is_running(target, lightsail):
    answer = lightsail.get_instance(instanceName=target.lightsail["instance"])
    assert answer["instance"]["state"]["name"] == "running"


def test_sshd_is_enabled(host):
    """Without a jada mark: the id is this test's node id, the severity medium."""
    assert host.service("ssh.service").is_enabled
