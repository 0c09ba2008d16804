"""A CRD's ``x-kubernetes-validations`` (CEL rules) evaluated offline, the way kube-apiserver does at admission.

Each rule runs at its schema node with ``self`` bound to that node's value, typed by the schema as the API server
types it (k8s.io/apiserver ``pkg/cel/common/schemas.go`` SchemaDeclType): an object with ``properties`` is a
record whose absent fields raise "no such key" (so ``self.mode == 'x'`` on an object without ``mode`` errors
and the object is refused, as on a real cluster), an object with ``additionalProperties`` is a map, property
names that are CEL keywords or hold ``-./`` are escaped (``namespace`` -> ``__namespace__``,
``pkg/cel/common/escaping.go``). A rule that evaluates to false is reported with its ``message`` (else
"failed rule: <rule>"); one that errors, with "<error> evaluating rule: <message or rule>", both as
k8s.io/apiextensions-apiserver ``pkg/apiserver/schema/cel/validation.go`` words them.

Transition rules (those naming ``oldSelf``) only run on update; this module judges creates, so it skips them.

cel-python (``celpy``) implements the CEL standard library; of the Kubernetes additions the Gateway API and GKE
policy CRDs use only ``string.split`` (cel-go ``ext/strings.go``, enabled in k8s.io/apiserver
``pkg/cel/environment/base.go`` as ``ext.Strings``), implemented here. A rule calling any other function celpy
lacks fails to evaluate and is reported as a refusal naming the function, never passed silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import celpy
from celpy import celtypes
from celpy.evaluation import CELEvalError

# k8s.io/apiserver pkg/cel/common/escaping.go: celReservedSymbols and expandMatcher.
_RESERVED = frozenset(
    {"true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package"}
    | {"namespace", "return", "var", "void", "while"}
)
_EXPAND = re.compile(r"(__|[-./]|[^a-zA-Z0-9\-./_])")
_ESCAPES = {"__": "__underscores__", ".": "__dot__", "-": "__dash__", "/": "__slash__"}
_OLD_SELF = re.compile(r"\boldSelf\b")
_NO_SUCH_MEMBER = re.compile(r"no such member in mapping: '([^']*)'")


@dataclass(frozen=True)
class RuleFailure:
    path: str  # where the rule sits, e.g. spec.listeners[0].tls (the API server's field path)
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def escape(name: str) -> str | None:
    """A property name as CEL sees it; None when it cannot be named in CEL (the API server hides such fields)."""
    if not name or name[0].isdigit():
        return None
    if name in _RESERVED:
        return f"__{name}__"
    unsupported = False

    def swap(match: re.Match[str]) -> str:
        nonlocal unsupported
        if match.group(0) in _ESCAPES:
            return _ESCAPES[match.group(0)]
        unsupported = True
        return ""

    escaped = _EXPAND.sub(swap, name)
    return None if unsupported else escaped


def to_cel(value: Any, schema: dict[str, Any]) -> Any:
    """A JSON value as the CEL value the API server builds for it from the structural schema."""
    if value is None:
        return None
    if schema.get("x-kubernetes-int-or-string") or (schema.get("x-kubernetes-preserve-unknown-fields") and "properties" not in schema):
        return celpy.json_to_cel(value)
    kind = schema.get("type")
    if kind == "object" and isinstance(value, dict):
        if "properties" in schema:
            fields = {}
            for name, item in value.items():
                key, sub = escape(name), schema["properties"].get(name)
                if key is not None and sub is not None:
                    fields[celtypes.StringType(key)] = to_cel(item, sub)
            return celtypes.MapType(fields)
        inner = schema.get("additionalProperties")
        inner = inner if isinstance(inner, dict) else {}
        return celtypes.MapType({celtypes.StringType(k): to_cel(v, inner) for k, v in value.items()})
    if kind == "array" and isinstance(value, list):
        return celtypes.ListType([to_cel(v, schema.get("items") or {}) for v in value])
    if kind == "string" and isinstance(value, str):
        return _string(value, schema.get("format"))
    if kind == "number" and isinstance(value, int) and not isinstance(value, bool):
        return celtypes.DoubleType(value)  # a JSON 5 in a `number` field is a CEL double
    return _scalar(value)


def _string(value: str, fmt: str | None) -> Any:
    # SchemaDeclType: format duration -> google.protobuf.Duration, date/date-time -> Timestamp, byte -> bytes.
    try:
        if fmt == "duration":
            return celtypes.DurationType(value)
        if fmt in ("date", "date-time"):
            return celtypes.TimestampType(value)
    except ValueError:
        pass  # the OpenAPI format check reports the bad value; CEL sees the plain string
    return celtypes.StringType(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        return celtypes.IntType(value)
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    return celpy.json_to_cel(value)


def k8s_split(text: Any, separator: Any, limit: Any = None) -> celtypes.ListType:
    """``<string>.split(<string>[, <int>])`` of cel-go ext/strings.go: Go's strings.Split / strings.SplitN."""
    s, sep = str(text), str(separator)
    n = -1 if limit is None else int(limit)
    if n == 0:
        return celtypes.ListType([])
    if sep != "":
        return celtypes.ListType([celtypes.StringType(p) for p in (s.split(sep) if n < 0 else s.split(sep, n - 1))])
    # An empty separator splits into characters, the last part keeping the rest when n limits the count.
    parts = list(s) if n < 0 or len(s) <= n else [*s[: n - 1], s[n - 1 :]]
    return celtypes.ListType([celtypes.StringType(p) for p in parts])


