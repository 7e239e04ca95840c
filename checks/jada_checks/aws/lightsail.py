"""Lightsail through boto3: the only place the suite talks to AWS.

boto3 is imported on the first API call, never at import time, so collecting the suite
stays fast. Clients are made once per (region, settings) per process and reused. Every
failure to ask becomes a :class:`~jada_checks.model.CheckError` whose message names the cause
(the refused IAM action, the endpoint and timeout, ...) and never a credential; a missing
instance is the distinct :class:`NotFound`, which JADA-LS-01 reports as a *failure*.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from jada_checks import processes
from jada_checks.aws.credentials import SANDBOX_CREDENTIALS, sandbox_credentials_problem
from jada_checks.model import CheckError
from jada_checks.parsers.numbers import NumberError, finite

if TYPE_CHECKING:
    from jada_checks.profile import Target

# Every operation the suite calls; ci/iam-policy.json grants exactly these (self-tested).
OPERATIONS = ("GetInstance", "GetInstanceMetricData", "GetAutoSnapshots")

THROTTLED = {"ThrottlingException", "Throttling", "TooManyRequestsException",
             "RequestLimitExceeded", "ThrottledException"}
DENIED = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "NotAuthorized"}
EXPIRED = {"ExpiredTokenException", "ExpiredToken", "RequestExpired"}
REJECTED = {"UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException",
            "SignatureDoesNotMatch", "UnauthenticatedException", "IncompleteSignature",
            "MissingAuthenticationTokenException", "AuthFailure"}
# Access key IDs and 40-character secrets, should a server or library ever echo one.
SECRETISH = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}"
                       r"(?![A-Za-z0-9/+=])")


class NotFound(CheckError):
    """The instance does not exist in the region: LS-01 fails, the others cannot look."""


def scrub(text: object, limit: int = 240) -> str:
    """A server or library message made safe to show: no key material, bounded length."""
    s = SECRETISH.sub("[redacted]", " ".join(str(text).split()))
    return s if len(s) <= limit else s[:limit] + "..."


@dataclass(frozen=True)
class AwsSettings:
    """The profile's ``aws`` section (defaults come from the schema)."""

    profile: str | None = None
    endpoint_url: str | None = None
    connect_timeout: float = 5
    read_timeout: float = 10
    max_attempts: int = 4
    retry_mode: str = "standard"
    credentials: str = "chain"

    @classmethod
    def from_profile(cls, aws: dict[str, Any]) -> AwsSettings:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in aws.items() if k in names})


# The local endpoint (checks/jada_checks/sandbox/lightsail_endpoint.py) accepts any signature; these
# fixed, public strings only exist so botocore signs at all. Why a profile setting and not
# environment variables: the sandbox's profile then works as written, with nothing to
# export, and the real-AWS path is untouched (the standard chain). Why it is safe: the
# setting is refused unless endpoint_url is http on a loopback address, so these strings
# cannot reach AWS, and no real secret is ever written into a profile.
_CLIENTS: dict[tuple[str, AwsSettings], Any] = {}
_LOCK = threading.Lock()


def boto_client(settings: AwsSettings, region: str) -> Any:
    """The process's client for this region and settings, made on first use."""
    key = (region, settings)
    with _LOCK:
        if key not in _CLIENTS:
            _CLIENTS[key] = _make_client(settings, region)
        return _CLIENTS[key]


def _make_client(settings: AwsSettings, region: str) -> Any:
    import boto3
    from botocore.config import Config

    import jada_checks

    config = Config(
        region_name=region,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        retries=cast(Any, {"mode": settings.retry_mode,  # a str the schema keeps to the modes
                           "total_max_attempts": settings.max_attempts}),
        user_agent_extra=f"jada-checks/{jada_checks.__version__}",
    )
    if settings.credentials == "sandbox":
        # Checked at profile load too; here again so no code path signs for a real endpoint.
        problem = sandbox_credentials_problem(settings.endpoint_url)
        if problem:
            raise CheckError(problem)
        session = boto3.Session(aws_access_key_id=SANDBOX_CREDENTIALS[0],
                                aws_secret_access_key=SANDBOX_CREDENTIALS[1])
    else:
        session = boto3.Session(profile_name=settings.profile)
        _credential_process_via_processes(session)
    # endpoint_url=None leaves botocore's own resolution (AWS_ENDPOINT_URL_LIGHTSAIL, config).
    return session.client("lightsail", endpoint_url=settings.endpoint_url, config=config)


def _credential_process_via_processes(session: Any) -> None:
    """A profile's ``credential_process`` starts through :func:`jada_checks.processes.popen`.

    botocore starts it with ``Popen(env=None)`` from the fact thread that makes the first
    call, and again when the credentials expire: the environment race that module names.
    Its ProcessProvider takes the function it starts the process with (botocore
    credentials.py, ``ProcessProvider(popen=...)``); ``tests/aws/test_credential_process.py``
    tells when that moves."""
    from botocore.credentials import ProcessProvider
    from botocore.exceptions import UnknownCredentialError

    resolver = session._session.get_component("credential_provider")
    try:
        provider = resolver.get_provider("custom-process")
    except UnknownCredentialError:
        return  # no such provider in this botocore: nothing starts a process there
    if isinstance(provider, ProcessProvider):
        provider._popen = processes.popen  # type: ignore[attr-defined]  # its __init__ arg


