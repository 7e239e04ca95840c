"""Markdown, HTML and terminal renderings of one report document."""

from __future__ import annotations

import io
import re

import pytest
from _pytest._io import TerminalWriter

from jada_checks.reporting import document, html, markdown
from jada_checks.reporting.drift import compute
from jada_checks.reporting.terminal import write_summary
from tests.support.reporting_support import doc, rec

WAIVER = {"control": "JADA-LS-05", "target": "web-1", "justification": "rebuild | OPS-7",
          "expires": "2099-01-01", "status": "applied"}


def sample() -> dict:
    base = doc([rec(control="JADA-NET-01", outcome="pass", observed="somaxconn=4096",
                    target="web-1")], targets=["web-1", "web-2"])
    records = [
        rec(control="JADA-NET-01", outcome="pass", observed="somaxconn=8192", target="web-1"),
        rec(control="JADA-UNIT-01", outcome="pass", severity="critical", target="web-1"),
        rec(control="JADA-LS-05", severity="medium", waiver=WAIVER, target="web-1"),
        rec(control="JADA-CFG-02", severity="low", target="web-1", message="model <b>x</b>"),
        rec(control="JADA-UNIT-01", outcome="error", severity="critical", target="web-2",
            message="unreachable: root@10.0.0.2:22: connection refused"),
    ]
    d = doc(records, targets=["web-1", "web-2"],
            drift=compute(base, records, ["web-1", "web-2"], "base.json"))
    return d


def test_sample_is_schema_valid() -> None:
    d = sample()
    assert document.schema_errors(d) == []
    assert d["unreachable"] == [{"target": "web-2", "controls": 1,
                                 "reason": "unreachable: root@10.0.0.2:22: connection refused"}]


def test_markdown_findings_first_with_remediation_and_drift() -> None:
    md = markdown.render(sample())
    web1 = md.split("### web-1")[1].split("### web-2")[0]
    assert web1.index("JADA-CFG-02") < web1.index("waived (fail)") < web1.index("<details>")
    assert "fix it" in web1 and "rebuild \\| OPS-7" in web1
    assert "model &lt;b&gt;x&lt;/b&gt;" in web1
    assert "somaxconn=4096 → somaxconn=8192" in md
    assert "## Unreachable targets" in md and "❌ gate FAILED" in md


def test_html_is_self_contained_and_filterable() -> None:
    page = html.render(sample())
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)
    assert 'data-state="waived" data-severity="medium"' in page
    assert 'name="severity" value="critical"' in page and 'name="state" value="error"' in page
    assert "model &lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page


def test_html_leads_to_the_failure() -> None:
    """Targets with findings first, passes hidden until asked for, fixes copyable."""
    page = html.render(sample())
    assert 'value="pass"> pass' in page and 'value="fail" checked' in page
    assert re.search(r'<tr class="pass" data-state="pass"[^>]* hidden>', page)
    assert '<a href="#t-web-1-first">first finding</a>' in page
    assert 'id="t-web-1-first" class="fail"' in page
    assert '<button class="copy" type="button">copy</button><pre class="fix">fix it</pre>' in page
    # web-2's one unreachable error is one "not checked" row naming the cause.
    assert "1 controls not checked" in page


class FakeTR:
    """The part of TerminalReporter the summary uses, over a real TerminalWriter."""

    def __init__(self, color: bool, width: int = 120) -> None:
        self.buf = io.StringIO()
        self._tw = TerminalWriter(self.buf)
        self._tw.hasmarkup = color
        self._tw.fullwidth = width

    def write(self, text: str, **markup: bool) -> None:
        self._tw.write(text, **markup)

    def line(self, text: str, **markup: bool) -> None:
        self._tw.line(text, **markup)

    write_line = line

    def write_sep(self, sep: str, title: str) -> None:
        self._tw.sep(sep, title)


@pytest.mark.parametrize("color", [False, True])
def test_terminal_summary(color: bool) -> None:
    tr = FakeTR(color)
    write_summary(tr, sample(), ["r.json"])  # type: ignore[arg-type]
    out = tr.buf.getvalue()
    assert ("\x1b[" in out) is color
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert re.search(r"JADA-LS-05\s+WAIVED\s+-", plain)
    assert re.search(r"JADA-UNIT-01\s+PASS\s+ERROR", plain)
    assert plain.count("UNREACHABLE web-2: unreachable: root@10.0.0.2:22") == 1
    assert "web-1 JADA-NET-01: somaxconn=4096 -> somaxconn=8192" in plain
    assert "gate FAILED" in plain and "report written: r.json" in plain