def _condition(e: Any, x: Any, y: Any) -> Any:
    # CEL: an erroring condition makes `e ? x : y` that error (celpy instead wraps it in a "no matching
    # overload" error that hides the cause, e.g. "no such key: portSpecification").
    return e if isinstance(e, CELEvalError) else celtypes.logical_condition(e, x, y)


def _or(x: Any, y: Any) -> Any:
    # CEL: error || error is the left error (celpy: a "no matching overload" error hiding both).
    return x if isinstance(x, CELEvalError) and isinstance(y, CELEvalError) else celtypes.logical_or(x, y)


def _and(x: Any, y: Any) -> Any:
    return x if isinstance(x, CELEvalError) and isinstance(y, CELEvalError) else celtypes.logical_and(x, y)


KUBERNETES_FUNCTIONS: dict[str, Callable[..., Any]] = {"split": k8s_split, "_?_:_": _condition, "_||_": _or, "_&&_": _and}


@cache
def _program(rule: str) -> celpy.Runner:
    env = celpy.Environment()
    return env.program(env.compile(rule), functions=KUBERNETES_FUNCTIONS)


def is_transition_rule(rule: dict[str, Any]) -> bool:
    return bool(_OLD_SELF.search(str(rule.get("rule", ""))))


def _error_text(error: BaseException | CELEvalError) -> str:
    """celpy's error in the API server's words ("no such key: certificateRefs")."""
    text = str(error.args[0]) if error.args else str(error)
    found = _NO_SUCH_MEMBER.fullmatch(text)
    return f"no such key: {found.group(1)}" if found else text


def evaluate_rule(rule: dict[str, Any], value: Any) -> str | None:
    """None when the rule holds for `value` (already a CEL value); else the API server's complaint."""
    text = str(rule["rule"])
    shown = str(rule.get("message") or "").strip() or text.strip()
    try:
        result = _program(text).evaluate({"self": value})
    except CELEvalError as error:
        return f"{_error_text(error)} evaluating rule: {shown}"
    except Exception as error:  # a celpy failure inside a function is an evaluation error too, never a pass
        return f"{type(error).__name__}: {error} evaluating rule: {shown}"
    if isinstance(result, CELEvalError):
        return f"{_error_text(result)} evaluating rule: {shown}"
    if result is True or (isinstance(result, celtypes.BoolType) and bool(result)):
        return None
    if isinstance(result, celtypes.BoolType):
        return str(rule.get("message") or "").strip() or f"failed rule: {text.strip()}"
    return f"rule evaluated to {type(result).__name__}, not a bool evaluating rule: {shown}"


def _field_path(path: str, rule: dict[str, Any]) -> str:
    # A rule's fieldPath (".a.b") names where the API server reports it, relative to the rule's node.
    extra = str(rule.get("fieldPath") or "")
    return f"{path}{extra}" if extra else path


def validate(value: Any, schema: dict[str, Any], path: str = "") -> list[RuleFailure]:
    """Every non-transition rule in `schema` at every node present in `value` (defaults already applied)."""
    return list(_walk(value, schema, path))


def _walk(value: Any, schema: dict[str, Any], path: str) -> Iterator[RuleFailure]:
    if value is None or not isinstance(schema, dict):
        return
    # Transition rules (oldSelf) have no old object on create: the API server runs them only on update.
    rules = [r for r in schema.get("x-kubernetes-validations") or [] if not is_transition_rule(r)]
    if rules:
        cel_value = to_cel(value, schema)
        for rule in rules:
            complaint = evaluate_rule(rule, cel_value)
            if complaint is not None:
                yield RuleFailure(_field_path(path, rule) or "(top level)", complaint)
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = properties.get(key) if key in properties else (extra if isinstance(extra, dict) else None)
            if sub is not None:
                yield from _walk(item, sub, f"{path}.{key}" if path else key)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from _walk(item, schema["items"], f"{path}[{index}]")
