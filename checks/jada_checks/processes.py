"""Local processes started from threads, each with an environment of its own.

``subprocess.Popen(env=None)`` lets the child exec with the C library's ``environ``.
CPython starts children with vfork on Linux and lets other threads run while it waits
for the exec (seen on 3.11.7 and 3.12; 3.10 holds the GIL across vfork: gh-104372). A
thread that changes ``os.environ`` at that moment (glibc's unsetenv shifts the array in
place, setenv may move it) changes the array the kernel is reading: execve fails with
EFAULT ("Bad address"). pytest sets and deletes ``PYTEST_CURRENT_TEST`` around every
test phase, in the thread that runs the tests, while the fact threads start ssh and the
sandbox thread boots hosts. Seen in 1 of 7 fleet runs as "cannot run the OpenSSH client
'ssh' on this machine: Bad address"; ``tests/test_processes.py`` provokes it. With
``env=`` a dict, Popen builds the child's environment in the parent, from Python's own
copy, before the child starts.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from typing import Any


def environment() -> dict[str, str]:
    """This process's environment now, as a new dict. Another thread may delete a
    variable between the copy's snapshot of the names and its read of the value
    (os._Environ lists its keys first): KeyError, then copy again."""
    while True:
        try:
            return dict(os.environ)
        except KeyError:
            continue


def popen(argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """subprocess.Popen with ``env`` defaulting to a copy of this process's environment."""
    if kwargs.get("env") is None:
        kwargs["env"] = environment()
    return subprocess.Popen(argv, **kwargs)


def run(argv: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """subprocess.run with ``env`` defaulting to a copy of this process's environment."""
    if kwargs.get("env") is None:
        kwargs["env"] = environment()
    return subprocess.run(argv, **kwargs)  # noqa: PLW1510 - the caller's check= stands
