"""The types every settings area shares: strict numbers and flags, and the constrained strings.

A constrained string is ``Annotated[str, pattern_string(...)]``: judged whole (``re.fullmatch``),
ASCII where its grammar is ASCII, bounded in length before the pattern runs. A list setting is
``Annotated[tuple[...], Entries(...)]``: bounded in entries (with the reason) before any entry is
judged. ``constrained_settings`` walks a model for every constrained string, so tests and the fuzzer
cover a setting added later without a change.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, Strict
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from coditect.gke import limits
from coditect.gke.manifest import IMAGE_REFERENCE, parse_image
from coditect.settings.errors import shown_value

Environment = Literal["dev", "staging", "prod"]


def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"is a boolean ({str(value).lower()}), not a number")
    return value


# Booleans are not numbers (YAML `replicas: true` is not 1) and numbers are not booleans: whole
# numbers and flags arrive typed (the stack file's YAML, or `pulumi config set --path`, which stores
# true/false as booleans and integers as numbers). A fraction may arrive as text ("0.5"): that
# command stores anything but an integer as a string.
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
Fraction = Annotated[float, BeforeValidator(_not_a_boolean), Field(ge=0.0, le=1.0, allow_inf_nan=False)]


# --- constrained strings ----------------------------------------------------------------------
# Every setting with a grammar is one of these: judged whole (re.fullmatch, because `$` in re.match
# also matches before a final newline), ASCII where the grammar is ASCII (re.ASCII: `\w` and `\d`
# would otherwise admit Unicode lookalikes), and bounded in length before the pattern runs.


@dataclass(frozen=True)
class Grammar:
    """What one kind of setting string must be, as metadata of ``Annotated[str, Grammar(...)]`` (pydantic
    calls the two hooks below). Tests and the fuzzer find every constrained setting by walking the model
    for it (see ``constrained_settings``)."""

    name: str  # what the value must be, as the error says it: "a lower-case DNS name such as coditect.ai"
    pattern: re.Pattern[str]
    max_length: int
    example: str
    min_length: int = 1
    check: Callable[[str], str | None] | None = None  # a further problem beyond the pattern, or None
    length_reason: str = ""  # why max_length, where an API sets it

    def problem(self, value: str) -> str | None:
        if not self.min_length <= len(value) <= self.max_length:  # before the pattern: a megabyte is never matched
            why = f" ({self.length_reason})" if self.length_reason else ""
            return f"{shown_value(value)} is not {self.name}: it has {len(value)} characters, and {self.min_length} to {self.max_length} are allowed{why}"
        if value != value.strip():
            return f"{shown_value(value)} has leading or trailing whitespace; remove it"
        if self.pattern.fullmatch(value) is None:
            return f"{shown_value(value)} is not {self.name}"
        return self.check(value) if self.check else None

    def validate(self, value: str) -> str:
        problem = self.problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.validate, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update(maxLength=self.max_length, minLength=self.min_length, examples=[self.example])
        if "(?P<" not in self.pattern.pattern:  # a JSON schema pattern is ECMA: no named groups
            json_schema["pattern"] = f"^(?:{self.pattern.pattern})$"
        return json_schema


def pattern_string(
    name: str,
    regex: str | re.Pattern[str],
    *,
    example: str,
    max_length: int,
    min_length: int = 1,
    ascii: bool = True,
    check: Callable[[str], str | None] | None = None,
    length_reason: str = "",
) -> Grammar:
    """The constraint of a str setting (``Annotated[str, pattern_string(...)]``): only what `regex`
    matches whole, between the lengths given, ASCII classes unless `ascii` is False."""
    source = regex.pattern if isinstance(regex, re.Pattern) else regex
    flags = (re.ASCII if ascii else 0) | (regex.flags & re.IGNORECASE if isinstance(regex, re.Pattern) else 0)
    grammar = Grammar(name, re.compile(source, flags), max_length, example, min_length, check, length_reason)
    if grammar.problem(example) is not None:
        raise AssertionError(f"the example {example!r} is not {name}")
    return grammar


@dataclass(frozen=True)
class Entries:
    """At most `most` entries in a list setting, counted before any entry is judged (ten thousand bad
    entries give one line, not ten thousand), with the reason for the bound."""

    most: int
    reason: str
    least: int = 0
    # Each entry once: a list whose entries name things (a host is one Ingress rule and one certificate
    # domain, a WAF rule set one rule). The component merges a repeated host into one rule, so no GKE
    # rule ever sees the repetition: it is refused here, as a property of the list.
    unique: bool = False

    def count(self, value: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            return value
        if len(value) > self.most:
            raise ValueError(f"has {len(value)} entries; at most {self.most} ({self.reason})")
        if len(value) < self.least:
            raise ValueError(f"has {len(value)} entries; at least {self.least}")
        repeated = sorted({str(v) for v in value if isinstance(v, str) and value.count(v) > 1}) if self.unique else []
        if repeated:
            raise ValueError(f"{', '.join(repeated)} listed more than once; list each once")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(self.count, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update(maxItems=self.most, minItems=self.least, uniqueItems=self.unique)
        return json_schema


def grammar_of(annotation: Any, metadata: Iterable[Any] = ()) -> tuple[Grammar, bool] | None:
    """(the Grammar, whether it is a list of them) of a field's type, or None."""
    for entry in metadata:
        if isinstance(entry, Grammar):
            return entry, False
    if get_origin(annotation) is Annotated:
        return grammar_of(get_args(annotation)[0], get_args(annotation)[1:])
    args = get_args(annotation)
    if get_origin(annotation) is tuple and len(args) == 2 and args[1] is Ellipsis:
        found = grammar_of(args[0])
        return (found[0], True) if found else None
    for arg in args:  # Optional[...]
        if arg is not type(None) and (found := grammar_of(arg)):
            return found
    return None


