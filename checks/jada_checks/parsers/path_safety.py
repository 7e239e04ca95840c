"""Who else can put a settings file in place: create it, or rename a directory on its path.

Writing a file is one way to choose the agents' settings; two more need no write access
to the file at all:

* **create it** where it does not exist yet: creating a directory entry needs write and
  search permission on the directory it goes into (path_resolution(7); open(2) O_CREAT,
  mkdir(2) EACCES). The sticky bit does not prevent creating.
* **rename away** (or remove) a directory on its path, or the file, and put another in
  its place: rename(2)/unlink(2) need write permission on the parent directory; in a
  directory with the sticky bit (S_ISVTX) only the owner of the entry, the owner of the
  directory or a privileged process may rename or remove it (inode(7), "The file type
  and mode"; rename(2) EPERM; the /tmp convention).

So every directory from the file's own up to ``/`` is read (for the path as written and,
if a symlink leads elsewhere, for its real path): a directory owned by someone else, or
writable by group or others, lets them do one of the two, unless it is sticky and the
entry in it belongs to a trusted owner. ACLs and capabilities are not read; a group
write bit counts as "someone else" (the group may hold other users).
"""

from __future__ import annotations

from jada_checks.parsers.cfg_facts import DirFact, FileFact

STICKY = 0o1000


def _chains(f: FileFact) -> list[list[DirFact]]:
    """The AD records split into chains, each from the deepest directory up to /."""
    chains: list[list[DirFact]] = [[]]
    for d in f.chain:
        chains[-1].append(d)
        if d.path == "/":
            chains.append([])
    return [c for c in chains if c]


def path_problems(f: FileFact, trusted: set[str]) -> tuple[list[str], list[str]]:
    """(problems, unknowns) for the directories on ``f``'s path; ``trusted`` are the
    owners allowed (root and the service user, or root alone for managed settings)."""
    problems: list[str] = []
    unknown: list[str] = []
    for chain in _chains(f):
        top_down = list(reversed(chain))
        for i, d in enumerate(top_down):
            if not d.exists:
                break  # the directory above it was judged for creating it
            if d.owner is None or d.mode is None:
                unknown.append(f"{d.path}: could not stat it")
                break
            last = i + 1 == len(top_down)
            child = top_down[i + 1] if not last else None
            name = child.path if child else f.path
            child_exists = child.exists if child else f.exists
            child_owner = child.owner if child else f.owner
            writers = []
            if d.owner not in trusted:
                writers.append(f"its owner {d.owner!r}")
            if d.mode & 0o022:
                writers.append(f"group/others (mode {d.mode:o})")
            if not writers:
                continue
            shown = d.path.rstrip("/") + "/"
            if not child_exists:
                problems.append(f"{f.path} can be created by someone else: {name} does not "
                                f"exist and {shown} is writable by {' and '.join(writers)}"
                                + (" (the sticky bit does not stop creating)"
                                   if d.mode & STICKY else ""))
                break
            if d.owner in trusted and d.mode & STICKY and child_owner in trusted:
                continue  # sticky: only the entry's or the directory's owner may rename it
            why = ("without the sticky bit" if not d.mode & STICKY or d.owner not in trusted
                   else f"and {name} is owned by {child_owner!r}")
            problems.append(f"{f.path} can be replaced by someone else: {shown} is writable "
                            f"by {' and '.join(writers)} {why}, so they can rename {name} away "
                            "and put their own in its place")
    return problems, unknown
