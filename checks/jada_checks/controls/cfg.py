"""JADA-CFG: the Claude Code configuration the agents really run with.

Facts come from four probes (``jada_checks.facts.cfg_probes``); the model is resolved by
``jada_checks.model_resolution``. Messages name files, JSON pointers, model names and the
source that won, never a value from ``env``, ``apiKeyHelper`` or hooks.
"""

from __future__ import annotations

from typing import Any

from jada_checks.context import CheckContext
from jada_checks.facts import cfg_probes
from jada_checks.facts.cfg_inputs import Built, Facts, config_inputs, process_inputs
from jada_checks.model import CheckError, Outcome, control, errored, failed, passed, skipped
from jada_checks.model_resolution import (
    DOC_CLI,
    DOC_ENV,
    DOC_MODEL,
    DOC_SETTINGS,
    DOC_SUBAGENTS,
    Judged,
    Layer,
    Resolution,
    resolve,
    verdicts,
)
from jada_checks.parsers.cfg_facts import (
    ClaudeProcess,
    EnvFact,
    ExecFact,
    FactError,
    FilesFact,
    ProcsFact,
    parse_env,
    parse_exec,
    parse_files,
    parse_procs,
)
from jada_checks.parsers.path_safety import path_problems
from jada_checks.parsers.settings import Problem
from jada_checks.parsers.systemd import parse_show

cfg_probes.register()

DOC_PERMS = "https://code.claude.com/docs/en/permission-modes"
DOC_MANAGED = "https://code.claude.com/docs/en/settings#settings-files"
DOC_REFERENCE = "https://code.claude.com/docs/en/settings-reference"
# What CFG-03 takes for an agent (cfg_probes.AGENT; docs/settings.md, "Which processes are
# agents"), from @anthropic-ai/claude-code 2.1.332 and its platform package.
RECOGNISED = ("the name claude, …/node_modules/@anthropic-ai/claude-code/bin/claude.exe, "
              "…/@anthropic-ai/claude-code-<platform>/claude, …/claude/versions/<version> "
              "(also through a symlink, by /proc/PID/exe), node or bun [options] "
              "…/claude-code/cli.js or cli-wrapper.cjs")


# -- facts ------------------------------------------------------------------------------

def _parsed(ctx: CheckContext, name: str, parse: Any) -> Any:
    section = ctx.host.section(name).require_ok().require_root_reads()
    try:
        return parse(section.out)
    except FactError as exc:
        raise CheckError(f"probe {name!r} answered in an unexpected shape: {exc}") from None


def files_fact(ctx: CheckContext) -> FilesFact:
    return _parsed(ctx, "cfg_files", parse_files)


def env_fact(ctx: CheckContext) -> EnvFact:
    return _parsed(ctx, "cfg_env", parse_env)


def exec_fact(ctx: CheckContext) -> ExecFact:
    return _parsed(ctx, "cfg_exec", parse_exec)


def procs_fact(ctx: CheckContext) -> ProcsFact:
    return _parsed(ctx, "cfg_procs", parse_procs)


def unit_user(ctx: CheckContext) -> str:
    """The user the service's processes run as: User=, else (no User=, no DynamicUser=) the
    real user of its main process when that is not root, as the prelude resolved it
    (section svc_user); "" when none: root. A privilege drop inside ExecStart= (setpriv,
    runuser, su, the program itself) therefore counts."""
    try:
        sec = ctx.host.section("svc_user").require_ok()
    except CheckError:  # an answer without it (an older fact script): User= alone
        sec = None
    for line in sec.out.splitlines() if sec else ():
        key, _, value = line.partition(" ")
        if key == "user":
            return value.strip()
    return parse_show(ctx.host.section("unit_show").require_ok().out).get("User") or ""


def service_user(ctx: CheckContext) -> str:
    return unit_user(ctx) or "root"


def facts(ctx: CheckContext, *, procs: bool = False) -> Facts:
    return Facts(files_fact(ctx), env_fact(ctx), exec_fact(ctx), unit_user(ctx),
                 procs_fact(ctx) if procs else None)


