"""Lightsail discovery as the Markdown and HTML reports show it, from ``run.discovery``.

The header line says it in one line (:func:`jada_checks.aws.discovery.summary`); a report
is read later, by someone asking "why is this host (not) here?", so it spells out each
part: the tags matched, every region asked with its instances or its error, which targets
came from discovery, which were already listed by hand, and which could not be checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RegionRow:
    region: str
    instances: list[str] | None  # None: the region's calls failed
    error: str | None


@dataclass(frozen=True)
class DiscoveryView:
    tags: str
    error: str | None  # GetRegions failed: no region was asked
    regions: list[RegionRow]
    targets: list[str]  # targets the run checked because discovery found them
    listed: list[str]  # matching instances the profile lists by hand (its entry is used)
    no_public_ip: list[str]  # region/name of matching instances that were not checked


def view(discovery: dict[str, Any]) -> DiscoveryView:
    tags = ", ".join(f"{k}={v}" for k, v in discovery.get("tags", {}).items()) or "any tags"
    rows = [RegionRow(region, got.get("instances"), got.get("error"))
            for region, got in sorted(discovery.get("regions", {}).items())]
    return DiscoveryView(tags, discovery.get("error"), rows,
                         list(discovery.get("targets", [])), list(discovery.get("listed", [])),
                         list(discovery.get("no_public_ip", [])))


def matched(v: DiscoveryView) -> int:
    """Matching instances over every region that answered."""
    return sum(len(r.instances or []) for r in v.regions)
