"""Recognise a process running out of descriptors in a log line, as the runtimes print it.

EMFILE is errno 24, strerror "Too many open files" (errno(3)); what reaches the journal
depends on the runtime, so the match is case-insensitive:

* Go: syscall errors print the lower-case strerror, e.g. net/http's
  ``http: Accept error: accept tcp [::]:8080: accept4: too many open files; retrying in 1s``
  (net/http/server.go Serve; syscall/zerrors_linux_amd64.go).
* Node.js: the error code first, ``Error: EMFILE: too many open files, open '/x'``, and
  for a server socket ``Error: accept EMFILE`` (libuv's code names).
* Python: ``OSError: [Errno 24] Too many open files: '/x'``.
* Java: ``java.net.SocketException: Too many open files`` (also ``java.io.IOException:``).

``EMFILE`` is matched as a word, so a path that merely contains the letters does not
count, and only in the message: the journal line's host name and identifier are
stripped first (a host named ``unit-04-emfile`` must not make every line a match). The
same extended regular expression runs on the target (awk, lower-cased message: mawk and
gawk alike, no ``\\b``) and here (:func:`is_emfile`); a self-test holds the two to the
same sample lines. Localised strerror text (a JVM under LANG=de_DE prints "Zu viele
offene Dateien") is not recognised.
"""

from __future__ import annotations

import datetime as dt
import re

# POSIX ERE over the lower-cased message; [^0-9a-z_] stands in for a word boundary.
EMFILE_ERE = r"too many open files|(^|[^0-9a-z_])emfile([^0-9a-z_]|$)"
_EMFILE = re.compile(EMFILE_ERE)
# journalctl -o short-unix: "<timestamp> <host> <identifier>[<pid>]: <message>"
_PREFIX = re.compile(r"^[^ ]+ [^ ]+ [^:]*: ")


def is_emfile(message: str) -> bool:
    """Whether a log message reports EMFILE the way Go, Node.js, Python or Java print it."""
    return _EMFILE.search(message.lower()) is not None


def journal_message(line: str) -> str:
    """The message of a ``journalctl -o short-unix`` line (what the probe's awk matches)."""
    return _PREFIX.sub("", line, count=1)


def iso_line(line: str) -> str:
    """A ``short-unix`` line with its epoch timestamp as ISO 8601 UTC, for people:
    ``1732700000.123456 host x[1]: m`` -> ``2024-11-27T09:33:20.123456Z host x[1]: m``."""
    stamp, sep, rest = line.partition(" ")
    try:
        when = dt.datetime.fromtimestamp(float(stamp), dt.UTC)
    except (ValueError, OverflowError, OSError):
        return line
    text = when.isoformat(timespec="microseconds" if "." in stamp else "seconds")
    return text.replace("+00:00", "Z") + sep + rest