def describe(res: Resolution, notes: list[str] | None = None) -> str:
    """Every overridden source, open question, other reading, subagent model and note."""
    parts = []
    if res.overridden:
        parts.append("overrides " + "; ".join(str(s) for s in res.overridden))
    if res.ambiguities:
        parts.append("ambiguous: " + " / ".join(res.ambiguities))
    if res.alternatives:
        parts.append("other readings give " + "; ".join(str(s) for s in res.alternatives))
    if res.subagent:
        parts.append("subagents run " + "; ".join(str(s) for s in res.subagent))
    if res.fallback:
        parts.append("fallback models " + "; ".join(str(s) for s in res.fallback))
    parts += res.notes + (notes or [])
    return (" — " + " — ".join(parts)) if parts else ""


def _reasons(judged: list[Judged]) -> str:
    return "; ".join(j.describe() for j in judged)


def _policy_text(policy: dict[str, Any]) -> str:
    return (f"allow={policy.get('allow')} deny={policy.get('deny')} "
            f"allow_aliases={policy.get('allow_aliases')}")


# -- JADA-CFG-01 ------------------------------------------------------------------------

@control(
    "JADA-CFG-01",
    title="The service user's Claude Code settings file exists, parses and validates",
    severity="high",
    side="host",
    rationale=f"""
The agents run as the unit's User=, so their user settings are that user's
~/.claude/settings.json (home from the passwd database, not the SSH user's); it is where
the expected default model is set ({DOC_SETTINGS}, "Settings files"). A file Claude Code
cannot parse, or whose values the schema rejects, is skipped ({DOC_SETTINGS}, "Fix a broken
settings file"). Fails on: missing, > 1 MiB, a byte-order mark (anthropics/claude-code#9906,
#81355), not UTF-8, not strict JSON, not an object, a value of the wrong type
(schemas/claude-settings.schema.json: every key of SchemaStore's claude-code-settings.json
and {DOC_REFERENCE}), not readable by the service user, a symlink out of the home. Claude
Code ignores unknown keys, so a near miss of a known key ("modle") or a key in the wrong
object (defaultMode at the top level) silently drops a setting: passes with a *warning* in
the message, since Claude Code still loads the file (JADA-CFG-02 and JADA-CFG-04 judge the
model and the bypass that result). Other unknown keys are listed as notes.
""",
    remediation="Write ~SVC_USER/.claude/settings.json as a UTF-8 JSON object (no BOM) with "
                "\"model\": \"claude-sonnet-4-6\", readable by the service user; check it "
                "with: jada-checks validate-settings FILE",
    fix="""\
# replaces the file (a copy is kept next to it)
install -d -o {user} -m 700 {home}/.claude
[ -e {settings} ] && cp -a {settings} {settings}.bak
cat > {settings} <<'EOF'
{"model": "{model}"}
EOF
chown {user}: {settings}
chmod 600 {settings}
jada-checks validate-settings {settings}""",
)
def user_settings_valid(ctx: CheckContext) -> Outcome:
    files = files_fact(ctx)
    passwd = files.role("user")[0]
    svc = service_user(ctx)
    f = facts(ctx)
    built = config_inputs(f)
    user = f.table.get(built.user_file) if built.user_file else None
    if user is None and passwd.state != "nohome":
        return errored("cannot tell which user settings file the agents read: "
                       + "; ".join(built.inputs.unresolved))
    user = user or passwd
    if user.state == "nohome":
        return failed(f"service user {svc!r} has no home directory in the passwd database",
                      observed="no home", expected="a home with .claude/settings.json",
                      source=f"getent passwd {svc}")
    path = user.path
    if not user.exists:
        return failed(f"{path} does not exist: the agents of {svc!r} get no user settings "
                      "(and no model from them)", observed="missing",
                      expected="a valid settings file", source=path)
    problems = [p.render(path) for p in user.settings.errors]
    if user.real and files.real_home and user.real != path and path == passwd.path \
            and not user.real.startswith(files.real_home.rstrip("/") + "/"):
        problems.append(f"{path}: is a symlink that resolves outside {files.home} "
                        f"(to {user.real}); whoever controls that file controls the agents")
    if user.readable is False:
        problems.append(f"{path}: not readable by the service user {svc!r}; Claude Code "
                        "running as that user cannot load it")
    warnings = [p.render(path) for p in user.settings.warnings]
    after = _warnings_and_notes(warnings, user.settings.notes)
    if problems:
        return failed(f"{len(problems)} problem(s) in the service user's settings: "
                      + "; ".join(problems[:10]) + after,
                      observed=f"{len(problems)} problem(s)", expected="valid settings",
                      source=path)
    data = user.settings.data or {}
    return passed(f"{path} is valid ({len(data)} top-level key(s), "
                  f"model key {'set' if 'model' in data else 'not set'}){after}",
                  observed=f"valid, {len(warnings)} warning(s)" if warnings else "valid",
                  expected="valid settings", source=path)


