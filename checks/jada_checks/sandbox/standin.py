"""The sandbox's stand-in for the Claude Code CLI: a native executable, as today's CLI is.

Claude Code 2.1.113 and later is a native binary (npm's ``@anthropic-ai/claude-code``
installs its platform package's ``claude`` as ``bin/claude.exe``; the native installer keeps
``~/.local/share/claude/versions/<version>``): no node process runs. The stand-in is the
smallest such program: a static ELF with one loadable segment whose code waits for a
signal forever (``pause(2)`` on x86-64, ``ppoll(2)`` with no descriptors on arm64, where
pause does not exist), whatever its arguments. SIGTERM's default action ends it. No libc,
no interpreter, no file or network access.

``python -m jada_checks.sandbox.standin [ARCH] > FILE`` writes it; the sandbox hosts carry
the x86-64 build (``tests/test_standin.py`` checks that the committed file is this one).
"""

from __future__ import annotations

import platform
import struct
import sys

BASE = 0x400000
HEADERS = 64 + 56  # the ELF header and one program header
# code: wait for a signal, again and again
CODE = {
    # mov eax, 34 (pause); syscall; jmp back to the mov
    "x86_64": (0x3E, bytes.fromhex("b822000000" "0f05" "ebf7")),
    # mov x0..x3, #0; mov x8, #73 (ppoll); svc #0; b back to the first mov
    "aarch64": (0xB7, b"".join(struct.pack("<I", op) for op in (
        0xD2800000, 0xD2800001, 0xD2800002, 0xD2800003, 0xD2800928, 0xD4000001,
        0x17FFFFFA))),
}


def elf(arch: str = "x86_64") -> bytes:
    """The stand-in for ``arch`` (``x86_64`` or ``aarch64``, as ``uname -m`` says)."""
    if arch not in CODE:
        raise ValueError(f"no stand-in for {arch!r}: expected one of {', '.join(CODE)}")
    machine, code = CODE[arch]
    size = HEADERS + len(code)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # 64-bit, little-endian, SysV
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, BASE + HEADERS, 64, 0, 0,
                                 64, 56, 1, 0, 0, 0)
    segment = struct.pack("<IIQQQQQQ", 1, 5, 0, BASE, BASE, size, size, 0x1000)  # R+X
    return header + segment + code


if __name__ == "__main__":
    sys.stdout.buffer.write(elf(sys.argv[1] if len(sys.argv) > 1 else platform.machine()))
