"""The Google Cloud resources a program declares, checked against Google's own API types, offline.

What Kubernetes gets from strict OpenAPI schemas, the Google Cloud side gets here: every pulumi-gcp
resource's inputs are mapped to the REST object the provider sends, and that object is checked
against the API's discovery document (field names and nesting, enums, value types, integer formats,
patterns, read-only fields, required fields). The discovery documents are Google's published REST
schemas, shipped in ``google-api-python-client``; the provider speaks the same REST JSON, so these
are the wire types (the ``google-cloud-*`` proto packages are generated from the same documents but
name fields in snake_case). A resource type without a mapping is a problem too: nothing is passed
unchecked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from coditect import internals
from ops.errors import shown

# Inputs that pulumi-gcp uses to build the request URL, never sent in the body.
URL_FIELDS = frozenset({"project"})
INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "uint32": (0, 2**32 - 1)}
SHOWN_VALUE = 120  # characters of a wrong input value quoted in a problem (a stack file can hold megabytes)
DURATION = re.compile(r"-?[0-9]+(\.[0-9]{1,9})?s")  # used with fullmatch (ASCII digits; no final newline)


@dataclass(frozen=True)
class ApiType:
    """How a pulumi-gcp resource maps to a REST schema."""

    document: str  # discovery document, e.g. "compute.v1"
    schema: str  # schema id in it, e.g. "SecurityPolicy"
    method: str  # the create method whose required fields must be set, e.g. "compute.securityPolicies.insert"
    body: Callable[[Mapping[str, Any]], Any] = field(default=lambda inputs: {k: v for k, v in inputs.items() if k not in URL_FIELDS})


class BodyError(ValueError):
    """The inputs cannot be turned into a REST body at all."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _dashboard_body(inputs: Mapping[str, Any]) -> Any:
    """A Dashboard is declared as its REST body, JSON-encoded in ``dashboardJson``."""
    raw = inputs.get("dashboardJson")
    if raw == internals.UNKNOWN_STRING_VALUE:
        return raw
    if not isinstance(raw, str):
        raise BodyError("dashboardJson", f"is {type(raw).__name__}, the provider expects the dashboard's REST body as a JSON string")
    try:
        return json.loads(raw)
    except ValueError as error:
        raise BodyError("dashboardJson", f"is not JSON ({error}); it must be the dashboard's REST body") from None


def _certificate_manager_body(inputs: Mapping[str, Any]) -> Any:
    """Certificate Manager resources: `location` (and a map entry's `map`) are parts of the request URL
    (projects/*/locations/*/certificateMaps/*/certificateMapEntries), never body fields."""
    return {k: v for k, v in inputs.items() if k not in URL_FIELDS | {"location", "map"}}


API_TYPES: dict[str, ApiType] = {
    # Global addresses share the Address schema, whose required fields are annotated for compute.addresses.insert.
    "gcp:compute/globalAddress:GlobalAddress": ApiType("compute.v1", "Address", "compute.addresses.insert"),
    "gcp:compute/sSLPolicy:SSLPolicy": ApiType("compute.v1", "SslPolicy", "compute.sslPolicies.insert"),
    "gcp:compute/securityPolicy:SecurityPolicy": ApiType("compute.v1", "SecurityPolicy", "compute.securityPolicies.insert"),
    "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig": ApiType("monitoring.v3", "UptimeCheckConfig", ""),
    "gcp:monitoring/alertPolicy:AlertPolicy": ApiType("monitoring.v3", "AlertPolicy", ""),
    "gcp:logging/metric:Metric": ApiType("logging.v2", "LogMetric", ""),
    "gcp:monitoring/dashboard:Dashboard": ApiType("monitoring.v1", "Dashboard", "", body=_dashboard_body),
    # The Gateway's TLS (src/coditect/certificate_manager.py); the discovery document marks no field required.
    "gcp:certificatemanager/dnsAuthorization:DnsAuthorization": ApiType("certificatemanager.v1", "DnsAuthorization", "", body=_certificate_manager_body),
    "gcp:certificatemanager/certificate:Certificate": ApiType("certificatemanager.v1", "Certificate", "", body=_certificate_manager_body),
    "gcp:certificatemanager/certificateMap:CertificateMap": ApiType("certificatemanager.v1", "CertificateMap", "", body=_certificate_manager_body),
    "gcp:certificatemanager/certificateMapEntry:CertificateMapEntry": ApiType(
        "certificatemanager.v1", "CertificateMapEntry", "", body=_certificate_manager_body
    ),
}


@dataclass(frozen=True)
class ApiProblem:
    resource: str  # "SecurityPolicy cloud-armor (gcp:compute/securityPolicy:SecurityPolicy)"
    field: str  # dotted path in the REST body, e.g. "rules[0].action"
    message: str  # what is wrong and how to fix it

    def __str__(self) -> str:
        return f"{self.resource}: {self.field or '(body)'}: {self.message}"