def _warnings_and_notes(warnings: list[str], notes: list[Problem]) -> str:
    """The message tail for what does not fail CFG-01: warnings in full, notes as key names."""
    out = ""
    if warnings:
        out += f"; {len(warnings)} warning(s): " + "; ".join(warnings[:10])
    if notes:
        names = [p.where for p in notes]
        out += (f"; {len(names)} unknown key(s) Claude Code ignores: " + ", ".join(names[:10])
                + (f" (+{len(names) - 10} more)" if len(names) > 10 else ""))
    return out


# -- JADA-CFG-02 ------------------------------------------------------------------------

@control(
    "JADA-CFG-02",
    title="The effective default model is an allowed model",
    severity="high",
    side="host",
    rationale=f"""
Resolves the model Claude Code starts with, as documented at v2.1.240: --model beats
ANTHROPIC_MODEL, which beats the settings key "model", a managed one included (a managed
model is a default, not a lock); a settings env block beats the inherited environment;
ANTHROPIC_DEFAULT_MODEL applies only when nothing else selects a model ({DOC_MODEL},
"Setting your model"; {DOC_ENV}, "Precedence"; {DOC_REFERENCE}, "model"). The agent setting
or --agent runs the main thread on that subagent's model ({DOC_SUBAGENTS}); availableModels
replaces a blocked model at start-up (enforceAvailableModels: with the list's first entry);
subagent front-matter models, CLAUDE_CODE_SUBAGENT_MODEL and the fallback chain
(--fallback-model, fallbackModel) are judged too. A file Claude Code skips (not JSON; a
value the schema rejects) contributes nothing; an unreadable one makes the answer unknown
only when its content could change the verdict;
settings rank managed (/etc/claude-code/managed-settings.json, then
managed-settings.d/*.json in name order) > --settings FILE-or-JSON > local project > shared
project > user ({DOC_SETTINGS}, "Settings precedence"; {DOC_MANAGED}); --setting-sources
selects which of user, project, local load ({DOC_CLI}). An alias resolves to the model
ANTHROPIC_DEFAULT_{{OPUS,SONNET,HAIKU}}_MODEL names, which is then what is judged
({DOC_MODEL}, "Environment variables"). Inputs: ExecStart's argv (also behind env(1) and
sh -c wrappers), the service environment (DefaultEnvironment= < the HOME systemd sets for
User= < Environment= < EnvironmentFile= < the wrappers; systemd.exec(5)), filtered on the
target to the model variables, HOME and CLAUDE_CONFIG_DIR; the user settings under
$CLAUDE_CONFIG_DIR, else $HOME/.claude, else the passwd home (a DynamicUser= service: /);
the managed and project files (WorkingDirectory, and the git root's settings.local.json).
Where the documentation leaves the order open the message says so and every reading must
pass. An alias (sonnet, opus, haiku, opusplan, default, best, ...[1m]) that no variable
pins floats with releases and passes only if expect.model.allow_aliases.
""",
    remediation="Set \"model\": \"claude-sonnet-4-6\" in the service user's settings and "
                "remove the overriding source named in the message (a --model or --settings "
                "argument, an ANTHROPIC_MODEL or ANTHROPIC_DEFAULT_*_MODEL assignment, a "
                "wrapper in ExecStart or a higher-precedence settings file).",
    fix="""\
# set "model": "{model}" in {settings} and remove the overriding source named above:
# a --model argument, ANTHROPIC_MODEL in the unit, or a higher-precedence settings file
systemctl show -p Environment -p ExecStart {unit}
grep -n '"model"' {settings}""",
)
def effective_model(ctx: CheckContext) -> Outcome:
    policy = ctx.expect["model"]
    f = facts(ctx)
    built = config_inputs(f)
    res, verdicts_ = verdicts(built.inputs, policy)
    expected = _policy_text(policy)
    if res.unresolved:
        return errored("cannot resolve the effective model: " + "; ".join(res.unresolved),
                       observed=res.model, expected=expected)
    if res.winner is None:
        return failed("no source sets a model: Claude Code falls back to its default, which "
                      "depends on the account type" + describe(res, built.notes),
                      observed="(none)", expected=expected,
                      source="argv, unit environment, settings files")
    bad = [j for j in verdicts_ if not j.verdict.ok]
    drift = ""
    if f.env.main_pid_seen and res.winner.kind == "process-env" \
            and f.env.main_pid_model != res.winner.value:
        drift = " — the running main process has a different ANTHROPIC_MODEL (restart pending)"
    head = f"effective model {res.model!r} from {res.winner.label}"
    tail = f"{describe(res, built.notes)}{drift}"
    if bad:
        return failed(f"{head}: {_reasons(bad)}{tail}", observed=res.model,
                      expected=expected, source=res.winner.label)
    return passed(f"{head}: {verdicts_[0].describe()}{tail}",
                  observed=res.model, expected=expected, source=res.winner.label)