def constrained_settings(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, Grammar, bool, Any]]:
    """(config key, Grammar, is a list, default) of every constrained string setting under `model`."""
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        found = grammar_of(field.annotation, field.metadata)
        if found:
            yield key, found[0], found[1], field.default
            continue
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            yield from constrained_settings(nested, f"{key}.")


# Kubernetes object names are RFC 1123 labels; a Service port name is an IANA service name (15 at most).
DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DnsLabel = Annotated[
    str,
    pattern_string(
        "an RFC 1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)",
        DNS_LABEL,
        example="coditect-app",
        max_length=63,
        length_reason="an RFC 1123 label has at most 63",
    ),
]
PortName = Annotated[
    str,
    pattern_string(
        "an IANA service name (lower-case letters, digits and '-')", DNS_LABEL, example="http", max_length=15, length_reason="a port name has at most 15"
    ),
]
# A label value (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set):
# at most 63 characters, alphanumerics at both ends, '-', '_', '.' and alphanumerics between.
LABEL_VALUE = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
LabelValue = Annotated[
    str,
    pattern_string(
        "a Kubernetes label value (letters and digits at both ends; '-', '_', '.' between)",
        LABEL_VALUE,
        example="1.4.2",
        max_length=63,
        length_reason="a label value has at most 63 characters",
    ),
]
QUANTITY = r"[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?"
Quantity = Annotated[str, pattern_string("a Kubernetes quantity such as 250m or 1Gi", QUANTITY, example="250m", max_length=32)]
HttpPath = Annotated[
    str, pattern_string("a path such as /healthz (letters, digits, '/', '_', '.', '-')", r"/[A-Za-z0-9/_.-]*", example="/healthz", max_length=1024)
]
DirectoryPath = Annotated[
    str, pattern_string("a path that starts and ends with /, such as /theia/socket.io/", r"/([A-Za-z0-9_.-]+/)+", example="/theia/socket.io/", max_length=1024)
]
# A ManagedCertificate domain's grammar (schemas/crds/managedcertificate.networking.gke.io.yaml) with
# labels of at most 63 characters and names of at most 253 (RFC 1035).
HOSTNAME = r"(([a-z0-9]|[a-z0-9][-a-z0-9]{0,61}[a-z0-9])\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?"
Host = Annotated[
    str,
    pattern_string(
        "a lower-case DNS name such as coditect.ai (labels of at most 63 characters, no wildcards, no scheme)",
        HOSTNAME,
        example="coditect.ai",
        max_length=253,
        length_reason="a DNS name has at most 253",
    ),
]
# kubeconfig context names, as `gcloud container clusters get-credentials` writes them (gke_P_LOC_NAME).
ClusterContext = Annotated[
    str,
    pattern_string(
        "a kubeconfig context name such as gke_my-project_us-central1_my-cluster",
        r"[A-Za-z0-9][A-Za-z0-9_.:@/-]*",
        example="gke_coditect-prod_us-central1_coditect",
        max_length=253,
    ),
]
# Google's preconfigured WAF rule sets are named <attack>-v<NN>-<stable|canary> (e.g. sqli-v33-stable);
# anything else would be pasted into a CEL expression.
PRECONFIGURED_WAF = r"[a-z0-9]+(-[a-z0-9]+)*-v[0-9]{2}-(stable|canary)"
WAF_RULE_DESCRIPTION = "OWASP preconfigured WAF: {}"  # the Cloud Armor rule's description (at most 64 characters)
WafRuleSet = Annotated[
    str,
    pattern_string(
        "a Google preconfigured WAF rule set name such as sqli-v33-stable",
        PRECONFIGURED_WAF,
        example="sqli-v33-stable",
        length_reason=f"its Cloud Armor rule's description, {WAF_RULE_DESCRIPTION!r}, has at most {limits.SECURITY_POLICY_RULE_DESCRIPTION_MAX}",
        max_length=limits.SECURITY_POLICY_RULE_DESCRIPTION_MAX - len(WAF_RULE_DESCRIPTION.format("")),
    ),
]
NotificationChannel = Annotated[
    str,
    pattern_string(
        "projects/<project>/notificationChannels/<id>",
        r"projects/[a-z0-9-]+/notificationChannels/[0-9]+",
        example="projects/coditect-prod/notificationChannels/42",
        max_length=256,
    ),
]