class _Walker:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.schemas: Mapping[str, Any] = document["schemas"]
        self.unknown: list[str] = []  # fields whose value is unknown until deploy (preview)

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        return self.schemas[schema["$ref"]] if "$ref" in schema else schema

    def walk(self, value: Any, schema: Mapping[str, Any], path: str) -> Iterator[tuple[str, str]]:
        schema = self.resolve(schema)
        kind = schema.get("type")
        if value is None:
            return
        if value == internals.UNKNOWN_STRING_VALUE:
            self.unknown.append(path)
            return
        if kind == "object" or "properties" in schema:
            yield from self._object(value, schema, path)
        elif kind == "array":
            if not isinstance(value, Sequence) or isinstance(value, str):
                yield path, f"is {type(value).__name__}, the API expects a list"
                return
            for i, item in enumerate(value):
                yield from self.walk(item, schema.get("items", {}), f"{path}[{i}]")
        else:
            yield from _scalar(value, schema, path)

    def _object(self, value: Any, schema: Mapping[str, Any], path: str) -> Iterator[tuple[str, str]]:
        if not isinstance(value, Mapping):
            yield path, f"is {type(value).__name__}, the API expects an object"
            return
        properties: Mapping[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if key in properties:
                spec = properties[key]
                if spec.get("readOnly"):
                    yield where, "is output only: the API sets it; remove it from the inputs"
                    continue
                yield from self.walk(item, spec, where)
            elif isinstance(extra, Mapping):
                yield from self.walk(item, extra, where)
            else:
                known = ", ".join(sorted(k for k, s in properties.items() if not s.get("readOnly")))
                yield where, f"is not a field of {schema.get('id', 'this object')} (fields: {known})"


def _scalar(value: Any, schema: Mapping[str, Any], path: str) -> Iterator[tuple[str, str]]:
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "boolean" and not isinstance(value, bool):
        yield path, f"is {shown(value, SHOWN_VALUE)}, the API expects true or false"
    elif kind == "integer" or (kind == "string" and fmt in {"int64", "uint64"}):
        yield from _integer(value, fmt, path)
    elif kind == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        yield path, f"is {shown(value, SHOWN_VALUE)}, the API expects a number"
    elif kind == "string":
        if not isinstance(value, str):
            yield path, f"is {type(value).__name__} {shown(value, SHOWN_VALUE)}, the API expects a string"
            return
        enum = schema.get("enum")
        if enum and value not in enum:
            yield path, f"is {shown(value, SHOWN_VALUE)}, not one of the API's values: {', '.join(enum)}"
        if fmt == "google-duration" and not DURATION.fullmatch(value):
            yield path, f"is {shown(value, SHOWN_VALUE)}, the API expects a duration such as '300s'"
        pattern = schema.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            yield path, f"is {shown(value, SHOWN_VALUE)}, which does not match the API's pattern {pattern}"


def _integer(value: Any, fmt: str | None, path: str) -> Iterator[tuple[str, str]]:
    number: float | None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, (int, float)):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        number = int(value)
    else:
        number = None
    if number is None or number != int(number):
        yield path, f"is {shown(value, SHOWN_VALUE)}, the API expects a whole number"
        return
    low, high = INT_RANGES.get(fmt or "", (None, None))
    if low is not None and high is not None and not low <= number <= high:
        yield path, f"is {int(number)}, outside the API's {fmt} range {low}..{high}"


def _required(document: Mapping[str, Any], schema: str, method: str, body: Any) -> Iterator[tuple[str, str]]:
    if not method or not isinstance(body, Mapping):
        return
    for name, spec in document["schemas"][schema].get("properties", {}).items():
        if method in spec.get("annotations", {}).get("required", []) and body.get(name) is None:
            yield name, f"is required by {method}"


@dataclass(frozen=True)
class ApiCheck:
    problems: list[ApiProblem]
    unknown: list[str]  # "<resource>: <field>" not checked because unknown until deploy (preview)


def check(resource_type: str, name: str, inputs: Mapping[str, Any]) -> ApiCheck:
    """One pulumi-gcp resource's inputs against its REST type (an unmapped type is a problem)."""
    label = f"{resource_type.rsplit(':', 1)[-1]} {name} ({resource_type})"
    api = API_TYPES.get(resource_type)
    if api is None:
        return ApiCheck(
            [
                ApiProblem(
                    label,
                    "",
                    "no Google API type is mapped for this resource type, so nothing checks it; "
                    "map it in ops/gcp_api.py (API_TYPES) to its discovery-document schema",
                )
            ],
            [],
        )
    document = internals.google_discovery_document(api.document)
    try:
        body = api.body(inputs)
    except BodyError as error:
        return ApiCheck([ApiProblem(label, error.field, str(error))], [])
    walker = _Walker(document)
    found = [*walker.walk(body, {"$ref": api.schema}, ""), *_required(document, api.schema, api.method, body)]
    return ApiCheck([ApiProblem(label, where, message) for where, message in found], [f"{label}: {path or '(body)'}" for path in walker.unknown])


def validate(resource_type: str, name: str, inputs: Mapping[str, Any]) -> list[ApiProblem]:
    return check(resource_type, name, inputs).problems


def is_google_cloud(resource_type: str) -> bool:
    return resource_type.startswith("gcp:")