# -- JADA-CFG-03 ------------------------------------------------------------------------

def _scanned_text(procs: ProcsFact, limit: int = 8) -> str:
    """Each process of the unit that is not Claude Code, with what it executes (never its
    arguments): so a person sees what the scan did not recognise."""
    others = procs.others
    shown = "; ".join(q.describe() for q in others[:limit])
    return shown + (f"; +{len(others) - limit} more" if len(others) > limit else "")


@control(
    "JADA-CFG-03",
    title="Running Claude Code processes use the configured, allowed model",
    severity="high",
    side="host",
    rationale=f"""
Configuration is what the next agent would get; the agents already running may differ: the
orchestrator may pass --model, --settings or --setting-sources, give them another
environment or start them elsewhere, or they started before a configuration change. Every
process in the unit's cgroup (main PID and descendants) that executes Claude Code is
resolved like JADA-CFG-02 from its own command line (/proc/PID/cmdline: --model, --settings FILE or
inline JSON, --setting-sources), its own environment (/proc/PID/environ, read on the
target for ANTHROPIC_MODEL, ANTHROPIC_DEFAULT_{{OPUS,SONNET,HAIKU}}_MODEL,
CLAUDE_CODE_SUBAGENT_MODEL, CLAUDE_CONFIG_DIR and HOME only) and its own working directory
(project settings, and the git root's settings.local.json:
anthropics/claude-code#86187 vs #74023, both judged) ({DOC_MODEL}; {DOC_SETTINGS};
{DOC_CLI}). A process executes Claude Code when its argv[0], its /proc/PID/exe (read as
root) or argv[0] through its symbolic links names the CLI as @anthropic-ai/claude-code
2.1.332 installs it: {RECOGNISED} (npm pack of the package and of
@anthropic-ai/claude-code-linux-x64; the native binary's installer code; releases up to
2.1.112 ran cli.js under node; docs/settings.md). No Claude Code process running is
*skipped*, naming every process scanned and what it executes: nothing was observed, so a
pass would claim more than was seen. Limitation: a process that rewrote its argv (process
title) hides its flags.
""",
    remediation="Restart the unit after fixing the configuration; make the orchestrator "
                "pass no --model, --settings or --setting-sources and no model variable that "
                "disagrees with the settings.",
    fix="""\
# after fixing the configuration (JADA-CFG-02), restart so the agents pick it up
systemctl restart {unit}""",
)
def running_model(ctx: CheckContext) -> Outcome:
    policy = ctx.expect["model"]
    procs = procs_fact(ctx)
    unit = ctx.expect["unit"]
    if not procs.claude:
        return _no_claude_running(procs, unit)
    f = facts(ctx, procs=True)
    base = config_inputs(f)
    configured = resolve(base.inputs)
    problems: list[str] = []
    unresolved: list[str] = []
    seen: list[str | None] = []
    for p in procs.claude:
        if not p.env_readable:
            unresolved.append(f"{p.who}: its environment is not readable (needs root)")
            continue
        _judge_process(f, p, base, configured, policy, problems, unresolved, seen)
    observed = ", ".join(sorted(set(map(str, seen)))) or None
    source = f"{len(procs.claude)} Claude Code process(es) under {unit}"
    if problems:
        more = f"; +{len(problems) - 12} more process(es)" if len(problems) > 12 else ""
        return failed("; ".join(problems[:12]) + more, observed=observed,
                      expected=configured.model or _policy_text(policy), source=source)
    if unresolved:
        return errored("cannot resolve the running model: " + "; ".join(unresolved[:5]),
                       observed=observed, source=source)
    others = f"; not Claude Code: {_scanned_text(procs, 3)}" if procs.others else ""
    return passed(f"{len(procs.claude)} Claude Code process(es) run {observed}, as "
                  f"configured{others}", observed=observed, expected=configured.model,
                  source=source)


