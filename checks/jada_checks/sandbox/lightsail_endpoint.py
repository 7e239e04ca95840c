"""A local Lightsail endpoint (AWS JSON 1.1 on 127.0.0.1) for the sandbox and the self-tests.

The suite talks to it with real boto3, so everything between the controls and the wire
(signing, retries, timeouts, error parsing) is exercised as against AWS. It serves the
records of ``{region: {instance name: record}}`` (format in docs/lightsail.md); metric
datapoints and snapshot times are generated relative to *now* at request time, so the
controls' windows always see fresh data. ``/_jada/...`` lets a test inject faults and
read how often each operation was called (the IAM policy test relies on that count).

Run: ``python -m jada_checks.sandbox.lightsail_endpoint --records FILE --port-file FILE``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import sys
import threading
import time
import uuid
from collections import Counter, deque
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
TARGET_PREFIX = "Lightsail_20161128."
CONTENT_TYPE = "application/x-amz-json-1.1"
DOCS = "https://docs.aws.amazon.com/lightsail/2016-11-28/api-reference/"
STATISTICS = ("Minimum", "Maximum", "Sum", "Average", "SampleCount")
MAX_DATAPOINTS = 1440
# GetInstances pages: small, so a dozen sandbox hosts in a region already take two pages.
PAGE_SIZE = 10
PAGE_TOKEN = re.compile(r"jada:([a-z0-9-]+):(\d+)")
# Lightsail's regions (AWS General Reference, "Amazon Lightsail endpoints and quotas").
LIGHTSAIL_REGIONS = ("us-east-1", "us-east-2", "us-west-2", "ca-central-1", "eu-west-1",
                     "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1",
                     "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-northeast-1",
                     "ap-northeast-2")

# fault -> (HTTP status, __type, message). Status codes follow the Lightsail API reference
# "Common Errors" page (AccessDenied, Throttling: 400; InternalFailure: 500;
# InvalidClientTokenId: 403); ServiceException is Lightsail's own modelled 5xx error.
FAULTS: dict[str, tuple[int, str, str]] = {
    "throttle": (400, "ThrottlingException", "Rate exceeded"),
    "http500": (500, "ServiceException", "An internal error occurred. Please try again."),
    "unavailable": (503, "ServiceUnavailable", "Service is temporarily unavailable."),
    "access_denied": (400, "AccessDeniedException",
                      "User: arn:aws:iam::000000000000:user/jada-checks is not authorized to "
                      "perform: lightsail:{operation} on resource: *"),
    "not_found": (400, "NotFoundException", "The {resource} does not exist: {name}"),
    "expired_token": (400, "ExpiredTokenException",
                      "The security token included in the request is expired"),
    "invalid_token": (403, "UnrecognizedClientException",
                      "The security token included in the request is invalid."),
}
BEHAVIOUR_FAULTS = ("slow", "malformed")
# Lightsail's modelled errors carry code/docs/message/tip; the common ones only a message.
MODELLED = {"NotFoundException": "NotFound", "AccessDeniedException": "AccessDenied",
            "InvalidInputException": "InvalidInput", "ServiceException": "ServiceException",
            "UnauthenticatedException": "Unauthenticated"}
CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/lightsail/aws4_request")


class ApiError(Exception):
    def __init__(self, status: int, type_: str, message: str) -> None:
        super().__init__(message)
        self.status, self.type, self.message = status, type_, message

    def body(self) -> dict[str, Any]:
        if self.type in MODELLED:
            return {"__type": self.type, "code": MODELLED[self.type], "docs": DOCS,
                    "message": self.message, "tip": ""}
        return {"__type": self.type, "message": self.message}


def invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidInputException", message)


def render(value: Any, subs: dict[str, str]) -> Any:
    """Replace ``{{name}}``-style placeholders in every string of a record."""
    if isinstance(value, str):
        for key, sub in subs.items():
            value = value.replace("{{" + key + "}}", sub)
        return value
    if isinstance(value, list):
        return [render(v, subs) for v in value]
    if isinstance(value, dict):
        return {k: render(v, subs) for k, v in value.items()}
    return value


class LightsailServer(ThreadingHTTPServer):
    """The HTTP server plus the state the handlers share (records, faults, call counts)."""

    daemon_threads = True
    # socketserver's default listen backlog is 5. A suite run asks for dozens of targets at
    # once; on a loaded machine the accept queue overflows, the kernel drops the client's
    # final ACK, the client's request is never read, and its retry is the only call the
    # endpoint sees (a throttle-once target then "fails after 2 attempts"). listen(2) caps
    # this at net.core.somaxconn.
    request_queue_size = 1024

    def __init__(self, records: dict[str, Any], port: int = 0) -> None:
        super().__init__((HOST, port), Handler)
        self.lock = threading.Lock()
        self.records = records
        self.faults: list[dict[str, Any]] = []
        self.calls: Counter[str] = Counter()
        self.instance_calls: Counter[tuple[str, str]] = Counter()
        self.exchanges: deque[tuple[str, int, bytes]] = deque(maxlen=20000)
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}"

    def take_fault(self, operation: str, instance: str,
                   region: str = "") -> dict[str, Any] | None:
        """The first rule matching operation, instance and region; a counted rule is used
        up."""
        with self.lock:
            for rule in self.faults:
                if rule["operation"] in (operation, "*") and \
                        rule["instance"] in (instance, None) and \
                        rule.get("region") in (region, None):
                    if rule["count"] is not None:
                        rule["count"] -= 1
                        if rule["count"] <= 0:
                            self.faults.remove(rule)
                    return dict(rule)
        return None

    def add_fault(self, spec: Any) -> dict[str, Any]:
        if not isinstance(spec, dict):
            raise ValueError("a fault is a JSON object")
        fault = spec.get("fault")
        if fault not in FAULTS and fault not in BEHAVIOUR_FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of "
                             f"{sorted([*FAULTS, *BEHAVIOUR_FAULTS])}")
        count = spec.get("count")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise ValueError("count is a positive integer or null (persistent)")
        delay = spec.get("delay", 5.0)
        if not isinstance(delay, int | float) or delay < 0:
            raise ValueError("delay is a number of seconds >= 0")
        instance = spec.get("instance")
        if instance is not None and not isinstance(instance, str):
            raise ValueError("instance is an instance name or null (any)")
        region = spec.get("region")
        if region is not None and not isinstance(region, str):
            raise ValueError("region is a region name or null (any)")
        rule = {"operation": str(spec.get("operation", "*")), "fault": fault,
                "count": count, "delay": float(delay), "instance": instance,
                "region": region}
        with self.lock:
            self.faults.append(rule)
        return rule

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up mid-request is normal under fault injection: stay quiet."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    server: LightsailServer
    protocol_version = "HTTP/1.1"
    server_version = "jada-lightsail-endpoint"
    # Headers and body go out in two writes on a kept-alive connection: with Nagle's
    # algorithm the body waited for the client's delayed ACK of the headers (up to 40 ms
    # per answer; 8 of the 11 s of a 23-target self-test run were spent waiting for it).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        if os.environ.get("JADA_ENDPOINT_LOG"):
            super().log_message(format, *args)

    # -- plumbing ---------------------------------------------------------------------
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, content_type: str = CONTENT_TYPE) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (read timeout): nothing to do

    def _send_json(self, status: int, doc: Any, content_type: str = CONTENT_TYPE) -> None:
        self._send(status, json.dumps(doc).encode(), content_type)

    # -- the control API ----------------------------------------------------------------
    def do_GET(self) -> None:
        with self.server.lock:  # copy under the lock, send outside it
            views = {"/_jada/calls": dict(self.server.calls),
                     "/_jada/faults": [dict(r) for r in self.server.faults],
                     "/_jada/health": {"ok": True}}
        if self.path in views:
            return self._send_json(200, views[self.path], "application/json")
        self._send_json(404, {"message": "not found"}, "application/json")

    def do_DELETE(self) -> None:
        with self.server.lock:
            if self.path == "/_jada/faults":
                self.server.faults.clear()
            elif self.path == "/_jada/calls":
                self.server.calls.clear()
            else:
                return self._send_json(404, {"message": "not found"}, "application/json")
        self._send_json(200, {"ok": True}, "application/json")

    def do_PUT(self) -> None:
        if self.path != "/_jada/records":
            return self._send_json(404, {"message": "not found"}, "application/json")
        try:
            records = json.loads(self._read_body())
        except ValueError as exc:
            return self._send_json(400, {"message": f"bad JSON: {exc}"}, "application/json")
        with self.server.lock:
            self.server.records = records
        self._send_json(200, {"ok": True}, "application/json")

    def do_POST(self) -> None:
        if self.path == "/_jada/faults":
            try:
                rule = self.server.add_fault(json.loads(self._read_body() or b"null"))
            except ValueError as exc:
                return self._send_json(400, {"message": str(exc)}, "application/json")
            return self._send_json(200, rule, "application/json")
        if self.path != "/":
            return self._send_json(404, {"message": "not found"}, "application/json")
        self._api()

    # -- the Lightsail API --------------------------------------------------------------
    def _api(self) -> None:
        raw = self._read_body()
        target = self.headers.get("X-Amz-Target", "")
        operation = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else ""
        instance = subject(raw)
        with self.server.lock:
            self.server.calls[operation or "(none)"] += 1
            self.server.instance_calls[(operation or "(none)", instance)] += 1
        scope = CREDENTIAL_SCOPE.search(self.headers.get("Authorization", ""))
        status, body = self._answer(operation, instance, raw, scope.group(1) if scope else "")
        with self.server.lock:
            self.server.exchanges.append((operation, status, body))
        self._send(status, body)

    def _answer(self, operation: str, instance: str, raw: bytes,
                region: str = "") -> tuple[int, bytes]:
        try:
            fault = self.server.take_fault(operation, instance, region) if operation else None
            if fault and fault["fault"] == "slow":
                self.server.stopping.wait(fault["delay"])
            if fault and fault["fault"] == "malformed":
                return 200, b'{"instance": {"name": "trunc'
            if fault and fault["fault"] in FAULTS:
                status, type_, message = FAULTS[fault["fault"]]
                raise ApiError(status, type_, message.format(
                    operation=operation, resource="Instance", name=instance))
            return 200, json.dumps(self._dispatch(operation, raw)).encode()
        except ApiError as exc:
            return exc.status, json.dumps(exc.body()).encode()
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # A broken record is the sandbox author's error: say so in AWS's error shape.
            failure = ApiError(500, "InternalFailure", f"local endpoint: bad record for "
                               f"{instance or operation}: {type(exc).__name__}: {exc}")
            return failure.status, json.dumps(failure.body()).encode()

    def _dispatch(self, operation: str, raw: bytes) -> dict[str, Any]:
        if not operation:
            raise ApiError(400, "UnknownOperationException", "missing or foreign X-Amz-Target")
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype != CONTENT_TYPE:
            raise ApiError(400, "SerializationException", f"content type must be {CONTENT_TYPE}")
        scope = CREDENTIAL_SCOPE.search(self.headers.get("Authorization", ""))
        if scope is None:
            raise ApiError(403, "MissingAuthenticationTokenException",
                           "Missing Authentication Token")
        try:
            params = json.loads(raw or b"{}")
        except ValueError:
            raise ApiError(400, "SerializationException", "request body is not JSON") from None
        if not isinstance(params, dict):
            raise ApiError(400, "SerializationException", "request body is not an object")
        handler = OPERATIONS.get(operation)
        if handler is None:
            raise ApiError(400, "UnknownOperationException",
                           f"operation {operation} is not served by the local endpoint")
        with self.server.lock:
            region_records = self.server.records.get(scope.group(1), {})
            regions = tuple(self.server.records)
        return handler(Region(scope.group(1), region_records, regions), params, time.time())


def subject(raw: bytes) -> str:
    """The instance a request is about (for per-instance faults and call counts)."""
    try:
        params = json.loads(raw or b"{}")
    except ValueError:
        return ""
    if not isinstance(params, dict):
        return ""
    name = params.get("instanceName") or params.get("resourceName") or ""
    return name if isinstance(name, str) else ""


class Region:
    """One region's records, rendered on demand."""

    def __init__(self, name: str, records: dict[str, Any],
                 all_regions: tuple[str, ...] = ()) -> None:
        self.name, self.records, self.all_regions = name, records, all_regions

    def record(self, params: dict[str, Any], key: str = "instanceName") -> tuple[str, dict]:
        name = params.get(key)
        if not isinstance(name, str) or not name:
            raise invalid(f"{key} is required")
        rec = self.records.get(name)
        if not isinstance(rec, dict):
            raise ApiError(400, "NotFoundException", f"The Instance does not exist: {name}")
        subs = {"name": name, "region": self.name}
        if isinstance(rec.get("address"), str):
            subs["address"] = rec["address"]
        return name, render(rec, subs)

    def instance(self, params: dict[str, Any], key: str = "instanceName") -> dict[str, Any]:
        return instance_of(*self.record(params, key))