def _image_problem(image: str) -> str | None:
    return None if parse_image(image) else f"{shown_value(image)} has a repository name longer than 255 characters"


ImageReference = Annotated[
    str,
    pattern_string(
        "an image reference: registry/repository[:tag][@sha256:<64 lower-case hex>]",
        IMAGE_REFERENCE,
        example="us-docker.pkg.dev/coditect/app/theia:1.4.2",
        max_length=512,
        check=_image_problem,
    ),
]


def _cluster_range_problem(text: str) -> str | None:
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as error:
        return f"{text!r} is not a CIDR range ({error})"
    if str(network) != text:
        return f"{text!r} is not in canonical form; write {network}"
    if network.prefixlen == 0:
        # The internet egress rule excepts cluster ranges from its ipBlock 0.0.0.0/0 (src/coditect/network_policy.py),
        # and Kubernetes refuses an except that is not a strict subset of its cidr (kubernetes
        # pkg/apis/networking/validation/validation.go, ValidateIPBlock).
        return (
            f"{text} covers every address: it cannot be excepted from the internet egress ipBlock (the API refuses an except "
            "that is not a strict subset of its cidr); list the cluster's pod, service, node and control-plane ranges instead"
        )
    return None


ClusterRange = Annotated[
    str, pattern_string("a CIDR range such as 10.0.0.0/14", r"[0-9a-f.:]+/[0-9]{1,3}", example="10.0.0.0/14", max_length=43, check=_cluster_range_problem)
]


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        coerce_numbers_to_str=True,
    )


# Kubernetes quantity suffixes (k8s.io/apimachinery resource.Quantity): decimal SI and binary.
QUANTITY_FACTORS: dict[str, Decimal] = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
}


def quantity(text: str) -> Decimal:
    """The value of a quantity that matched QUANTITY, e.g. "250m" -> 0.25, "1Gi" -> 1073741824."""
    number = text.rstrip("".join(set("".join(QUANTITY_FACTORS))))
    return Decimal(number) * QUANTITY_FACTORS[text[len(number) :]]
