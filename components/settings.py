"""Everything a stack can configure, as one pydantic model tree.

Defaults are the production state that fixed the outage: namespace ``coditect-app``, Deployment
``coditect-combined``, Service ``coditect-combined-service``, BackendConfig with CLIENT_IP
affinity, ``affinityCookieTtlSec: 86400`` and ``timeoutSec: 86400``, one Ingress for every path.

Keys are the camelCase names of the stack file (``coditect:backendConfig`` ...). Unknown keys
are errors. ``load_settings`` turns validation errors into one ``SettingsError`` (a
``pulumi.RunError``: ``pulumi preview`` prints its message, not a traceback) that names each
config key, what is allowed and how to fix it.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args, get_origin

import pulumi
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PrivateAttr,
    Strict,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from components import internals
from gke import limits
from gke.manifest import IMAGE_REFERENCE, parse_image

CONFIG_NAMESPACE = "coditect"

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
            return (f"{clip(value)!r} is not {self.name}: it has {len(value)} characters, "
                    f"and {self.min_length} to {self.max_length} are allowed{why}")
        if value != value.strip():
            return f"{clip(value)!r} has leading or trailing whitespace; remove it"
        if self.pattern.fullmatch(value) is None:
            return f"{clip(value)!r} is not {self.name}"
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


def clip(value: str, limit: int = 120) -> str:
    return value if len(value) <= limit else f"{value[:limit]}..."


def pattern_string(name: str, regex: str | re.Pattern[str], *, example: str, max_length: int, min_length: int = 1,
                   ascii: bool = True, check: Callable[[str], str | None] | None = None, length_reason: str = "") -> Grammar:
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

    def count(self, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            if len(value) > self.most:
                raise ValueError(f"has {len(value)} entries; at most {self.most} ({self.reason})")
            if len(value) < self.least:
                raise ValueError(f"has {len(value)} entries; at least {self.least}")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(self.count, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update(maxItems=self.most, minItems=self.least)
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
DnsLabel = Annotated[str, pattern_string("an RFC 1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)",
                          DNS_LABEL, example="coditect-app", max_length=63, length_reason="an RFC 1123 label has at most 63")]
PortName = Annotated[str, pattern_string("an IANA service name (lower-case letters, digits and '-')", DNS_LABEL, example="http", max_length=15,
                          length_reason="a port name has at most 15")]
# A label value (kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set):
# at most 63 characters, alphanumerics at both ends, '-', '_', '.' and alphanumerics between.
LABEL_VALUE = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
LabelValue = Annotated[str, pattern_string("a Kubernetes label value (letters and digits at both ends; '-', '_', '.' between)", LABEL_VALUE,
                            example="1.4.2", max_length=63,
                            length_reason="a label value has at most 63 characters")]
QUANTITY = r"[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?"
Quantity = Annotated[str, pattern_string("a Kubernetes quantity such as 250m or 1Gi", QUANTITY, example="250m", max_length=32)]
HttpPath = Annotated[str, pattern_string("a path such as /healthz (letters, digits, '/', '_', '.', '-')", r"/[A-Za-z0-9/_.-]*",
                          example="/healthz", max_length=1024)]
DirectoryPath = Annotated[str, pattern_string("a path that starts and ends with /, such as /theia/socket.io/", r"/([A-Za-z0-9_.-]+/)+",
                               example="/theia/socket.io/", max_length=1024)]
# A ManagedCertificate domain's grammar (schemas/crds/managedcertificate.networking.gke.io.yaml) with
# labels of at most 63 characters and names of at most 253 (RFC 1035).
HOSTNAME = r"(([a-z0-9]|[a-z0-9][-a-z0-9]{0,61}[a-z0-9])\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?"
Host = Annotated[str, pattern_string("a lower-case DNS name such as coditect.ai (labels of at most 63 characters, no wildcards, no scheme)",
                      HOSTNAME, example="coditect.ai", max_length=253, length_reason="a DNS name has at most 253")]
# kubeconfig context names, as `gcloud container clusters get-credentials` writes them (gke_P_LOC_NAME).
ClusterContext = Annotated[str, pattern_string("a kubeconfig context name such as gke_my-project_us-central1_my-cluster",
                                r"[A-Za-z0-9][A-Za-z0-9_.:@/-]*", example="gke_coditect-prod_us-central1_coditect", max_length=253)]
# Google's preconfigured WAF rule sets are named <attack>-v<NN>-<stable|canary> (e.g. sqli-v33-stable);
# anything else would be pasted into a CEL expression.
PRECONFIGURED_WAF = r"[a-z0-9]+(-[a-z0-9]+)*-v[0-9]{2}-(stable|canary)"
WAF_RULE_DESCRIPTION = "OWASP preconfigured WAF: {}"  # the Cloud Armor rule's description (at most 64 characters)
WafRuleSet = Annotated[str, pattern_string("a Google preconfigured WAF rule set name such as sqli-v33-stable", PRECONFIGURED_WAF,
                            example="sqli-v33-stable", length_reason=f"its Cloud Armor rule's description, {WAF_RULE_DESCRIPTION!r}, "
                                                                     f"has at most {limits.SECURITY_POLICY_RULE_DESCRIPTION_MAX}",
                            max_length=limits.SECURITY_POLICY_RULE_DESCRIPTION_MAX - len(WAF_RULE_DESCRIPTION.format("")))]
NotificationChannel = Annotated[str, pattern_string("projects/<project>/notificationChannels/<id>", r"projects/[a-z0-9-]+/notificationChannels/[0-9]+",
                                     example="projects/coditect-prod/notificationChannels/42", max_length=256)]


def _image_problem(image: str) -> str | None:
    return None if parse_image(image) else f"{clip(image)!r} has a repository name longer than 255 characters"


ImageReference = Annotated[str, pattern_string("an image reference: registry/repository[:tag][@sha256:<64 lower-case hex>]", IMAGE_REFERENCE,
                                example="us-docker.pkg.dev/coditect/app/theia:1.4.2", max_length=512, check=_image_problem)]


def _cluster_range_problem(text: str) -> str | None:
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as error:
        return f"{text!r} is not a CIDR range ({error})"
    if str(network) != text:
        return f"{text!r} is not written as Kubernetes compares it; write {network}"
    if network.prefixlen == 0:
        # The internet egress rule excepts cluster ranges from its ipBlock 0.0.0.0/0 (components/network_policy.py),
        # and Kubernetes refuses an except that is not a strict subset of its cidr (kubernetes
        # pkg/apis/networking/validation/validation.go, ValidateIPBlock).
        return (f"{text} covers every address: it cannot be excepted from the internet egress ipBlock (the API refuses an except "
                "that is not a strict subset of its cidr); list the cluster's pod, service, node and control-plane ranges instead")
    return None


ClusterRange = Annotated[str, pattern_string("a CIDR range such as 10.0.0.0/14", r"[0-9a-f.:]+/[0-9]{1,3}", example="10.0.0.0/14", max_length=43,
                              check=_cluster_range_problem)]


# The error type of cross-field problems: its context carries (config key, problem) pairs, so each is
# reported under its own key without parsing a message.
CONFLICT_ERROR = "settings_conflict"


def conflict(problems: list[tuple[str, str]]) -> PydanticCustomError:
    return PydanticCustomError(CONFLICT_ERROR, "{count} settings conflict", {"count": len(problems), "problems": tuple(problems)})


class SettingsError(pulumi.RunError):
    """Stack configuration is invalid; the message lists every problem with its fix."""


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        coerce_numbers_to_str=True,
    )


# Kubernetes quantity suffixes (k8s.io/apimachinery resource.Quantity): decimal SI and binary.
QUANTITY_FACTORS: dict[str, Decimal] = {"": Decimal(1), "m": Decimal("0.001"), "k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9), "T": Decimal(10**12),
                                         "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30), "Ti": Decimal(2**40)}


def quantity(text: str) -> Decimal:
    """The value of a quantity that matched QUANTITY, e.g. "250m" -> 0.25, "1Gi" -> 1073741824."""
    number = text.rstrip("".join(set("".join(QUANTITY_FACTORS))))
    return Decimal(number) * QUANTITY_FACTORS[text[len(number):]]


class ContainerResources(Model):
    cpu_request: Quantity = "250m"
    memory_request: Quantity = "256Mi"
    cpu_limit: Quantity = "1"
    memory_limit: Quantity = "1Gi"

    def request_problems(self) -> list[tuple[str, str]]:
        """(key, problem) where a request exceeds its limit: the API server rejects such a pod."""
        problems = []
        for kind, request, limit in (("cpu", self.cpu_request, self.cpu_limit), ("memory", self.memory_request, self.memory_limit)):
            if quantity(request) > quantity(limit):
                problems.append((f"{kind}Request", f"({request}) is above {kind}Limit ({limit}); Kubernetes rejects a request above its limit"))
        return problems


class Resources(Model):
    nginx: ContainerResources = ContainerResources(
        cpu_request="100m", memory_request="64Mi", cpu_limit="500m", memory_limit="256Mi"
    )
    ide: ContainerResources = ContainerResources(
        cpu_request="500m", memory_request="1Gi", cpu_limit="2", memory_limit="4Gi"
    )


class Images(Model):
    nginx: ImageReference = Field(description="the nginx front container (serves the IDE and proxies Socket.IO)")
    ide: ImageReference = Field(description="the IDE server (Theia) container")


class Release(Model):
    """What moves between stacks on promotion: the app version and the image of every container."""

    version: LabelValue = Field(description="becomes the app.kubernetes.io/version label of every pod")
    images: Images

    @field_validator("version", mode="before")
    @classmethod
    def _text(cls, version: Any) -> Any:
        if isinstance(version, (bool, float)):
            raise ValueError(f"is {version!r}, not text: YAML reads 1.10 as the number 1.1; quote the version ('1.10')")
        return version


class Autoscaling(Model):
    enabled: Bool = False
    min_replicas: Int = Field(2, ge=1, le=100)
    max_replicas: Int = Field(6, ge=1, le=100)
    target_cpu_utilization: Int = Field(70, ge=10, le=95)

    @model_validator(mode="after")
    def _bounds(self) -> Autoscaling:
        if self.max_replicas < self.min_replicas:
            raise ValueError(
                f"maxReplicas ({self.max_replicas}) is below minReplicas ({self.min_replicas}); set maxReplicas >= minReplicas"
            )
        return self


class DeploymentSettings(Model):
    name: DnsLabel = "coditect-combined"
    replicas: Int = Field(3, ge=1, le=100)
    serving_port: Int = Field(8080, ge=1024, le=65535, description="nginx listens here; unprivileged (>= 1024)")
    ide_port: Int = Field(3000, ge=1024, le=65535, description="the IDE server listens here, behind nginx")
    health_path: HttpPath = "/healthz"
    run_as_user: Int = Field(10001, ge=10000, le=2147483647, description=">= 10000: never a host user")
    # Keep serving while the load balancer drains this pod's connections; SIGTERM comes after it.
    # Unset: backendConfig.drainingTimeoutSec (see Settings._derive_pre_stop).
    pre_stop_seconds: Int | None = Field(None, ge=0, le=3600, description="default: backendConfig.drainingTimeoutSec")
    termination_grace_period_seconds: Int = Field(120, ge=1, le=7200)
    resources: Resources = Resources()
    min_available: Int = Field(1, ge=0, le=100, description="PodDisruptionBudget minAvailable")

    @model_validator(mode="after")
    def _ports_differ(self) -> DeploymentSettings:
        if self.serving_port == self.ide_port:
            raise ValueError(f"servingPort and idePort are both {self.serving_port}; give the IDE its own port")
        return self


class ServiceSettings(Model):
    name: DnsLabel = "coditect-combined-service"
    port: Int = Field(80, ge=1, le=65535)
    port_name: PortName = "http"


class HealthCheckSettings(Model):
    check_interval_sec: Int = Field(15, ge=limits.HEALTH_CHECK_INTERVAL_SEC[0], le=limits.HEALTH_CHECK_INTERVAL_SEC[1])
    timeout_sec: Int = Field(5, ge=limits.HEALTH_CHECK_TIMEOUT_SEC[0], le=limits.HEALTH_CHECK_TIMEOUT_SEC[1])
    healthy_threshold: Int = Field(1, ge=limits.HEALTH_CHECK_THRESHOLD[0], le=limits.HEALTH_CHECK_THRESHOLD[1])
    unhealthy_threshold: Int = Field(2, ge=limits.HEALTH_CHECK_THRESHOLD[0], le=limits.HEALTH_CHECK_THRESHOLD[1])


AffinityType = Literal["NONE", "CLIENT_IP", "GENERATED_COOKIE"]


class LoggingSettings(Model):
    """Load-balancer request logs. Stated in the BackendConfig always: GKE turns them on only when it
    creates the backend service and never changes them when the block is absent."""

    enable: Bool = True
    sample_rate: Fraction = 1.0


class BackendConfigSettings(Model):
    name: DnsLabel = "coditect-backend-config"
    timeout_sec: Int = Field(86400, ge=limits.TIMEOUT_SEC[0], le=limits.TIMEOUT_SEC[1])
    session_affinity: AffinityType = "CLIENT_IP"
    # Production carries 86400 although GKE applies the TTL only to GENERATED_COOKIE affinity.
    affinity_cookie_ttl_sec: Int = Field(86400, ge=limits.AFFINITY_COOKIE_TTL_SEC[0], le=limits.AFFINITY_COOKIE_TTL_SEC[1])
    draining_timeout_sec: Int = Field(60, ge=limits.DRAINING_TIMEOUT_SEC[0], le=limits.DRAINING_TIMEOUT_SEC[1])
    health_check: HealthCheckSettings = HealthCheckSettings()
    logging: LoggingSettings = LoggingSettings()


class SocketIOSettings(Model):
    path: DirectoryPath = Field("/theia/socket.io/", description="starts and ends with /")
    min_session_sec: Int = Field(limits.DEFAULT_MIN_SESSION_SEC, ge=1, le=limits.TIMEOUT_SEC[1], description="shortest WebSocket session that must survive")


class StaticIpSettings(Model):
    enabled: Bool = True
    name: DnsLabel | None = Field(None, description="global address name; default coditect-<environment>-ip")


class TlsSettings(Model):
    enabled: Bool = True
    ssl_policy_profile: Literal["MODERN", "RESTRICTED"] = "MODERN"
    min_tls_version: Literal["TLS_1_2", "TLS_1_3"] = "TLS_1_2"
    redirect_to_https: Bool = True
    # GKE's HTTPS redirect lives on the HTTP frontend: turning HTTP off disables the redirect.
    allow_http: Bool = True


class RateLimitSettings(Model):
    """Per-client limit on Socket.IO handshakes (GETs without a sid). A browser opens one session per
    tab and reconnects with backoff, so it never comes near this."""

    handshakes_per_minute: Int = Field(120, ge=10, le=10000)
    ban_duration_sec: Int = Field(300, ge=60, le=86400)


class CloudArmorSettings(Model):
    """``enabled`` attaches the policy to the backend. Turning it off takes two ``pulumi up``s: first
    ``enabled: false`` detaches it (the BackendConfig states an empty policy name; a missing block
    would leave it attached) while the policy itself is kept; once GKE has applied that,
    ``keepDetachedPolicy: false`` deletes it (Compute refuses to delete a policy still in use). A
    stack that never had one sets both false."""

    enabled: Bool = True
    keep_detached_policy: Bool = True
    mode: Literal["preview", "enforce"] = "enforce"
    # Google publishes fewer than 20 preconfigured rule sets (https://cloud.google.com/armor/docs/waf-rules).
    waf_rules: Annotated[tuple[WafRuleSet, ...], Entries(20, "Google's preconfigured WAF rule sets number fewer than 20")] = (
        "sqli-v33-stable", "xss-v33-stable", "lfi-v33-stable", "rce-v33-stable")
    rate_limit: RateLimitSettings = RateLimitSettings()

    @field_validator("waf_rules")
    @classmethod
    def _preconfigured(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(names)) != len(names):
            raise ValueError("lists a rule set twice")
        return names


class MonitoringSettings(Model):
    enabled: Bool = True
    period_sec: Literal[60, 300, 600, 900] = 300
    failures_before_alert: Int = Field(3, ge=1, le=10, description="consecutive check periods that must fail")
    failing_regions: Int = Field(2, ge=1, le=6, description="checker regions that must fail in the same period")
    # An alerting policy names at most 16 notification channels (https://cloud.google.com/monitoring/quotas).
    notification_channels: Annotated[tuple[NotificationChannel, ...], Entries(16, "an alerting policy takes at most 16 notification channels")] = Field(
        (), description="notification channel resource names: projects/<p>/notificationChannels/<id>")


class GcpSettings(Model):
    static_ip: StaticIpSettings = StaticIpSettings()
    tls: TlsSettings = TlsSettings()
    cloud_armor: CloudArmorSettings = CloudArmorSettings()
    monitoring: MonitoringSettings = MonitoringSettings()


class ClusterPreconditions(Model):
    """What the cluster must provide for the containment here to mean anything (containment-facts E.2,
    P1-P6). The project does not own the cluster: these are declarations, checked against what the stack
    needs (a prod stack on a cluster that enforces no NetworkPolicy, or without Workload Identity, is
    refused: every egress policy would be inert and the metadata server would hand out the node's
    credentials)."""

    network_policy: Literal["dataplane-v2", "calico", "none"] = "none"  # P1: who enforces NetworkPolicy
    workload_identity: Bool = False  # P2: GKE_METADATA on every node pool that can run IDE pods
    sandbox_node_pool: Bool = False  # P3: a gVisor node pool (COS_CONTAINERD) exists
    least_privilege_node_service_account: Bool = False  # P4: not the Compute default service account
    kubelet_read_only_port: Bool = True  # P5: 10255 open unless turned off
    limited_anonymous_auth: Bool = False  # P6
    # The resolver the cluster serves is declared as containment.dns (the egress is derived from it);
    # Settings hands it here so that `ops inspect` compares it with the cluster beside P1-P6.
    _dns: str | None = PrivateAttr(default=None)

    @property
    def dns(self) -> str | None:
        """containment.dns of the stack these preconditions belong to (None outside a Settings)."""
        return self._dns


class ClusterSettings(Model):
    """The cluster the stack deploys to. The program declares its own Kubernetes provider with this
    kubeconfig context, so ``pulumi up -s prod`` never acts on whatever context happens to be current.
    ``gcloud container clusters get-credentials NAME --location LOC --project P`` names it
    ``gke_P_LOC_NAME``."""

    context: ClusterContext
    # For the one `pulumi up` that takes over objects created by kubectl: the provider then creates
    # by updating what exists (upsert) and forces server-side apply over kubectl's field ownership
    # (patch force). Set it for that run only.
    adopt: Bool = False
    preconditions: ClusterPreconditions = ClusterPreconditions()


class IngressSettings(Model):
    name: DnsLabel = "coditect-ingress"


# The namespaces a cluster starts with (kubernetes.io/docs/concepts/overview/working-with-objects/namespaces).
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


class ContainmentSettings(Model):
    """The IDE runs its users' code: its pods may reach DNS and the internet on the declared ports,
    nothing in the cluster, the VPC or the metadata server, and run in GKE Sandbox (gVisor) where on."""

    sandbox: Bool = False  # runtimeClassName gvisor; prod requires it
    # The resolver the IDE pods query, so where UDP/TCP 53 may go: the cluster's, read and compared by
    # `ops inspect` (addonsConfig.dnsCacheConfig, networkConfig.dnsConfig). node-local by default:
    # NodeLocal DNSCache is always on in Autopilot and on by default in Standard clusters from
    # 1.34.1-gke.3720000 (https://cloud.google.com/kubernetes-engine/docs/how-to/nodelocal-dns-cache),
    # and its rule keeps the kube-dns pods as fallback, so it also serves an older kube-dns-only cluster.
    # cloud-dns: Cloud DNS without the cache (169.254.169.254:53 only).
    dns: Literal["node-local", "kube-dns", "cloud-dns"] = "node-local"
    internet_ports: Annotated[tuple[Int, ...], Entries(64, "each port is an entry of the internet egress rule; a few registries need one or two",
                                                          least=1)] = (443,)  # e.g. package registries on 443
    # The cluster's pod, service, node and control-plane ranges: excepted from internet egress.
    cluster_ranges: Annotated[tuple[ClusterRange, ...], Entries(64, "a cluster has four kinds of range: pod, service, node, control plane")] = ()

    @field_validator("internet_ports")
    @classmethod
    def _ports(cls, ports: tuple[int, ...]) -> tuple[int, ...]:
        for port in ports:
            if not 1 <= port <= 65535:
                raise ValueError(f"{port} is not a port (1..65535)")
            if port == 53:
                raise ValueError("53 is DNS, which goes to the declared resolver only; remove it")
        return ports


class InspectionSettings(Model):
    """After `pulumi up` creates or changes the Ingress or the BackendConfig, prove that GKE applied them
    (the hook in components/inspect_hook.py runs `ops inspect`'s checks until they converge)."""

    after_up: Literal["off", "warn", "fail"] | None = None  # default: fail in prod, warn elsewhere
    deadline_sec: Int = Field(600, ge=30, le=3600)
    interval_sec: Int = Field(15, ge=5, le=300)


class Settings(Model):
    environment: Environment
    namespace: DnsLabel = "coditect-app"
    # A ManagedCertificate holds at most 100 domains (spec.domains maxItems, schemas/crds/managedcertificate.networking.gke.io.yaml).
    hosts: Annotated[tuple[Host, ...], Entries(100, "a ManagedCertificate holds at most 100 domains", least=1)] = ("coditect.ai",)
    release: Release
    deployment: DeploymentSettings = DeploymentSettings()
    autoscaling: Autoscaling = Autoscaling()
    service: ServiceSettings = ServiceSettings()
    backend_config: BackendConfigSettings = BackendConfigSettings()
    socketio: SocketIOSettings = SocketIOSettings()
    ingress: IngressSettings = IngressSettings()
    gcp: GcpSettings = GcpSettings()
    cluster: ClusterSettings
    containment: ContainmentSettings = ContainmentSettings()
    inspection: InspectionSettings = InspectionSettings()

    @field_validator("namespace")
    @classmethod
    def _own_namespace(cls, namespace: str) -> str:
        if namespace in SYSTEM_NAMESPACES:
            raise ValueError(f"is {namespace!r}, a namespace Kubernetes itself uses; give the app a namespace of its own")
        return namespace

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        duplicates = sorted({h for h in hosts if hosts.count(h) > 1})
        if duplicates:
            raise ValueError(f"{', '.join(duplicates)} listed more than once; GKE keeps only the last rule per host")
        return hosts

    @property
    def inspection_mode(self) -> Literal["off", "warn", "fail"]:
        return self.inspection.after_up or ("fail" if self.environment == "prod" else "warn")

    @property
    def gcp_prefix(self) -> str:
        """Prefix of every GCP resource name, so stacks sharing a project never collide."""
        return f"coditect-{self.environment}"

    @model_validator(mode="after")
    def _derive_pre_stop(self) -> Settings:
        """preStopSeconds defaults to the draining timeout: pods keep serving while the load balancer
        drains them, and get SIGTERM only after it (the shutdown sequence in the README)."""
        deployment, draining = self.deployment, self.backend_config.draining_timeout_sec
        if deployment.pre_stop_seconds is not None:
            return self
        if draining >= deployment.termination_grace_period_seconds:
            raise conflict([("deployment.terminationGracePeriodSeconds",
                             f"({deployment.termination_grace_period_seconds}) must be longer than the preStop delay, which is "
                             f"backendConfig.drainingTimeoutSec ({draining}) unless deployment.preStopSeconds is set: raise it above {draining}")])
        return self.model_copy(update={"deployment": deployment.model_copy(update={"pre_stop_seconds": draining})})

    @model_validator(mode="after")
    def _cross_field_rules(self) -> Settings:
        # (config key, problem) pairs; format_errors reports each under its own key.
        problems = [*self._prod_problems(), *self._pod_problems(), *self._google_cloud_problems()]
        if problems:
            raise conflict(problems)
        return self

    @model_validator(mode="after")
    def _declare_cluster_dns(self) -> Settings:
        self.cluster.preconditions._dns = self.containment.dns
        return self

    def _prod_problems(self) -> list[tuple[str, str]]:
        """What prod requires beyond the other stacks."""
        if self.environment != "prod":
            return []
        problems = []
        if self.deployment.replicas < 2 and not self.autoscaling.enabled:
            problems.append(("deployment.replicas", f"is {self.deployment.replicas}; prod needs at least 2 replicas to survive a pod restart"))
        if self.autoscaling.enabled and self.autoscaling.min_replicas < 2:
            problems.append(("autoscaling.minReplicas", f"is {self.autoscaling.min_replicas}; prod needs at least 2 pods to survive a pod restart"))
        if self.deployment.min_available < 1:
            problems.append(("deployment.minAvailable", "is 0; prod needs a PodDisruptionBudget keeping at least 1 pod"))
        gcp = self.gcp
        for key, enabled in (("gcp.tls.enabled", gcp.tls.enabled), ("gcp.tls.redirectToHttps", gcp.tls.redirect_to_https),
                             ("gcp.cloudArmor.enabled", gcp.cloud_armor.enabled), ("gcp.monitoring.enabled", gcp.monitoring.enabled),
                             ("gcp.staticIp.enabled", gcp.static_ip.enabled)):
            if not enabled:
                problems.append((key, "is false; prod requires it (TLS with HTTPS redirect, Cloud Armor, uptime alerting, a static IP)"))
        if gcp.monitoring.enabled and not gcp.monitoring.notification_channels:
            problems.append(("gcp.monitoring.notificationChannels", "is empty; prod alerts must reach someone"))
        if not self.containment.sandbox:
            problems.append(("containment.sandbox", "is false; prod runs its users' code in GKE Sandbox (gVisor)"))
        declared = self.cluster.preconditions
        if declared.network_policy == "none":
            problems.append(("cluster.preconditions.networkPolicy",
                             "is none; prod needs a cluster that enforces NetworkPolicy (Dataplane V2 or Calico), or every egress policy is inert"))
        if not declared.workload_identity:
            problems.append(("cluster.preconditions.workloadIdentity",
                             "is false; without Workload Identity (GKE_METADATA) the metadata server hands IDE pods the node's credentials"))
        return problems

    def _pod_problems(self) -> list[tuple[str, str]]:
        """Pods Kubernetes would reject, or could never evict, or kill too early."""
        problems = []
        fewest_pods = self.autoscaling.min_replicas if self.autoscaling.enabled else self.deployment.replicas
        if self.deployment.min_available >= fewest_pods:
            problems.append(("deployment.minAvailable",
                             f"is {self.deployment.min_available} with as few as {fewest_pods} pod(s): the PodDisruptionBudget then allows no "
                             "eviction, so node drains and upgrades hang; keep it below the pod count"))
        for role, resources in (("nginx", self.deployment.resources.nginx), ("ide", self.deployment.resources.ide)):
            problems += [(f"deployment.resources.{role}.{key}", text) for key, text in resources.request_problems()]
        if self.containment.sandbox and not self.cluster.preconditions.sandbox_node_pool:
            problems.append(("cluster.preconditions.sandboxNodePool",
                             "is false while containment.sandbox is on: gVisor pods schedule only on a sandbox node pool"))
        pre_stop = self.deployment.pre_stop_seconds
        if pre_stop is not None and pre_stop >= self.deployment.termination_grace_period_seconds:
            problems.append(("deployment.preStopSeconds",
                             f"({pre_stop}) must be shorter than terminationGracePeriodSeconds ({self.deployment.termination_grace_period_seconds}), "
                             "or Kubernetes kills the pod during its preStop delay"))
        return problems

    def _google_cloud_problems(self) -> list[tuple[str, str]]:
        """Google Cloud settings the APIs refuse, or that have no effect as combined."""
        problems = []
        tls = self.gcp.tls
        if tls.enabled and tls.min_tls_version == "TLS_1_3" and tls.ssl_policy_profile not in limits.TLS_1_3_PROFILES:
            problems.append(("gcp.tls.sslPolicyProfile",
                             f"is {tls.ssl_policy_profile} with minTlsVersion TLS_1_3; Compute accepts TLS 1.3 only with profile RESTRICTED"))
        long_hosts = [h for h in self.hosts if len(h) > limits.MANAGED_CERTIFICATE_DOMAIN_MAX]
        if tls.enabled and long_hosts:
            problems.append(("hosts", f"{', '.join(long_hosts)} is longer than {limits.MANAGED_CERTIFICATE_DOMAIN_MAX} characters, "
                                      "the most a ManagedCertificate domain may have; use a shorter host or disable gcp.tls"))
        if self.gcp.monitoring.enabled and not self.backend_config.logging.enable:
            problems.append(("backendConfig.logging.enable",
                             "is false while gcp.monitoring is on: its request metric and dashboard read the load balancer's request logs"))
        if self.gcp.cloud_armor.enabled and not self.gcp.cloud_armor.waf_rules:
            problems.append(("gcp.cloudArmor.wafRules", "is empty with Cloud Armor on: the policy would only rate-limit; list the WAF rule sets"))
        if tls.redirect_to_https and not tls.enabled:
            problems.append(("gcp.tls.redirectToHttps", "is true without TLS: there is no HTTPS to redirect to (set it false, or enable gcp.tls)"))
        if not tls.allow_http and not tls.enabled:
            problems.append(("gcp.tls.allowHttp", "is false without TLS: the load balancer would serve nothing"))
        return problems



# --- reading the stack's config ---------------------------------------------------------------


def _decode(value: Any) -> Any:
    """Pulumi hands object and array config over as JSON text, scalars as plain text."""
    if not isinstance(value, str):
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, (dict, list)) else value


