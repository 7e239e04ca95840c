"""Targets discovered from Lightsail: ``targets_from: {lightsail: {regions, tags, ...}}``.

One target per instance that carries every wanted tag, named after the instance, with its
public IP as the SSH host. The calls are ``GetRegions`` (only when the profile names no
regions) and ``GetInstances`` in each region, following ``nextPageToken`` until it is
absent (the Lightsail API reference: "To get a page of results, perform another
GetInstances request and specify the next page token using the pageToken parameter";
https://docs.aws.amazon.com/lightsail/2016-11-28/api-reference/API_GetInstances.html).
Regions are asked concurrently. A region whose calls fail is kept with its reason, so the
run reports it (and fails the gate) while the other regions' targets are still checked.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from jada_checks.aws.lightsail import AwsSettings, LightsailApi
from jada_checks.model import CheckError
from jada_checks.profile import Profile, Target

# Operations discovery calls; ci/iam-policy.json grants them (self-tested).
DISCOVERY_OPERATIONS = ("GetRegions", "GetInstances")
# GetRegions is answered by any region's endpoint; us-east-1 is Lightsail's home region.
HOME_REGION = "us-east-1"
MAX_PAGES = 1000  # a token that never ends is the endpoint's defect, not an endless run


def regions(settings: AwsSettings) -> list[str]:
    """Every region GetRegions lists (raises CheckError naming the cause)."""
    api = LightsailApi(settings, HOME_REGION)
    answer = api.call("GetRegions")
    found = answer.get("regions")
    if not isinstance(found, list) or not all(isinstance(r, dict) and
                                              isinstance(r.get("name"), str) for r in found):
        raise api.malformed("GetRegions", "no list of regions with names")
    return sorted(r["name"] for r in found)


def instances(settings: AwsSettings, region: str) -> list[dict[str, Any]]:
    """Every instance of one region, all pages (raises CheckError naming the cause)."""
    api = LightsailApi(settings, region)
    out: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        answer = api.call("GetInstances", **({"pageToken": token} if token else {}))
        page = answer.get("instances")
        if not isinstance(page, list) or not all(isinstance(i, dict) for i in page):
            raise api.malformed("GetInstances", "no instances list")
        out.extend(page)
        token = answer.get("nextPageToken")
        if not token:
            return out
    raise api.malformed("GetInstances", f"still a nextPageToken after {MAX_PAGES} pages")


def matches(instance: dict[str, Any], tags: dict[str, str]) -> bool:
    have = {t.get("key"): t.get("value", "") for t in instance.get("tags") or []
            if isinstance(t, dict)}
    return all(have.get(k) == v for k, v in tags.items())


def expand(profile: Profile) -> Profile:
    """The profile with its discovered targets added and ``discovery`` filled in."""
    spec = profile.discover
    if spec is None:
        return profile
    settings = AwsSettings.from_profile(profile.aws)
    report: dict[str, Any] = {"source": "lightsail", "tags": dict(spec["tags"]),
                              "regions": {}}
    wanted = spec.get("regions")
    if not wanted:
        try:
            wanted = regions(settings)
        except CheckError as exc:
            report["error"] = f"GetRegions: {exc}"
            return replace(profile, discovery=report)
    with ThreadPoolExecutor(max_workers=min(8, len(wanted))) as pool:
        answers = dict(zip(wanted, pool.map(lambda r: _region(settings, r), wanted),
                           strict=True))
    hand_written = {t.name for t in profile.targets}
    listed = set(hand_written)
    found: list[Target] = []
    for region in sorted(answers):
        got = answers[region]
        if isinstance(got, str):
            report["regions"][region] = {"error": got}
            continue
        names = []
        for inst in sorted(got, key=lambda i: str(i.get("name"))):
            name, ip = inst.get("name"), inst.get("publicIpAddress")
            if not matches(inst, spec["tags"]) or not isinstance(name, str):
                continue
            names.append(name)
            if name in listed:
                if name in hand_written:  # the hand-written entry wins
                    report.setdefault("listed", []).append(name)
                continue
            if not isinstance(ip, str) or not ip:
                report.setdefault("no_public_ip", []).append(f"{region}/{name}")
                continue
            found.append(profile.discovered_target(name, region, ip))
            listed.add(name)
        report["regions"][region] = {"instances": names}
    found.sort(key=lambda t: t.name)
    report["targets"] = [t.name for t in found]
    return replace(profile, targets=profile.targets + tuple(found), discovery=report)


def _region(settings: AwsSettings, region: str) -> list[dict[str, Any]] | str:
    try:
        return instances(settings, region)
    except CheckError as exc:
        return str(exc)


def summary(discovery: dict[str, Any]) -> str:
    """One line for the header: what was discovered where, and which regions failed."""
    tags = ", ".join(f"{k}={v}" for k, v in discovery.get("tags", {}).items()) or "any tags"
    if "error" in discovery:
        return f"Lightsail discovery ({tags}) failed: {discovery['error']}"
    parts = []
    for region, got in discovery["regions"].items():
        parts.append(f"{region}: {len(got['instances'])}" if "instances" in got
                     else f"{region}: ERROR {got['error']}")
    line = f"discovered from Lightsail ({tags}): " + "; ".join(parts)
    if discovery.get("no_public_ip"):
        line += f"; without a public IP (not checked): {', '.join(discovery['no_public_ip'])}"
    return line