def instance_of(name: str, rec: dict[str, Any]) -> dict[str, Any]:
    inst = dict(rec.get("instance") or {})
    inst.setdefault("name", name)
    return inst


def get_instance(region: Region, params: dict[str, Any], now: float) -> dict[str, Any]:
    return {"instance": region.instance(params)}


def get_instances(region: Region, params: dict[str, Any], now: float) -> dict[str, Any]:
    """One page of the region's instances, by name; ``nextPageToken`` while more remain
    (GetInstances: request ``pageToken``, response ``instances`` and ``nextPageToken``)."""
    names = sorted(region.records)
    token = params.get("pageToken")
    start = 0
    if token is not None:
        match = PAGE_TOKEN.fullmatch(token) if isinstance(token, str) else None
        if match is None or match.group(1) != region.name or \
                not 0 < int(match.group(2)) < len(names):
            raise invalid(f"pageToken {str(token)[:60]!r} is not a token this endpoint gave")
        start = int(match.group(2))
    page = [region.instance({"instanceName": n}) for n in names[start:start + PAGE_SIZE]]
    answer: dict[str, Any] = {"instances": page}
    if start + PAGE_SIZE < len(names):
        answer["nextPageToken"] = f"jada:{region.name}:{start + PAGE_SIZE}"
    return answer