def test_terminal_summary_falls_back_to_counts_when_narrow() -> None:
    tr = FakeTR(False, width=24)
    write_summary(tr, sample(), [])  # type: ignore[arg-type]
    assert re.search(r"web-1\s+fail 1\s+error 0\s+waived 1", tr.buf.getvalue())


def test_terminal_shows_each_cause_fix_once_per_target() -> None:
    """Refused sudo and missing AWS credentials: one line per target, then that cause's fix
    once (indented to paste), not one configuration fix per control."""
    sudo = "a read that needs root was refused: sudo: a password is required"
    aws = "no AWS credentials found for Lightsail GetInstance (standard chain)"
    records = [rec(control=c, outcome="error", message=sudo, remediation="visudo -c")
               for c in ("JADA-FD-01", "JADA-NET-01")]
    records += [rec(control=c, outcome="error", message=aws, area="ls",
                    remediation="aws configure --profile jada-checks")
                for c in ("JADA-LS-01", "JADA-LS-02")]
    tr = FakeTR(False)
    write_summary(tr, doc(records), [])  # type: ignore[arg-type]
    out = tr.buf.getvalue()
    assert f"SUDO web-1: 2 controls errored, {sudo}\n  fix:\n      visudo -c\n" in out
    assert f"AWS web-1: 2 controls errored, {aws}\n  fix:\n      aws configure" in out
    assert out.count("visudo -c") == 1 and out.count("aws configure") == 1


DISCOVERY = {"source": "lightsail", "tags": {"app": "jada-agent"},
             "regions": {"us-east-1": {"instances": ["api", "noip", "web"]},
                         "eu-west-2": {"error": "access denied: IAM action "
                                                "lightsail:GetInstances in eu-west-2"}},
             "no_public_ip": ["us-east-1/noip"], "targets": ["api"], "listed": ["web"]}


def discovered() -> dict:
    d = doc([rec(control="JADA-LS-01", outcome="pass", target="api"),
             rec(control="JADA-LS-01", outcome="pass", target="web")], targets=["web", "api"])
    d["run"]["discovery"] = DISCOVERY
    return document.finish(d)


def test_discovery_document_is_schema_valid_and_fails_the_gate() -> None:
    d = discovered()
    assert document.schema_errors(d) == []
    assert not d["gate"]["passed"]
    assert d["gate"]["undiscovered"] == [
        "eu-west-2: access denied: IAM action lightsail:GetInstances in eu-west-2",
        "us-east-1/noip: no public IP"]


def test_markdown_shows_the_discovery_expansion() -> None:
    md = markdown.render(discovered())
    part = md.split("## Lightsail discovery")[1].split("## Results by target")[0]
    assert "Instances tagged app=jada-agent." in part
    assert "| us-east-1 | 3 | api, noip, web |" in part
    assert ("| eu-west-2 | – | ⚠️ error: access denied: IAM action lightsail:GetInstances "
            "in eu-west-2 |") in part
    assert "2 region(s) asked, 3 matching instance(s); 1 target(s) from discovery: api." in part
    assert "Also listed in the profile (its entry is checked): web." in part
    assert "**⚠️ Without a public IP, not checked:** us-east-1/noip." in part
    assert "## Lightsail discovery" not in markdown.render(sample())


def test_markdown_discovery_that_could_not_list_regions() -> None:
    d = discovered()
    d["run"]["discovery"] = {"source": "lightsail", "tags": {}, "regions": {},
                             "error": "GetRegions: access denied | x"}
    md = markdown.render(document.finish(d))
    assert "Instances tagged any tags." in md
    assert "**⚠️ GetRegions failed, no region was asked:** GetRegions: access denied \\| x" in md


def test_html_shows_the_discovery_expansion() -> None:
    page = html.render(discovered())
    part = page.split('<h2 id="discovery">Lightsail discovery</h2>')[1].split("<h2")[0]
    assert "Instances tagged app=jada-agent." in part
    assert ('<tr><td>us-east-1</td><td class="n">3</td><td>api, noip, web</td></tr>') in part
    assert ('<tr class="error"><td>eu-west-2</td><td class="n">–</td><td><b>error:</b> '
            "access denied: IAM action lightsail:GetInstances in eu-west-2</td></tr>") in part
    assert "2 region(s) asked, 3 matching instance(s); 1 target(s) from discovery: api." in part
    assert "Also listed in the profile (its entry is checked): web." in part
    assert "<b>Without a public IP, not checked:</b> us-east-1/noip." in part
    assert '<a href="#discovery">Lightsail discovery</a>' in page
    assert 'id="discovery"' not in html.render(sample())
