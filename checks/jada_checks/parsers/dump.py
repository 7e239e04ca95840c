"""Decode file dumps made on the target by :data:`DUMP_FUNCTION`.

Configuration files are shipped base64-encoded, one line per file, so CRLF, NUL bytes,
non-UTF-8 text or a file without a final newline reach the parsers byte for byte and
cannot be confused with the section framing of the batched script.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

# Shell function for snippets: ``dumpf FILE...`` prints one ``F <b64 path> <status> [<b64>]``
# line per file; status is ok, missing, dangling (symlink to nothing), dir or unreadable.
DUMP_FUNCTION = r"""
dumpf() {
  for f in "$@"; do
    p=$(printf '%s' "$f" | base64 -w0)
    if [ -d "$f" ]; then echo "F $p dir"
    elif [ ! -e "$f" ]; then if [ -L "$f" ]; then echo "F $p dangling"; else echo "F $p missing"; fi
    elif c=$(base64 -w0 < "$f" 2>/dev/null); then echo "F $p ok $c"
    else echo "F $p unreadable"; fi
  done
}
""".strip()

STATUSES = ("ok", "missing", "dangling", "dir", "unreadable")


@dataclass(frozen=True)
class FileDump:
    path: str
    status: str
    data: bytes | None  # None unless status == "ok"

    @property
    def readable(self) -> bool:
        return self.status == "ok"


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def parse_dump_line(line: str) -> FileDump | None:
    """One ``F`` line, or None when it is not one (or is corrupt)."""
    fields = line.rstrip("\r\n").split(" ")
    if len(fields) < 3 or fields[0] != "F" or fields[2] not in STATUSES:
        return None
    raw_path = _b64(fields[1])
    if raw_path is None:
        return None
    path = raw_path.decode("utf-8", "surrogateescape")
    if fields[2] != "ok":
        return FileDump(path, fields[2], None)
    data = _b64(fields[3]) if len(fields) > 3 else b""
    if data is None:
        return FileDump(path, "unreadable", None)
    return FileDump(path, "ok", data)


def parse_dump(text: str) -> list[FileDump]:
    """Every file of a dump, in the order the target printed them."""
    out = []
    for line in text.splitlines():
        item = parse_dump_line(line)
        if item is not None:
            out.append(item)
    return out