def get_regions(region: Region, params: dict[str, Any], now: float) -> dict[str, Any]:
    """Lightsail's regions, plus any region the records use (GetRegions is not paged)."""
    names = sorted(set(LIGHTSAIL_REGIONS) | set(region.all_regions))
    zones = bool(params.get("includeAvailabilityZones"))
    return {"regions": [
        {"continentCode": name.split("-")[0].upper()[:2], "description": f"sandbox {name}",
         "displayName": name, "name": name,
         "availabilityZones": ([{"zoneName": f"{name}a", "state": "available"}]
                               if zones else []),
         "relationalDatabaseAvailabilityZones": []} for name in names]}


def get_instance_state(region: Region, params: dict[str, Any], now: float) -> dict[str, Any]:
    return {"state": region.instance(params).get("state", {"code": 16, "name": "running"})}


def get_instance_port_states(region: Region, params: dict[str, Any],
                             now: float) -> dict[str, Any]:
    states = []
    for port in region.instance(params).get("networking", {}).get("ports", []):
        if port.get("accessDirection", "inbound") != "inbound":
            continue
        state = {k: port[k] for k in ("fromPort", "toPort", "protocol", "cidrs", "ipv6Cidrs",
                                      "cidrListAliases") if k in port}
        states.append(dict(state, state="open"))
    return {"portStates": states}


