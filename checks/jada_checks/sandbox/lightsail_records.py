"""Gathering the hosts' ``lightsail.json`` records for the local Lightsail endpoint.

A record is the host's file with ``{{name}}`` replaced by the host's name and
``{{address}}`` by its sandbox IPv4 address, so the instance's public address is the
address the profile's SSH target uses. The endpoint serves them by region and name.
"""

from __future__ import annotations

import json
from typing import Any

from jada_checks.sandbox.hostdir import HostDir, HostDirError


def render(hostdir: HostDir, name: str, address: str = "0.0.0.0") -> dict[str, Any] | None:
    path = hostdir.nearest("lightsail.json")
    if path is None:
        return None
    text = path.read_text().replace("{{name}}", name).replace("{{address}}", address)
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HostDirError(f"{path}: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    inst = record.get("instance") if isinstance(record, dict) else None
    if not isinstance(inst, dict) or "name" not in inst or \
            "regionName" not in inst.get("location", {}):
        raise HostDirError(f"{path}: expected an object with instance.name and "
                           "instance.location.regionName")
    return record


def instance_of(hostdir: HostDir, name: str) -> tuple[str, str] | None:
    """(instance name, region) of a host's record, or None when it has none."""
    record = render(hostdir, name)
    if record is None:
        return None
    inst = record["instance"]
    return inst["name"], inst["location"]["regionName"]


def collect(hosts: dict[str, tuple[HostDir, str]]) -> dict[str, dict[str, Any]]:
    """{region: {instance name: record}} for every host that has a record."""
    out: dict[str, dict[str, Any]] = {}
    for name, (hostdir, address) in hosts.items():
        record = render(hostdir, name, address)
        if record is not None:
            inst = record["instance"]
            out.setdefault(inst["location"]["regionName"], {})[inst["name"]] = record
    return out