class LightsailApi:
    """Calls one region's Lightsail API and turns every failure into a CheckError."""

    def __init__(self, settings: AwsSettings, region: str) -> None:
        self.settings, self.region = settings, region
        self._endpoint: str | None = settings.endpoint_url

    @property
    def endpoint(self) -> str:
        return self._endpoint or f"the Lightsail endpoint of {self.region}"

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        from botocore import xform_name
        from botocore.exceptions import BotoCoreError, ClientError
        from botocore.parsers import ResponseParserError

        try:
            client = boto_client(self.settings, self.region)
            self._endpoint = client.meta.endpoint_url
            answer = getattr(client, xform_name(operation))(**params)
        except ClientError as exc:
            raise self._client_error(operation, exc, params) from None
        except BotoCoreError as exc:
            raise self._core_error(operation, exc) from None
        except (ResponseParserError, AttributeError, TypeError, ValueError, KeyError,
                OverflowError, RuntimeError) as exc:
            # RuntimeError, OverflowError: botocore cannot place a timestamp such as 1e999
            raise self.malformed(operation, f"{type(exc).__name__}: {scrub(exc, 120)}") from None
        if not isinstance(answer, dict):
            raise self.malformed(operation, "the answer is not an object")
        return answer

    def malformed(self, operation: str, detail: str) -> CheckError:
        return CheckError(f"malformed response from {self.endpoint} to Lightsail {operation}: "
                          f"{detail}")

    def _client_error(self, operation: str, exc: Any, params: dict[str, Any]) -> CheckError:
        err = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code, msg = str(err.get("Code") or "?"), scrub(err.get("Message") or "")
        status, attempts = meta.get("HTTPStatusCode", "?"), meta.get("RetryAttempts", 0) + 1
        said = f" ({msg})" if msg else ""
        if code == "NotFoundException":
            name = params.get("instanceName") or params.get("resourceName")
            return NotFound(f"Lightsail instance {name!r} not found in region {self.region}"
                            f" (Lightsail {operation} answered NotFoundException{said})")
        if code in DENIED:
            return CheckError(f"access denied: the AWS credentials may not call IAM action "
                              f"lightsail:{operation} in {self.region} — grant it "
                              f"(ci/iam-policy.json){said}")
        if code in THROTTLED:
            return CheckError(f"throttled: Lightsail {operation} still answered {code} after "
                              f"{attempts} attempt(s) (aws.max_attempts="
                              f"{self.settings.max_attempts}, retry_mode="
                              f"{self.settings.retry_mode})")
        if code in EXPIRED:
            return CheckError(f"AWS credentials expired: Lightsail {operation} answered {code}"
                              f"{said}; refresh them (new session token, aws sso login)")
        if code in REJECTED:
            return CheckError(f"AWS credentials rejected: Lightsail {operation} answered "
                              f"{code}{said}")
        if isinstance(status, int) and status >= 500:
            return CheckError(f"Lightsail {operation} failed at {self.endpoint}: HTTP {status} "
                              f"{code} after {attempts} attempt(s){said}")
        return CheckError(f"Lightsail {operation} refused: HTTP {status} {code}{said}")

    def _core_error(self, operation: str, exc: Exception) -> CheckError:
        from botocore import exceptions as bx

        s = self.settings
        tries = f"{s.max_attempts} attempt(s)"
        if isinstance(exc, bx.NoCredentialsError):
            where = f"AWS profile {s.profile!r}" if s.profile else (
                "the standard chain: environment, shared credentials/config files, SSO, "
                "container or instance role")
            return CheckError(f"no AWS credentials found for Lightsail {operation} ({where})")
        if isinstance(exc, bx.ProfileNotFound):
            return CheckError(f"AWS profile {s.profile!r} (aws.profile) is not in the shared "
                              "config or credentials files")
        if isinstance(exc, bx.PartialCredentialsError | bx.CredentialRetrievalError):
            return CheckError(f"could not obtain AWS credentials: {scrub(exc)}")
        if isinstance(exc, bx.ConnectTimeoutError):
            return CheckError(f"cannot connect to {self.endpoint}: no connection within the "
                              f"connect timeout of {s.connect_timeout} s ({tries})")
        if isinstance(exc, bx.EndpointConnectionError):
            cause = str(exc.kwargs.get("error", "")).rsplit(": ", 1)[-1] or "refused"
            return CheckError(f"cannot connect to {self.endpoint} (connect timeout "
                              f"{s.connect_timeout} s, {tries}): {scrub(cause, 120)}")
        if isinstance(exc, bx.ReadTimeoutError):
            return CheckError(f"no answer from {self.endpoint} to Lightsail {operation} within "
                              f"the read timeout of {s.read_timeout} s ({tries})")
        if isinstance(exc, bx.HTTPClientError | bx.ConnectionError):
            return CheckError(f"connection to {self.endpoint} failed during Lightsail "
                              f"{operation}: {scrub(exc)}")
        return CheckError(f"Lightsail {operation} failed: {type(exc).__name__}: {scrub(exc)}")