def _no_claude_running(procs: ProcsFact, unit: str) -> Outcome:
    """Skipped, naming what was scanned: nothing was observed, so a pass would claim more."""
    scanned = f"{procs.scanned} process(es) scanned"
    if procs.others:
        scanned += ", none runs Claude Code: " + _scanned_text(procs)
    return skipped(f"no Claude Code process under {unit} right now ({scanned}); "
                   f"nothing to compare. Recognised: {RECOGNISED}")


def _judge_process(f: Facts, p: ClaudeProcess, base: Built, configured: Resolution,
                   policy: dict[str, Any], problems: list[str], unresolved: list[str],
                   seen: list[str | None]) -> None:
    """Resolves one readable process's model and files it under problems, unresolved or seen
    (a process that has a model is seen, whether it is right or not)."""
    built = process_inputs(f, p)
    notes = [n for n in built.notes if built.user_file != base.user_file]
    res, judged = verdicts(built.inputs, policy)
    if res.unresolved:
        unresolved.append(f"{p.who}: " + "; ".join(res.unresolved))
        return
    if res.winner is None:
        problems.append(f"{p.who}: no source sets a model (account default)"
                        + describe(res, notes))
        return
    seen.append(res.model)
    problem = _model_problem(p.who, res, res.winner.label, judged, configured, notes)
    if problem:
        problems.append(problem)


def _model_problem(who: str, res: Resolution, label: str, judged: list[Judged],
                   configured: Resolution, notes: list[str]) -> str | None:
    """Why a process's model is wrong: the policy refuses it, or it is not what the
    configuration resolves to (a process started before a change); None when it is right."""
    bad = [j for j in judged if not j.verdict.ok]
    differs = bool(configured.model) and res.model != configured.model
    if bad:  # one entry per process: every agent is named, within the message's bound
        extra = f" — ambiguous: {' / '.join(res.ambiguities)}" if res.ambiguities else ""
        extra += (f" — the configuration resolves to {configured.model!r}"
                  if differs else "")
        return (f"{who} runs {res.model!r} from {label}: "
                f"{_reasons(bad)}{extra}" + "".join(f" — {n}" for n in notes))
    if differs:
        return (f"{who} runs {res.model!r} ({label}) but the "
                f"configuration resolves to {configured.model!r}")
    return None


# -- JADA-CFG-04 ------------------------------------------------------------------------

def _default_mode(chain: list[Layer]) -> tuple[str | None, str | None]:
    for layer in chain:
        perms = (layer.file.data or {}).get("permissions")
        if isinstance(perms, dict) and isinstance(perms.get("defaultMode"), str):
            return perms["defaultMode"], f"{layer.title}{layer.suffix}"
    return None, None


