"""The deployment profile: which targets to check and what to expect of them.

Validated against ``schemas/profile.schema.json`` before anything connects; defaults
come from that schema, so the schema is the one place they are documented.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from jada_checks.aws.credentials import sandbox_credentials_problem
from jada_checks.inputs import InputError, fill_defaults, load_schema, read_yaml, validate

SCHEMA = "profile.schema.json"


@dataclass(frozen=True)
class Target:
    """One deployment to check: an SSH host, a Lightsail instance, or both."""

    name: str
    ssh: dict[str, Any] | None
    lightsail: dict[str, Any] | None
    expect: dict[str, Any] = field(hash=False)

    @property
    def expected_public_ip(self) -> str | None:
        if self.lightsail and self.lightsail.get("public_ip"):
            return self.lightsail["public_ip"]
        return self.ssh["host"] if self.ssh else None


@dataclass(frozen=True)
class Profile:
    path: Path
    digest: str
    aws: dict[str, Any]
    targets: tuple[Target, ...]
    # targets_from.lightsail with defaults filled; None when every target is listed.
    discover: dict[str, Any] | None = None
    # What discovery found: {"regions": {region: {"instances": [...]} | {"error": ...}}}
    discovery: dict[str, Any] | None = None
    expect: dict[str, Any] = field(default_factory=dict)
    # 1-based line of each listed target's entry, of each targets_from override and of
    # the targets_from block itself (key ""): where a finding points a reader (SARIF,
    # annotations, code quality).
    lines: dict[str, int] = field(default_factory=dict)
    discover_lines: dict[str, int] = field(default_factory=dict)

    def target(self, name: str) -> Target:
        return next(t for t in self.targets if t.name == name)

    def line_of(self, name: str) -> int | None:
        """The profile line a target comes from: its own entry, else its discovery
        override, else the ``targets_from`` block that discovered it."""
        return self.lines.get(name) or self.discover_lines.get(name) or \
            self.discover_lines.get("")

    def discovered_target(self, instance: str, region: str, public_ip: str) -> Target:
        """The target for one discovered instance: its public IP as ssh.host, the
        discovery's ssh settings and expectations, then that name's overrides."""
        assert self.discover is not None
        schema = load_schema(SCHEMA)
        over = self.discover["overrides"].get(instance, {})
        ssh = _deep_merge(self.discover["ssh"], over.get("ssh", {}))
        ssh = fill_defaults(dict(ssh, host=public_ip), schema["$defs"]["ssh"], schema)
        ssh = _ssh_paths(ssh, self.path.parent)
        expect = _deep_merge(_deep_merge(self.expect, self.discover.get("expect", {})),
                             over.get("expect", {}))
        expect = _http_paths(fill_defaults(expect, schema["$defs"]["expect"], schema),
                             self.path.parent)
        return Target(instance, ssh, {"instance": instance, "region": region,
                                      "public_ip": None}, expect)


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _relative(base: Path, value: str | None) -> str | None:
    if value is None:
        return None
    p = Path(os.path.expanduser(value))
    return str(p if p.is_absolute() else (base / p).resolve())


def _ssh_paths(ssh: dict[str, Any], base: Path) -> dict[str, Any]:
    """The ssh files (key, known_hosts, ssh_config) relative to the profile file."""
    return dict(ssh, **{k: _relative(base, ssh[k])
                        for k in ("identity_file", "known_hosts", "config_file")})


def _http_paths(expect: dict[str, Any], base: Path) -> dict[str, Any]:
    """expect.http[].ca_bundle relative to the profile file, like the ssh paths."""
    http = [dict(e, ca_bundle=_relative(base, e.get("ca_bundle"))) for e in expect["http"]]
    return dict(expect, http=http)


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        return next((v for k, v in node.value if k.value == key), None)
    return None


def target_lines(node: yaml.Node | None) -> tuple[dict[str, int], dict[str, int]]:
    """Lines of the listed targets (by name) and of discovery (overrides by instance
    name, the ``targets_from.lightsail`` block as ``""``), from the composed YAML."""
    listed: dict[str, int] = {}
    targets = _child(node, "targets")
    for item in targets.value if isinstance(targets, yaml.SequenceNode) else []:
        name = _child(item, "name")
        if isinstance(name, yaml.ScalarNode):
            listed.setdefault(name.value, item.start_mark.line + 1)
    found: dict[str, int] = {}
    parent = _child(node, "targets_from")
    key = next((k for k, _ in parent.value if k.value == "lightsail"), None) \
        if isinstance(parent, yaml.MappingNode) else None
    block = _child(parent, "lightsail")
    if key is not None and block is not None:
        found[""] = key.start_mark.line + 1
        overrides = _child(block, "overrides")
        if isinstance(overrides, yaml.MappingNode):
            for key, _ in overrides.value:
                found[key.value] = key.start_mark.line + 1
    return listed, found


def load_profile(path: str | os.PathLike[str]) -> Profile:
    """Read, validate and complete a profile; raise InputError naming the bad field."""
    path = Path(path)
    data, node = read_yaml(path, "profile")
    validate(data, SCHEMA, path, "profile", node)
    schema = load_schema(SCHEMA)
    full = fill_defaults(data, schema, schema)
    names = [t["name"] for t in data.get("targets", [])]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"profile {path}: /targets: target name {dupes[0]!r} is used twice")
    expect_schema = schema["$defs"]["expect"]
    targets = []
    for raw, filled in zip(data.get("targets", []), full.get("targets", []), strict=True):
        expect = _deep_merge(full["expect"], raw.get("expect", {}))
        expect = _http_paths(fill_defaults(expect, expect_schema, schema), path.parent)
        ssh = filled.get("ssh")
        if ssh:
            ssh = _ssh_paths(ssh, path.parent)
        targets.append(Target(filled["name"], ssh, filled.get("lightsail"), expect))
    aws = full["aws"]
    if aws.get("credentials") == "sandbox":
        problem = sandbox_credentials_problem(aws.get("endpoint_url"))
        if problem:
            raise InputError(f"profile {path}: /aws/credentials: {problem}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    discover = full.get("targets_from", {}).get("lightsail")
    listed, found = target_lines(node)
    return Profile(path.resolve(), digest, full["aws"], tuple(targets), discover,
                   expect=full["expect"], lines=listed, discover_lines=found)