@dataclass(frozen=True)
class Datapoint:
    timestamp: datetime
    value: float


# CloudWatch statistics of the units the controls ask for: never negative (a negative count
# would cancel a real failure in a sum), a percentage at most 100. JSON may carry NaN and
# Infinity (Python's json accepts both) and integers beyond any float. VALUE_MAX keeps the
# sum of a day of datapoints finite.
UNIT_MAX = {"Percent": 100.0}
VALUE_MAX = 1e300


def metric_value(value: object, metric: str, statistic: str, unit: str) -> float:
    """A datapoint's statistic as a finite float in the unit's range, else NumberError."""
    return finite(value, f"a {metric} datapoint's {statistic} ({unit})", low=0.0,
                  high=UNIT_MAX.get(unit, VALUE_MAX))


class LightsailFacts:
    """One target's instance as the LS controls see it; every answer is asked for once.

    Failures are kept too, so a refused or missing instance costs one call and gives every
    control the same reason.
    """

    def __init__(self, api: LightsailApi, instance: str, region: str) -> None:
        self.api, self.name, self.region = api, instance, region
        self._memo: dict[tuple[Any, ...], Any] = {}
        # The prefetch thread asks GetInstance while a control may ask too: once, not twice.
        self._lock = threading.RLock()

    def _once(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        with self._lock:
            if key not in self._memo:
                try:
                    self._memo[key] = make()
                except CheckError as exc:
                    self._memo[key] = exc
        value = self._memo[key]
        if isinstance(value, CheckError):
            raise value
        return value

    def source(self, field: str, operation: str = "GetInstance") -> str:
        return f"lightsail:{operation} {self.region}/{self.name} {field}"

    def instance(self) -> dict[str, Any]:
        """The GetInstance ``instance`` object; raises NotFound or CheckError."""

        def make() -> dict[str, Any]:
            inst = self.api.call("GetInstance", instanceName=self.name).get("instance")
            if not isinstance(inst, dict) or not inst:
                raise self.api.malformed("GetInstance", "no instance object in the answer")
            return inst

        return self._once(("instance",), make)

    def datapoints(self, metric: str, statistic: str, unit: str, period: int,
                   window_minutes: int) -> list[Datapoint]:
        """The metric's datapoints over the last window, oldest first."""
        self.instance()  # a missing or refused instance is the one cause every control names

        def make() -> list[Datapoint]:
            end = datetime.now(UTC)
            start = end - timedelta(minutes=window_minutes)
            answer = self.api.call("GetInstanceMetricData", instanceName=self.name,
                                   metricName=metric, period=period, startTime=start,
                                   endTime=end, unit=unit, statistics=[statistic])
            data = answer.get("metricData")
            if not isinstance(data, list):
                raise self.api.malformed("GetInstanceMetricData", "no metricData list")
            key = statistic[0].lower() + statistic[1:]
            points = []
            for p in data:
                ts, value = p.get("timestamp"), p.get(key)
                if not isinstance(ts, datetime) or value is None:
                    raise self.api.malformed("GetInstanceMetricData",
                                             f"a {metric} datapoint lacks timestamp or {key}")
                try:
                    points.append(Datapoint(ts, metric_value(value, metric, statistic, unit)))
                except NumberError as exc:
                    raise self.api.malformed("GetInstanceMetricData", str(exc)) from None
            return sorted(points, key=lambda d: d.timestamp)

        return self._once(("metric", metric, statistic, unit, period, window_minutes), make)

    def auto_snapshots(self) -> list[dict[str, Any]]:
        """GetAutoSnapshots' ``autoSnapshots``, newest first."""
        self.instance()

        def make() -> list[dict[str, Any]]:
            snaps = self.api.call("GetAutoSnapshots", resourceName=self.name).get("autoSnapshots")
            if not isinstance(snaps, list) or not all(isinstance(s, dict) for s in snaps):
                raise self.api.malformed("GetAutoSnapshots", "no autoSnapshots list")
            epoch = datetime.fromtimestamp(0, UTC)
            return sorted(snaps, key=lambda s: s.get("createdAt") or epoch, reverse=True)

        return self._once(("auto_snapshots",), make)


def lightsail_facts(aws: dict[str, Any], target: Target) -> LightsailFacts:
    """Facts for a target's ``lightsail`` section; no network until a control asks."""
    if target.lightsail is None:
        raise CheckError("no lightsail section in the profile for this target")
    region = target.lightsail["region"]
    return LightsailFacts(LightsailApi(AwsSettings.from_profile(aws), region),
                          target.lightsail["instance"], region)