@control(
    "JADA-CFG-04",
    title="Permission bypass matches the policy (expect.permissions_bypass)",
    severity="info",
    side="host",
    rationale=f"""
bypassPermissions runs every tool without asking; it is meant for isolated containers and
VMs ({DOC_PERMS}). It is requested by --dangerously-skip-permissions or --permission-mode
bypassPermissions (in ExecStart or in a running Claude Code process's argv) or by
permissions.defaultMode = "bypassPermissions" in the highest-precedence settings file that
sets it; permissions.disableBypassPermissionsMode = "disable" in managed settings forbids
it ({DOC_SETTINGS}). Policy info reports, forbid fails when in force, require fails when
not.
""",
    remediation="forbid: drop --dangerously-skip-permissions and defaultMode "
                "bypassPermissions, or set permissions.disableBypassPermissionsMode "
                "\"disable\" in /etc/claude-code/managed-settings.json. require: pass "
                "--dangerously-skip-permissions to the agents.",
    fix="""\
# forbid: drop --dangerously-skip-permissions and defaultMode bypassPermissions, or set
# permissions.disableBypassPermissionsMode "disable" in the managed settings;
# require: pass --dangerously-skip-permissions to the agents
systemctl show -p ExecStart {unit}
cat /etc/claude-code/managed-settings.json""",
)
def permission_bypass(ctx: CheckContext) -> Outcome:
    policy = ctx.expect["permissions_bypass"]
    f = facts(ctx, procs=True)
    procs = f.procs or ProcsFact()
    chains = _bypass_chains(f, procs)
    chain = [la for la in chains[0] if la.file.usable]
    unknown = _unreadable_settings(chains)
    requested = _bypass_requests(f.exec, chains, procs)
    disabled = _bypass_disabled_by(chain)
    in_force = bool(requested) and disabled is None
    state = "in force" if in_force else "not in force"
    msg = f"permission bypass is {state} ({_bypass_detail(requested, disabled, unknown)})"
    kw = {"observed": state, "expected": f"policy {policy}",
          "source": ", ".join(requested) or "argv, settings, running processes"}
    return _bypass_verdict(policy, in_force, bool(unknown), msg, kw)


def _bypass_chains(f: Facts, procs: ProcsFact) -> list[list[Layer]]:
    """The settings chains that count: the unit's configuration first, then every running
    process whose environment can be read (each may read other files)."""
    return [config_inputs(f).inputs.layers] + [
        process_inputs(f, p).inputs.layers for p in procs.claude if p.env_readable]


def _unreadable_settings(chains: list[list[Layer]]) -> list[str]:
    """Settings files that exist but are not usable JSON: the verdict cannot consider them."""
    return sorted({la.path for c in chains for la in c
                   if la.file.exists and not la.file.usable})


def _bypass_requests(ex: ExecFact, chains: list[list[Layer]], procs: ProcsFact) -> list[str]:
    """Every place that asks for bypassPermissions: ExecStart's flags, the settings chains'
    defaultMode and the running processes' flags."""
    requested = []
    if ex.skip_permissions:
        requested.append("ExecStart --dangerously-skip-permissions")
    if ex.permission_mode == "bypassPermissions":
        requested.append("ExecStart --permission-mode bypassPermissions")
    _add_default_mode_requests(requested, chains)
    running = [p.pid for p in procs.claude
               if p.skip_permissions or p.permission_mode == "bypassPermissions"]
    if running:
        requested.append(f"{len(running)} running Claude Code process(es) with "
                         "--dangerously-skip-permissions or --permission-mode "
                         "bypassPermissions")
    return requested


def _add_default_mode_requests(requested: list[str], chains: list[list[Layer]]) -> None:
    """Adds each chain's winning permissions.defaultMode when it is bypassPermissions; a file
    several chains share is named once."""
    for c in chains:
        mode, where = _default_mode([la for la in c if la.file.usable])
        if mode == "bypassPermissions" and f"{where} /permissions/defaultMode" not in requested:
            requested.append(f"{where} /permissions/defaultMode")


def _bypass_disabled_by(chain: list[Layer]) -> str | None:
    """The managed settings file that sets disableBypassPermissionsMode "disable", if any:
    only managed settings can forbid the bypass."""
    return next((la.title for la in chain if la.scope == "managed"
                 and ((la.file.data or {}).get("permissions") or {}).get(
                     "disableBypassPermissionsMode") == "disable"), None)


def _bypass_detail(requested: list[str], disabled: str | None, unknown: list[str]) -> str:
    """Who requested the bypass, who disabled it and which files could not be judged."""
    detail = (("requested by " + ", ".join(requested)) if requested else "not requested") \
        + (f"; disabled by {disabled}" if disabled else "")
    if unknown:
        detail += "; settings not readable as JSON, not considered: " + ", ".join(unknown)
    return detail


