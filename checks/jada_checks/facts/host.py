"""Host facts: the output of the batched script, split into named sections.

Controls read sections through :meth:`HostFacts.section`, which raises
:class:`~jada_checks.model.CheckError` when a fact is missing or its probe failed, so a
control that could not look reports *error*, never *pass*.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from jada_checks.facts.probes import BEGIN, END, ERR, REFUSED, build_script
from jada_checks.facts.remote import Connection
from jada_checks.model import CheckError
from jada_checks.parsers.numbers import whole_or_none


@dataclass(frozen=True)
class Section:
    name: str
    rc: int
    out: str
    err: str
    sudo: str = ""  # the target's sudo preflight ("sudo 1.9.5p2"), for refusal messages

    def require_ok(self) -> Section:
        if self.rc != 0:
            self.require_root_reads()
            detail = self.err.strip().splitlines()[-1][:200] if self.err.strip() else ""
            raise CheckError(f"probe {self.name!r} failed (exit {self.rc})"
                             + (f": {detail}" if detail else ""))
        return self

    @property
    def refused(self) -> list[str]:
        """Root reads sudo refused (``R`` in the prelude), each as 'command: sudo's reason'."""
        return [ln[len(REFUSED):] for ln in self.err.splitlines() if ln.startswith(REFUSED)]

    def require_root_reads(self) -> Section:
        """A fact that needs root and did not get it is *error*, never a partial pass."""
        if self.refused:
            raise CheckError(f"a read that needs root was refused{self.sudo}: "
                             f"{self.refused[0][:400]} (fix: install ci/sudoers.d/jada-checks "
                             "and ci/libexec/jada-checks-read for the SSH user; README, "
                             "Least privilege)")
        return self


def split_sections(text: str) -> dict[str, Section]:
    """Parse the script's stdout; a section without its END line is dropped (truncated)."""
    sections: dict[str, Section] = {}
    name: str | None = None
    out: list[str] = []
    err: list[str] = []
    for line in text.split("\n"):
        if line.startswith(BEGIN):
            name, out, err = line[len(BEGIN):].strip(), [], []
        elif line.startswith(END) and name is not None:
            fields = line[len(END):].split()
            if fields and fields[0] == name:
                # bash's $? is 0..255; anything else is unknown (-1), which require_ok refuses
                rc = whole_or_none(fields[1], high=255) if len(fields) > 1 else None
                sections[name] = Section(name, -1 if rc is None else rc,
                                         "\n".join(out) + ("\n" if out else ""), "\n".join(err))
            name = None
        elif name is not None:
            if line.startswith(ERR):
                err.append(line[len(ERR):])
            else:
                out.append(line)
    return sections


class HostFacts:
    """Everything gathered from one target in one remote command."""

    def __init__(self, sections: dict[str, Section]):
        self.sections = sections

    def section(self, name: str) -> Section:
        try:
            sec = self.sections[name]
        except KeyError:
            raise CheckError(f"fact {name!r} missing from the target's answer "
                             "(output truncated or probe not run)") from None
        return replace(sec, sudo=self.sudo_version()) if sec.refused else sec

    def sudo_version(self) -> str:
        """' (sudo 1.9.5p2)' from the preflight, or '' when sudo was not asked."""
        pre = self.sections.get("sudo_preflight")
        for line in (pre.out.splitlines() if pre else []):
            if line.startswith("sudo ") and line != "sudo -":
                return f" (sudo {line[5:].strip()[:40]})"
        return ""


def gather(conn: Connection, unit: str) -> HostFacts:
    """Run the batched script once; raise Unreachable when the host cannot be asked."""
    res = conn.run(build_script(unit, sudo=bool(conn.ssh.get("sudo"))))
    text = res.stdout.decode("utf-8", "replace")
    sections = split_sections(text)
    if not sections:
        stderr = res.stderr.decode("utf-8", "replace").strip()
        raise CheckError(f"the fact-gathering command produced no facts (exit {res.rc})"
                         + (f": {stderr.splitlines()[-1][:200]}" if stderr else ""))
    return HostFacts(sections)