def project_keys(config: Mapping[str, Any]) -> dict[str, Any]:
    """The `coditect:` keys of an engine config map, without the namespace, decoded."""
    prefix = f"{CONFIG_NAMESPACE}:"
    return {key[len(prefix):]: _decode(value) for key, value in config.items() if key.startswith(prefix)}


def raw_config() -> dict[str, Any]:
    """Every `coditect:` key the engine passed in, without the namespace, decoded."""
    return project_keys(internals.engine_config())


def _key(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]" if parts else f"[{item}]"
        elif item in {"function-after", "function-before"} or str(item).startswith("function-"):
            continue
        else:
            parts.append(str(item))
    return ".".join(parts)


SHOWN_VALUE_MAX = 120


def shown_value(value: Any) -> str:
    """A value as an error shows it: its repr, cut to a readable length (a stack file can hold megabytes)."""
    text = repr(value)
    if len(text) <= SHOWN_VALUE_MAX:
        return text
    return f"{text[:SHOWN_VALUE_MAX]}... ({len(text)} characters)"


def format_errors(error: ValidationError, stack: str | None = None) -> str:
    stack_file = f"Pulumi.{stack}.yaml" if stack else "the stack file"
    lines = [f"Invalid stack configuration ({stack_file}):"]
    for item in error.errors():
        key = _key(tuple(item["loc"]))
        message = item["msg"].removeprefix("Value error, ")
        got = item.get("input")
        if item["type"] == CONFLICT_ERROR:  # cross-field rules: one line per offending key
            for rule_key, text in item.get("ctx", {}).get("problems", ()):
                full = f"{CONFIG_NAMESPACE}:{'.'.join(p for p in (key, rule_key) if p)}"
                lines.append(f"  - {full}: {text}. Fix: pulumi config set --path '{full}' <value> (or edit {stack_file})")
            continue
        full = f"{CONFIG_NAMESPACE}:{key}" if key else f"{CONFIG_NAMESPACE} (whole stack)"
        fix = f"pulumi config set --path '{full}' <value>" if key else f"edit {stack_file}"
        if item["type"] == "extra_forbidden":
            message = "is not a known setting (typo?)"
            fix = f"pulumi config rm --path '{full}', or correct its name in {stack_file}"
        elif item["type"] == "missing":
            message = "is required but not set"
        got_text = "" if item["type"] == "missing" or isinstance(got, Mapping) else f" (got {shown_value(got)})"
        lines.append(f"  - {full}: {message}{got_text}. Fix: {fix}")
    return "\n".join(lines)


def parse_settings(raw: Mapping[str, Any], stack: str | None = None) -> Settings:
    try:
        return Settings.model_validate(dict(raw))
    except ValidationError as error:
        raise SettingsError(format_errors(error, stack)) from None


def load_settings() -> Settings:
    """Settings of the running stack (under the engine or under mocks)."""
    return parse_settings(raw_config(), pulumi.get_stack())