def get_static_ips(region: Region, params: dict[str, Any], now: float) -> dict[str, Any]:
    ips = []
    for name in sorted(region.records):
        inst = region.instance({"instanceName": name})
        if inst.get("isStaticIp") and inst.get("publicIpAddress"):
            ips.append({"name": f"{name}-ip", "resourceType": "StaticIp",
                        "location": inst.get("location", {"regionName": region.name}),
                        "ipAddress": inst["publicIpAddress"], "attachedTo": name,
                        "isAttached": True})
    return {"staticIps": ips}


def get_auto_snapshots(region: Region, params: dict[str, Any], now: float) -> dict[str, Any]:
    name, rec = region.record(params, "resourceName")
    snaps = []
    for spec in rec.get("auto_snapshots", []):
        created = now - float(spec.get("age_hours", 0)) * 3600
        snaps.append({"date": datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%d"),
                      "createdAt": round(created, 3), "status": spec.get("status", "Success"),
                      "fromAttachedDisks": []})
    snaps.sort(key=lambda s: s["createdAt"], reverse=True)
    return {"resourceName": name, "resourceType": "Instance", "autoSnapshots": snaps}


def get_instance_metric_data(region: Region, params: dict[str, Any],
                             now: float) -> dict[str, Any]:
    name, rec = region.record(params)
    metric, unit = params.get("metricName"), params.get("unit")
    period, stats = params.get("period"), params.get("statistics")
    try:
        start, end = float(params["startTime"]), float(params["endTime"])
    except (KeyError, TypeError, ValueError):
        raise invalid("startTime and endTime are required timestamps") from None
    if not isinstance(period, int) or not 60 <= period <= 86400 or period % 60:
        raise invalid("period must be a multiple of 60 between 60 and 86400")
    if not isinstance(stats, list) or not stats or not set(stats) <= set(STATISTICS):
        raise invalid(f"statistics must be a non-empty subset of {list(STATISTICS)}")
    if end <= start:
        raise invalid("endTime must be after startTime")
    if (end - start) / period > MAX_DATAPOINTS:
        raise invalid(f"the request would return more than {MAX_DATAPOINTS} datapoints")
    spec = rec.get("metrics", {}).get(metric)
    if not isinstance(spec, dict) or spec.get("unit", "Count") != unit:
        return {"metricName": metric, "metricData": []}  # CloudWatch semantics: no match
    points = [datapoint(t, samples, stats, unit)
              for t, samples in buckets(spec, start, end, period, now)]
    return {"metricName": metric, "metricData": points[::-1]}  # the API promises no order


