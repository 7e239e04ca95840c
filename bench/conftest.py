"""Instrumentation for the naive baseline: count its remote commands (the bench reads the
SSH logins each host accepted from the host's own sshd journal)."""

import json
import os

import testinfra.backend.paramiko as paramiko_backend
import testinfra.backend.ssh as ssh_backend

COUNTS = {"commands": 0}


def counted(run):
    def counted_run(self, command, *args, **kwargs):
        COUNTS["commands"] += 1
        return run(self, command, *args, **kwargs)
    return counted_run


ssh_backend.SshBackend.run = counted(ssh_backend.SshBackend.run)
paramiko_backend.ParamikoBackend.run = counted(paramiko_backend.ParamikoBackend.run)


def pytest_sessionfinish(session):
    path = os.environ.get("JADA_NAIVE_STATS")
    if path:
        with open(path, "w") as fh:
            json.dump(COUNTS, fh)
