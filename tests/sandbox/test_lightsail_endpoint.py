"""The local Lightsail endpoint speaks the real wire format: checked against botocore's model.

Every body the endpoint sends is validated against the Lightsail *output* (or error) shape
from botocore's own service model, walked recursively: types, required members, enums,
lengths, ranges and patterns. Requests go over real HTTP to 127.0.0.1, raw or via boto3.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
import yaml
from botocore.config import Config

from jada_checks.sandbox.lightsail_endpoint import (
    FAULTS,
    LightsailServer,
    endpoint_command,
    render,
    start_endpoint,
)
from tests.support.paths import REPO

HOSTS = REPO / "sandbox" / "hosts"
MODEL = botocore.session.get_session().get_service_model("lightsail")
ERROR_SHAPES = {s.name: s for s in MODEL.error_shapes}
AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/{region}/lightsail/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=00")
ENV_KEYS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "dummy-secret"}


# -- the validator ----------------------------------------------------------------------

def shape_errors(shape: Any, value: Any, path: str = "$") -> list[str]:
    """Where ``value`` (parsed JSON) breaks the botocore ``shape``; empty when it fits."""
    t, meta = shape.type_name, shape.metadata
    if t == "structure":
        if not isinstance(value, dict):
            return [f"{path}: {shape.name} must be an object, got {type(value).__name__}"]
        errs = [f"{path}.{m}: required by {shape.name}, missing"
                for m in shape.required_members if m not in value]
        wire = {m.serialization.get("name", n): (n, m) for n, m in shape.members.items()}
        for key, v in value.items():
            if key not in wire:
                errs.append(f"{path}.{key}: not a member of {shape.name}")
            else:
                errs += shape_errors(wire[key][1], v, f"{path}.{key}")
        return errs
    if t == "list":
        if not isinstance(value, list):
            return [f"{path}: {shape.name} must be a list"]
        errs = _bounds(path, len(value), meta, "length")
        for i, item in enumerate(value):
            errs += shape_errors(shape.member, item, f"{path}[{i}]")
        return errs
    if t == "map":
        if not isinstance(value, dict):
            return [f"{path}: {shape.name} must be an object"]
        errs = []
        for k, v in value.items():
            errs += shape_errors(shape.key, k, f"{path}<key>")
            errs += shape_errors(shape.value, v, f"{path}.{k}")
        return errs
    if t == "string":
        if not isinstance(value, str):
            return [f"{path}: {shape.name} must be a string, got {value!r}"]
        errs = _bounds(path, len(value), meta, "length")
        if shape.enum and value not in shape.enum:
            errs.append(f"{path}: {value!r} is not one of {shape.name} {shape.enum}")
        if "pattern" in meta:
            try:
                pattern = re.compile(meta["pattern"])
            except re.error:
                pattern = None
            if pattern and not pattern.search(value):
                errs.append(f"{path}: {value!r} does not match {meta['pattern']}")
        return errs
    if t in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{path}: {shape.name} must be an integer, got {value!r}"]
        return _bounds(path, value, meta, "value")
    if t in ("float", "double", "timestamp"):  # JSON 1.1 timestamps: epoch seconds
        if not isinstance(value, int | float) or isinstance(value, bool):
            return [f"{path}: {shape.name} ({t}) must be a number, got {value!r}"]
        return []
    if t == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: must be a boolean, got {value!r}"]
    return [f"{path}: unhandled shape type {t}"]


def _bounds(path: str, n: int | float, meta: dict[str, Any], what: str) -> list[str]:
    errs = []
    if "min" in meta and n < meta["min"]:
        errs.append(f"{path}: {what} {n} below min {meta['min']}")
    if "max" in meta and n > meta["max"]:
        errs.append(f"{path}: {what} {n} above max {meta['max']}")
    return errs


def response_errors(operation: str, status: int, body: bytes) -> list[str]:
    """Validate one HTTP answer: 200 against the output shape, else the AWS error shape."""
    try:
        doc = json.loads(body)
    except ValueError:
        return [f"{operation}: body is not JSON"]
    if status == 200:
        return shape_errors(MODEL.operation_model(operation).output_shape, doc)
    if not isinstance(doc, dict) or not isinstance(doc.get("__type"), str):
        return [f"{operation}: error without __type"]
    rest = {k: v for k, v in doc.items() if k != "__type"}
    shape = ERROR_SHAPES.get(doc["__type"])
    if shape is not None:
        return shape_errors(shape, rest, doc["__type"])
    if set(rest) != {"message"} or not isinstance(rest["message"], str):
        return [f"{operation}: unmodelled error {doc['__type']} must carry only a message"]
    return []


# -- helpers ------------------------------------------------------------------------------

def sample(host: str, name: str) -> dict[str, Any]:
    return render(json.loads((HOSTS / host / "lightsail.json").read_text()),
                  {"name": name, "address": "192.0.2.10"})


def raw(url: str, operation: str, params: dict[str, Any],
        region: str = "us-east-1") -> tuple[int, bytes]:
    req = urllib.request.Request(url + "/", data=json.dumps(params).encode(), method="POST",
                                 headers={"X-Amz-Target": f"Lightsail_20161128.{operation}",
                                          "Content-Type": "application/x-amz-json-1.1",
                                          "Authorization": AUTH.format(region=region)})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def control(url: str, method: str, path: str, doc: Any = None) -> tuple[int, Any]:
    data = None if doc is None else json.dumps(doc).encode()
    req = urllib.request.Request(url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def client(url: str, region: str = "us-east-1") -> Any:
    return boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="dummy",
                         region_name=region).client(
        "lightsail", endpoint_url=url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}))


@pytest.fixture
def server() -> Iterator[LightsailServer]:
    srv, _ = start_endpoint({"us-east-1": {"good": sample("compliant", "good"),
                                           "bad": sample("drifted", "bad")}})
    yield srv
    srv.stop()


# -- the validator itself ---------------------------------------------------------------

def test_validator_catches_wrong_types_enums_and_members() -> None:
    out = MODEL.operation_model("GetInstance").output_shape
    assert shape_errors(out, {"instance": {"name": "web", "isStaticIp": True}}) == []
    bad = {"instance": {"isStaticIp": "yes", "state": {"code": "16"}, "colour": "red",
                        "networking": {"ports": [{"protocol": "TCP", "fromPort": 70000}]}}}
    errs = "\n".join(shape_errors(out, bad))
    assert "isStaticIp: must be a boolean" in errs
    assert "state.code: integer must be an integer, got '16'" in errs
    assert "colour: not a member of Instance" in errs
    assert "'TCP' is not one of NetworkProtocol" in errs
    assert "fromPort: value 70000 above max" in errs
    errs = "\n".join(shape_errors(out, {"instance": {"publicIpAddress": "nope", "name": "-"}}))
    assert "'nope' does not match" in errs and "'-' does not match" in errs


# -- every operation, every sample ------------------------------------------------------

METRICS = MODEL.shape_for("InstanceMetricName").enum


def published_units() -> dict[str, str]:
    """metric -> unit, from the model's own GetInstanceMetricData metricName docs (one <li>
    per metric, "The published unit is <code>Count</code>"): new botocore metrics
    (DiskReadOps ... in 1.44) come with their units instead of a KeyError."""
    doc = MODEL.operation_model("GetInstanceMetricData").input_shape.members[
        "metricName"].documentation
    units = {}
    for item in doc.split("<li>")[1:]:
        name = re.search(r"<b>\s*<code>(\w+)</code>", item)
        unit = re.search(r"published unit is <code>(\w+)</code>", item)
        if name and unit:
            units[name.group(1)] = unit.group(1)
    return units


UNITS = published_units()


def test_every_metric_has_a_documented_unit() -> None:
    assert set(METRICS) <= set(UNITS), set(METRICS) - set(UNITS)
    assert UNITS["StatusCheckFailed"] == "Count" and UNITS["MetadataNoToken"] == "Count"
    assert UNITS["BurstCapacityPercentage"] == "Percent"


def test_every_answer_fits_botocores_output_shapes(server: LightsailServer) -> None:
    url, now = server.url, time.time()
    requests: list[tuple[str, dict[str, Any]]] = [("GetStaticIps", {})]
    for name in ("good", "bad", "absent"):
        requests += [(op, {"instanceName": name}) for op in
                     ("GetInstance", "GetInstanceState", "GetInstancePortStates")]
        requests.append(("GetAutoSnapshots", {"resourceName": name}))
        for metric in METRICS:
            for period in (60, 300):
                requests.append(("GetInstanceMetricData", {
                    "instanceName": name, "metricName": metric, "period": period,
                    "startTime": now - 3600, "endTime": now, "unit": UNITS[metric],
                    "statistics": ["Minimum", "Maximum", "Sum", "Average", "SampleCount"]}))
    requests.append(("GetInstanceMetricData", {"instanceName": "good", "period": 61}))
    statuses = []
    for op, params in requests:
        status, body = raw(url, op, params)
        statuses.append(status)
        assert response_errors(op, status, body) == [], (op, params, body[:300])
    # "absent" answers NotFound to every per-instance request; period 61 is invalid input
    assert statuses.count(400) == 4 + 2 * len(METRICS) + 1
    assert statuses.count(200) == len(requests) - statuses.count(400)


def test_sample_records_fit_the_instance_shape() -> None:
    shape = MODEL.shape_for("Instance")
    for host in ("compliant", "drifted"):
        rec = sample(host, f"{host}-1")
        assert shape_errors(shape, rec["instance"]) == [], host
        assert rec["instance"]["name"] == f"{host}-1"
        assert rec["instance"]["publicIpAddress"] == "192.0.2.10"
        assert rec["instance"]["location"]["regionName"] == "us-east-1"


def test_control_fault_records_fit_the_instance_shape() -> None:
    """The faults the control self-tests inject are answers Lightsail could really give
    (metadataOptions.state pending, httpEndpoint disabled, ipv6Addresses, protocol all ...)."""
    from tests.controls.test_lightsail_controls import CASES, record

    shape = MODEL.shape_for("Instance")
    for name, (mutate, *_) in CASES.items():
        assert shape_errors(shape, record(mutate, name)["instance"]) == [], name
    options = MODEL.shape_for("InstanceMetadataOptions").members
    assert options["state"].enum == ["pending", "applied"]
    assert options["httpTokens"].enum == ["optional", "required"]
    assert options["httpEndpoint"].enum == ["disabled", "enabled"]


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_answers_have_the_aws_error_shape_and_status(server: LightsailServer,
                                                          fault: str) -> None:
    want_status, want_type, _ = FAULTS[fault]
    control(server.url, "POST", "/_jada/faults", {"operation": "GetInstance", "fault": fault,
                                                  "count": 1})
    status, body = raw(server.url, "GetInstance", {"instanceName": "good"})
    assert (status, json.loads(body)["__type"]) == (want_status, want_type)
    assert response_errors("GetInstance", status, body) == []
    if fault == "access_denied":
        assert "lightsail:GetInstance" in json.loads(body)["message"]
    assert raw(server.url, "GetInstance", {"instanceName": "good"})[0] == 200  # used up


def test_error_status_codes_follow_the_lightsail_common_errors_page() -> None:
    assert FAULTS["throttle"][:2] == (400, "ThrottlingException")
    assert FAULTS["access_denied"][:2] == (400, "AccessDeniedException")
    assert FAULTS["http500"][0] == 500
    # the modelled ones really are in botocore's Lightsail model; throttling is not
    assert {"AccessDeniedException", "NotFoundException", "ServiceException"} <= set(ERROR_SHAPES)
    assert "ThrottlingException" not in ERROR_SHAPES


def test_malformed_and_slow_faults(server: LightsailServer) -> None:
    control(server.url, "POST", "/_jada/faults", {"fault": "malformed", "count": 1})
    status, body = raw(server.url, "GetInstance", {"instanceName": "good"})
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(body)
    control(server.url, "POST", "/_jada/faults", {"fault": "slow", "count": 1, "delay": 0.4})
    start = time.monotonic()
    assert raw(server.url, "GetInstance", {"instanceName": "good"})[0] == 200
    assert time.monotonic() - start >= 0.4


# -- fault rules and instrumentation ----------------------------------------------------

def test_fault_rules_match_operation_instance_and_count(server: LightsailServer) -> None:
    url = server.url
    assert control(url, "POST", "/_jada/faults", {"operation": "GetInstance", "fault": "throttle",
                                                  "count": 2, "instance": "bad"})[0] == 200
    assert raw(url, "GetInstance", {"instanceName": "good"})[0] == 200
    assert raw(url, "GetAutoSnapshots", {"resourceName": "bad"})[0] == 200
    assert [raw(url, "GetInstance", {"instanceName": "bad"})[0] for _ in range(3)] == \
        [400, 400, 200]
    control(url, "POST", "/_jada/faults", {"fault": "http500", "count": None})
    assert [raw(url, "GetStaticIps", {})[0] for _ in range(3)] == [500, 500, 500]
    assert control(url, "GET", "/_jada/faults")[1][0]["count"] is None
    assert control(url, "DELETE", "/_jada/faults")[0] == 200
    assert raw(url, "GetStaticIps", {})[0] == 200
    for bad in ({"fault": "explode"}, {"fault": "throttle", "count": 0},
                {"fault": "slow", "delay": -1}, [1]):
        status, doc = control(url, "POST", "/_jada/faults", bad)
        assert status == 400 and doc["message"]


def test_calls_are_counted_per_operation_and_reset(server: LightsailServer) -> None:
    for _ in range(3):
        raw(server.url, "GetInstance", {"instanceName": "good"})
    raw(server.url, "GetAutoSnapshots", {"resourceName": "good"})
    assert control(server.url, "GET", "/_jada/calls")[1] == {"GetInstance": 3,
                                                             "GetAutoSnapshots": 1}
    assert server.instance_calls[("GetInstance", "good")] == 3
    control(server.url, "DELETE", "/_jada/calls")
    assert control(server.url, "GET", "/_jada/calls")[1] == {}


def test_records_can_be_replaced_and_region_comes_from_the_signature(
        server: LightsailServer) -> None:
    rec = sample("compliant", "{{name}}")
    assert control(server.url, "PUT", "/_jada/records", {"eu-west-1": {"eu": rec}})[0] == 200
    assert raw(server.url, "GetInstance", {"instanceName": "eu"}, "us-east-1")[0] == 400
    status, body = raw(server.url, "GetInstance", {"instanceName": "eu"}, "eu-west-1")
    assert status == 200 and json.loads(body)["instance"]["name"] == "eu"


def test_a_broken_record_is_an_aws_shaped_internal_failure(server: LightsailServer) -> None:
    bad = {"instance": {}, "auto_snapshots": [{"age_hours": "soon"}]}
    control(server.url, "PUT", "/_jada/records", {"us-east-1": {"x": bad}})
    status, body = raw(server.url, "GetAutoSnapshots", {"resourceName": "x"})
    assert status == 500 and response_errors("GetAutoSnapshots", status, body) == []
    assert "bad record for x" in json.loads(body)["message"]


def test_requests_without_signature_or_target_are_refused(server: LightsailServer) -> None:
    req = urllib.request.Request(server.url + "/", data=b"{}", method="POST", headers={
        "X-Amz-Target": "Lightsail_20161128.GetInstance",
        "Content-Type": "application/x-amz-json-1.1"})
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=5)
    assert exc.value.code == 403
    assert json.loads(exc.value.read())["__type"] == "MissingAuthenticationTokenException"
    status, body = raw(server.url, "DeleteInstance", {"instanceName": "good"})
    assert status == 400 and json.loads(body)["__type"] == "UnknownOperationException"


# -- metrics are generated relative to now ----------------------------------------------

def test_metric_datapoints_cover_the_window_up_to_now(server: LightsailServer) -> None:
    ls = client(server.url)
    end = time.time()
    ask = {"instanceName": "bad", "metricName": "StatusCheckFailed", "period": 60,
           "startTime": end - 1800, "endTime": end, "unit": "Count", "statistics": ["Sum"]}
    points = ls.get_instance_metric_data(**ask)["metricData"]
    stamps = sorted(p["timestamp"].timestamp() for p in points)
    assert len(points) == 30
    assert end - 1860 <= stamps[0] and stamps[-1] <= end
    assert sum(p["sum"] for p in points) == 1  # the drifted record's spike, 7 min ago
    spike = next(p["timestamp"].timestamp() for p in points if p["sum"])
    assert abs((end - spike) - 7 * 60) <= 60
    five = ls.get_instance_metric_data(**dict(ask, period=300, statistics=["SampleCount"]))
    assert {p["sampleCount"] for p in five["metricData"][1:-1]} == {5.0}
    assert ls.get_instance_metric_data(**dict(ask, unit="Percent"))["metricData"] == []
    assert ls.get_instance_metric_data(**dict(ask, startTime=end + 60,
                                              endTime=end + 600))["metricData"] == []


def test_boto3_parses_answers_and_maps_modelled_errors(server: LightsailServer) -> None:
    ls = client(server.url)
    inst = ls.get_instance(instanceName="good")["instance"]
    assert inst["state"]["name"] == "running" and inst["isStaticIp"] is True
    snaps = ls.get_auto_snapshots(resourceName="good")["autoSnapshots"]
    assert [s["status"] for s in snaps] == ["Success", "Success"]
    assert snaps[0]["createdAt"] > snaps[1]["createdAt"]
    assert ls.get_static_ips()["staticIps"][0]["attachedTo"] == "good"
    ports = ls.get_instance_port_states(instanceName="bad")["portStates"]
    assert {(p["fromPort"], p["state"]) for p in ports} == {(22, "open"), (8080, "open")}
    with pytest.raises(ls.exceptions.NotFoundException):
        ls.get_instance(instanceName="nope")


# -- a full run of the suite: every response it saw fits the model ----------------------

def test_every_response_of_a_full_run_fits_the_model(tmp_path: Path) -> None:
    records = {"us-east-1": {"good": sample("compliant", "good"),
                             "bad": sample("drifted", "bad")}}
    srv, url = start_endpoint(records)
    try:
        for fault in ("throttle", "access_denied", "http500"):
            srv.add_fault({"operation": "*", "fault": fault, "count": None,
                           "instance": f"f-{fault}"})
            records["us-east-1"][f"f-{fault}"] = sample("compliant", f"f-{fault}")
        names = [*records["us-east-1"], "missing"]
        profile = {"version": 1, "aws": {"endpoint_url": url, "read_timeout": 2,
                                         "max_attempts": 2},
                   "targets": [{"name": n, "lightsail": {"instance": n, "region": "us-east-1",
                                                         "public_ip": "192.0.2.10"}}
                               for n in names]}
        (tmp_path / "p.yaml").write_text(yaml.safe_dump(profile))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(ENV_KEYS, AWS_CONFIG_FILE=str(tmp_path / "none"),
                   AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
                   AWS_EC2_METADATA_DISABLED="true")
        proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                               "-p", "no:hypothesispytest", "--jada-profile",
                               str(tmp_path / "p.yaml"), "-q"],
                              cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=60)
        exchanges = list(srv.exchanges)
    finally:
        srv.stop()
    assert proc.returncode == 1, proc.stdout[-2000:]
    ops = {op for op, _, _ in exchanges}
    assert ops == {"GetInstance", "GetInstanceMetricData", "GetAutoSnapshots"}
    assert {status for _, status, _ in exchanges} == {200, 400, 500}
    for op, status, body in exchanges:
        assert response_errors(op, status, body) == [], (op, status, body[:300])


# -- running as a process (what the sandbox does) ---------------------------------------

def test_endpoint_command_runs_writes_its_port_and_stops_on_sigterm(tmp_path: Path) -> None:
    records_file, port_file = tmp_path / "records.json", tmp_path / "port"
    records_file.write_text(json.dumps({"us-east-1": {"good": sample("compliant", "good")}}))
    argv = endpoint_command(records_file, port_file)
    assert argv[:3] == [sys.executable, "-m", "jada_checks.sandbox.lightsail_endpoint"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while not (port_file.exists() and port_file.read_text().strip()):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
            time.sleep(0.05)
        url = f"http://127.0.0.1:{int(port_file.read_text())}"
        assert control(url, "GET", "/_jada/health") == (200, {"ok": True})
        assert client(url).get_instance(instanceName="good")["instance"]["name"] == "good"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_reports_unreadable_records(tmp_path: Path) -> None:
    proc = subprocess.run(endpoint_command(tmp_path / "absent.json", tmp_path / "port"),
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "cannot read records" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- discovery: GetInstances pages and GetRegions ---------------------------------------

def test_get_instances_pages_follow_botocores_shapes_and_paginator() -> None:
    """25 instances: pages of 10, each body valid against GetInstancesResult, and boto3's
    own paginator (pageToken -> nextPageToken, from botocore's paginators-1.json) reads
    every instance exactly once."""
    names = [f"web-{i:02d}" for i in range(25)]
    srv, url = start_endpoint({"us-east-1": {n: sample("compliant", n) for n in names},
                               "eu-west-2": {"solo": sample("compliant", "solo")}})
    try:
        status, body = raw(url, "GetInstances", {})
        first = json.loads(body)
        assert status == 200 and response_errors("GetInstances", status, body) == []
        assert [i["name"] for i in first["instances"]] == names[:10]
        assert isinstance(first["nextPageToken"], str)
        status, body = raw(url, "GetInstances", {"pageToken": first["nextPageToken"]})
        assert response_errors("GetInstances", status, body) == []
        status, body = raw(url, "GetInstances", {"pageToken": "jada:us-east-1:9999"})
        assert status == 400 and response_errors("GetInstances", status, body) == []
        pages = list(client(url).get_paginator("get_instances").paginate())
        assert [len(p["instances"]) for p in pages] == [10, 10, 5]
        assert [i["name"] for p in pages for i in p["instances"]] == names
        status, body = raw(url, "GetInstances", {}, region="eu-west-2")
        assert [i["name"] for i in json.loads(body)["instances"]] == ["solo"]
        assert "nextPageToken" not in json.loads(body)
        status, body = raw(url, "GetRegions", {"includeAvailabilityZones": True})
        assert status == 200 and response_errors("GetRegions", status, body) == []
        regions = {r["name"] for r in json.loads(body)["regions"]}
        assert {"us-east-1", "eu-west-2", "ap-south-1"} <= regions
    finally:
        srv.stop()


def test_a_fault_can_hit_one_region_only() -> None:
    srv, url = start_endpoint({"us-east-1": {"a": sample("compliant", "a")},
                               "eu-west-2": {"b": sample("compliant", "b")}})
    try:
        assert control(url, "POST", "/_jada/faults", {"operation": "GetInstances",
                                                      "fault": "access_denied",
                                                      "region": "eu-west-2"})[0] == 200
        assert raw(url, "GetInstances", {}, region="us-east-1")[0] == 200
        status, body = raw(url, "GetInstances", {}, region="eu-west-2")
        assert status == 400 and b"lightsail:GetInstances" in body
    finally:
        srv.stop()


def test_endpoint_backlog_holds_a_whole_fleet_of_concurrent_calls() -> None:
    """socketserver listens with a backlog of 5: a suite run's dozens of concurrent calls
    overflowed it on a loaded machine, and a lost first attempt made the retry the only
    call the endpoint saw (the flaky fault counts of tests/controls/test_lightsail_controls.py)."""
    srv, _ = start_endpoint({"us-east-1": {}})
    try:
        port = srv.server_address[1]
        # ss shows a listening socket's backlog in Send-Q (ss(8)).
        out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True,
                             text=True, check=True).stdout.split()
        assert int(out[2]) >= 128, out
    finally:
        srv.stop()