def _bypass_verdict(policy: str, in_force: bool, unknown: bool, msg: str,
                    kw: dict[str, str]) -> Outcome:
    """The policy's verdict; an unreadable settings file leaves it open unless policy is info."""
    if unknown and policy != "info":
        return errored(msg, **kw)
    if policy == "forbid" and in_force:
        return failed(msg, **kw)
    if policy == "require" and not in_force:
        return failed(msg, **kw)
    return passed(msg, **kw)


# -- JADA-CFG-05 ------------------------------------------------------------------------

@control(
    "JADA-CFG-05",
    title="Settings files are owned by root or the service user and not group/other writable",
    severity="medium",
    side="host",
    rationale=f"""
Whoever can write a settings file in the chain chooses the agents' model, hooks (commands
run as the service user) and permissions ({DOC_SETTINGS}). Every existing file of the
chain must be owned by root or the service user (managed settings: root only, since they exist
to bind that user) with no group/other write bit. Creating a missing file or renaming a
directory on its path away is as good as writing it: every directory from the file's (the
working directory's, the home's) up to / is read, for the path and its real path. Creating an
entry needs write on its directory, sticky or not (path_resolution(7), open(2), mkdir(2));
renaming or removing one needs write on its directory, and in a sticky directory also owning
the entry or the directory (inode(7) S_ISVTX, rename(2) EPERM). So a directory owned by another
user, or group/other writable, is a finding unless it is sticky, trusted-owned and the entry in
it is trusted-owned. stat runs on the target and follows symlinks; ACLs are not read. Agents
running with permission bypass can rewrite files their own user owns.
""",
    remediation="chown root:root FILE && chmod 644 FILE (and chmod go-w its directory); "
                "managed settings: root-owned only.",
    fix="""\
# settings the agents read must not be writable by them
chown root:root {settings}
chmod 644 {settings}
chmod go-w {home}/.claude
f=/etc/claude-code/managed-settings.json
if [ -e "$f" ]; then chown root:root "$f"; chmod 644 "$f"; fi""",
)
def settings_permissions(ctx: CheckContext) -> Outcome:
    table = facts(ctx, procs=True).table
    svc = service_user(ctx)
    problems, unknown, checked = [], [], 0
    for f in table.values():
        owners = {"root"} if f.role.startswith("managed") else {"root", svc}
        if f.state == "nohome":
            continue
        if f.state == "unsearchable":
            unknown.append(f"{f.path}: a directory on its path cannot be searched by the "
                           "checking user")
            continue
        chain_problems, chain_unknown = path_problems(f, owners)
        problems += chain_problems
        unknown += chain_unknown
        if not f.exists:
            continue
        if f.state == "dangling":
            problems.append(f"{f.path} is a dangling symlink")
            continue
        if f.state == "notfile" or f.owner is None or f.mode is None:
            problems.append(f"{f.path}: not a regular file or no stat data")
            continue
        checked += 1
        rows: list[tuple[str, str | None, int | None]] = [(f.path, f.owner, f.mode)]
        if not f.chain:  # an answer without the directory chain: the file's own directory
            rows.append((f"{f.path.rsplit('/', 1)[0] or '/'}/", f.dir_owner, f.dir_mode))
        for what, owner, mode in rows:
            if owner is None or mode is None:
                problems.append(f"{what}: no stat data")
                continue
            if owner not in owners:
                problems.append(f"{what} is owned by {owner!r} (allowed: "
                                f"{', '.join(sorted(owners))})")
            if mode & 0o022:
                problems.append(f"{what} has mode {mode:o} (group/other writable)")
    problems = list(dict.fromkeys(problems))  # files share directories
    source = "stat -L on the target: each settings file and every directory up to /"
    expected = ("owner root or service user, no group/other write; no one else can create "
                "the file or rename a directory on its path")
    if problems:
        return failed("; ".join(problems[:10]), observed=f"{len(problems)} problem(s)",
                      expected=expected, source=source)
    if unknown:
        return errored("cannot stat every settings file: " + "; ".join(unknown[:5]),
                       source=source)
    return passed(f"{checked} settings file(s) and every directory on the paths of the "
                  f"{len(table)} they could be have safe owners and modes (sticky "
                  "directories: only their owners may rename entries)",
                  observed=f"{checked} file(s)", expected=expected, source=source)