def buckets(spec: dict[str, Any], start: float, end: float, period: int,
            now: float) -> list[tuple[int, list[float]]]:
    """Samples every ``resolution`` s in [start, end) up to now, grouped by period."""
    resolution = int(spec.get("resolution", 60))
    since = now - float(spec["available_minutes"]) * 60 if "available_minutes" in spec else 0
    spikes = {}
    for spike in spec.get("spikes", []):
        at = now - float(spike["minutes_ago"]) * 60
        spikes[int(at // resolution) * resolution] = float(spike["value"])
    grouped: dict[int, list[float]] = {}
    t = math.ceil(start / resolution) * resolution
    while t < end and t <= now:
        if t >= since:
            value = spikes.get(t, float(spec.get("value", 0)))
            grouped.setdefault(int(t // period) * period, []).append(value)
        t += resolution
    return sorted(grouped.items())


def datapoint(t: int, samples: list[float], stats: list[str], unit: str) -> dict[str, Any]:
    values = {"Minimum": min(samples), "Maximum": max(samples), "Sum": sum(samples),
              "Average": sum(samples) / len(samples), "SampleCount": float(len(samples))}
    point: dict[str, Any] = {"timestamp": t, "unit": unit}
    for stat in stats:
        point[stat[0].lower() + stat[1:]] = values[stat]
    return point


OPERATIONS = {
    "GetInstance": get_instance,
    "GetInstanceState": get_instance_state,
    "GetInstancePortStates": get_instance_port_states,
    "GetInstanceMetricData": get_instance_metric_data,
    "GetAutoSnapshots": get_auto_snapshots,
    "GetStaticIps": get_static_ips,
    "GetInstances": get_instances,
    "GetRegions": get_regions,
}


# How often serve_forever() looks for shutdown(); socketserver's 0.5 s default made every
# stop() wait up to half a second: most of the time of a self-test that starts one.
POLL_INTERVAL = 0.02


def start_endpoint(records: dict[str, Any], port: int = 0) -> tuple[LightsailServer, str]:
    """Serve ``records`` from a daemon thread; stop with ``server.stop()``."""
    server = LightsailServer(records, port)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL},
                     name="lightsail-endpoint", daemon=True).start()
    return server, server.url


def endpoint_command(records_file: str | os.PathLike[str],
                     port_file: str | os.PathLike[str]) -> list[str]:
    """The argv that runs the endpoint as a background process (for the sandbox CLI)."""
    return [sys.executable, "-m", "jada_checks.sandbox.lightsail_endpoint",
            "--records", str(records_file), "--port-file", str(port_file)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="lightsail_endpoint", description=__doc__.split("\n")[0])
    ap.add_argument("--records", required=True, help="JSON {region: {instance: record}}")
    ap.add_argument("--port-file", required=True, help="written with the port once listening")
    ap.add_argument("--port", type=int, default=0, help="0 (default) picks a free port")
    args = ap.parse_args(argv)
    try:
        records = json.loads(Path(args.records).read_text())
    except (OSError, ValueError) as exc:
        print(f"lightsail_endpoint: cannot read records {args.records}: {exc}", file=sys.stderr)
        return 2
    server = LightsailServer(records, args.port)
    tmp = Path(f"{args.port_file}.tmp")
    tmp.write_text(f"{server.server_address[1]}\n")
    tmp.replace(args.port_file)  # atomic: a reader never sees a half-written port
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.stop).start())
    print(f"lightsail endpoint listening on {server.url}", file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=POLL_INTERVAL)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
