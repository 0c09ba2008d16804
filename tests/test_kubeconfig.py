"""The one kubeconfig loader (livestate/kubeconfig/), issue 19 class 3: valid kubeconfigs resolve to one context
(fast, even of 20,000 users); malformed and generated ones give one line naming the file, the key and the fix
(exit 2). Files that are not files and missing kubeconfigs: test_kubeconfig_files.py; plugins:
test_kubeconfig_plugins.py."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livestate import kubeconfig
from livestate.errors import Unusable
from livestate.kubeconfig import index as kubeconfig_index
from ops.kubeconfig import preflight
from tests.kubeconfig_helpers import PEM, ROOT, Json, document, refused, write
from tests.standin.world import CONTEXT

# --- valid kubeconfigs ----------------------------------------------------------------------------------


def test_a_valid_kubeconfig_resolves_to_one_context(tmp_path: Path) -> None:
    resolved = kubeconfig.load(str(write(tmp_path / "config", document())), None)
    assert (resolved.context, resolved.server) == (CONTEXT, "https://203.0.113.10")
    assert resolved.document["users"] == [{"name": "user", "user": {"token": "t0ken"}}]
    assert resolved.document["clusters"][0]["cluster"]["certificate-authority-data"] == base64.b64encode(PEM).decode()


def test_json_and_yaml_read_alike(tmp_path: Path) -> None:
    as_json = kubeconfig.load(str(write(tmp_path / "a.json", json.dumps(document()))), None)
    as_yaml = kubeconfig.load(str(write(tmp_path / "a.yaml", document())), None)
    assert as_json == as_yaml.__class__(as_yaml.context, as_yaml.server, as_yaml.document, as_json.origin)


def test_files_named_relative_to_the_kubeconfig_become_data(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_bytes(PEM)
    (tmp_path / "token").write_text("from-file\n")
    doc = document(user={"tokenFile": "token"})
    del doc["clusters"][0]["cluster"]["certificate-authority-data"]
    doc["clusters"][0]["cluster"]["certificate-authority"] = "ca.pem"
    resolved = kubeconfig.load(str(write(tmp_path / "config", doc)), CONTEXT)
    assert resolved.document["users"][0]["user"] == {"token": "from-file"}
    assert base64.b64decode(resolved.document["clusters"][0]["cluster"]["certificate-authority-data"]) == PEM


def test_kubeconfig_list_first_file_wins_and_missing_files_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = document(server="https://first.example")
    first["contexts"] = []
    del first["current-context"]
    second = document(server="https://second.example", user={"token": "second"})
    second["clusters"].append({"name": "only-here", "cluster": {"server": "https://203.0.113.99"}})
    second["contexts"].append({"name": "other", "context": {"cluster": "only-here", "user": "prod"}})
    paths = [str(write(tmp_path / "one", first)), str(tmp_path / "missing"), str(write(tmp_path / "two", second))]
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(paths))
    resolved = kubeconfig.load(None, None)
    assert (resolved.context, resolved.server) == (CONTEXT, "https://first.example")  # context of two, cluster of one
    assert resolved.document["users"][0]["user"] == {"token": "t0ken"}
    assert resolved.origin.startswith("$KUBECONFIG (") and "missing" not in resolved.origin
    assert kubeconfig.load(None, "other").server == "https://203.0.113.99"


def test_twenty_thousand_users_load_in_well_under_a_second_of_work(tmp_path: Path) -> None:
    users = 20_000
    lines = [
        "apiVersion: v1",
        "kind: Config",
        f"current-context: ctx-{users - 1}",
        "clusters:",
        "- name: prod",
        "  cluster:",
        "    server: https://203.0.113.10",
        "users:",
    ]
    for i in range(users):
        lines += [f"- name: user-{i}", "  user:", f"    token: tok-{i:08d}-abcdefghijklmnopqrstuvwxyz0123456789"]
    lines.append("contexts:")
    for i in range(users):
        lines += [f"- name: ctx-{i}", "  context:", "    cluster: prod", f"    user: user-{i}", "    namespace: default"]
    path = write(tmp_path / "config", "\n".join(lines) + "\n")
    assert path.stat().st_size > 2_800_000
    started = time.process_time()  # CPU time: the machine running the suite may be busy
    resolved = kubeconfig.load(str(path), None)
    assert time.process_time() - started < 3.0  # 113 s through the client's loader; about 0.6 s here
    assert resolved.document["users"][0]["user"]["token"] == f"tok-{users - 1:08d}-abcdefghijklmnopqrstuvwxyz0123456789"


def test_the_preflight_parse_serves_the_client_and_a_rewrite_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real = kubeconfig.parse

    def counted(text: str, name: str) -> Any:
        parsed.append(name)
        return real(text, name)

    monkeypatch.setattr(kubeconfig_index, "parse", counted)  # where read() looks it up
    path = write(tmp_path / "config", document())
    preflight(str(path), None, "prod", ROOT)
    assert kubeconfig.load(str(path), CONTEXT).server == "https://203.0.113.10"
    assert len(parsed) == 1
    write(path, document(server="https://203.0.113.11"))  # the same size, within the same clock tick: the bytes decide
    assert kubeconfig.load(str(path), CONTEXT).server == "https://203.0.113.11" and len(parsed) == 2


# --- malformed files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("clusters: [\n  - name: x\n", "is not valid YAML"),
        ("- apiVersion: v1\n- kind: Config\n", "must be a mapping (apiVersion: v1, kind: Config, clusters, users, contexts), found a list"),
        ("just text\n", "must be a mapping"),
        ("kind: Pod\n", "kind is 'Pod', not 'Config'"),
        ("clusters: {prod: {server: x}}\n", "clusters must be a list of {name, cluster}, found a mapping"),
        ("users: [token]\n", "users[0] must be a mapping with a non-empty text `name`"),
        ("contexts: [{name: a, context: x}]\n", "contexts[0].context must be a mapping, found text"),
        ("users: [{name: a}, {name: a}]\n", "users[1]: name 'a' appears twice in users"),
        ("a: 1\na: 2\n", "key 'a' appears twice in one mapping"),
        ("{1: x}\n", "a mapping key must be text, found a number"),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", "merge keys (<<) are not read"),
        ("kind: Config\n---\nkind: Config\n", "a second YAML document"),
        ("*0\n", "alias *0 names no anchor before it"),
        ("clusters: !!python/object:os.system x\n", "is not a kubeconfig value"),
        ("[" * 100 + "]" * 100, "more than 64 levels of nesting"),
        (
            "\n".join([f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" if i else "l0: &l0 [x, x, x, x, x, x, x, x, x, x]" for i in range(9)]) + "\n",
            "values (aliases counted as what they expand to)",
        ),
    ],
)
def test_a_malformed_document_is_one_line_naming_the_file(tmp_path: Path, content: str, expected: str) -> None:
    path = write(tmp_path / "config", content)
    message = refused(path)
    assert expected in message and str(path) in message


def test_not_utf8_names_the_offset(tmp_path: Path) -> None:
    assert "byte offset 7 is not UTF-8" in refused(write(tmp_path / "config", b"kind: C\xffonfig\n"))


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("server", "https://[::1", "clusters[0].cluster.server 'https://[::1' is not a server URL"),
        ("server", "https://host:port", "is not a server URL: Port could not be cast"),
        ("server", "ftp://203.0.113.10", "the scheme must be https"),
        ("server", "203.0.113.10", "the scheme must be https"),
        ("server", "https://", "there is no host"),
        ("server", "https://a b", "white space or a control character"),
        ("server", 443, "clusters[0].cluster.server must be text, found a number"),
        ("certificate-authority-data", "not base64!", "clusters[0].cluster.certificate-authority-data is not base64"),
        ("certificate-authority-data", base64.b64encode(b"not a pem").decode(), "holds no PEM block (-----BEGIN CERTIFICATE)"),
        ("insecure-skip-tls-verify", "yes please", "insecure-skip-tls-verify must be true or false"),
        ("proxy-url", "ftp://proxy", "proxy-url 'ftp://proxy' must be an http, https or socks5 URL"),
    ],
)
def test_a_bad_cluster_field_is_named(tmp_path: Path, field: str, value: Any, expected: str) -> None:
    doc = document()
    doc["clusters"][0]["cluster"][field] = value
    assert expected in refused(write(tmp_path / "config", doc))


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ({"client-certificate-data": "@@@", "client-key-data": "@@@"}, "users[0].user.client-certificate-data is not base64"),
        ({"client-certificate-data": base64.b64encode(PEM).decode()}, "users[0].user.client-key (or client-key-data) is missing"),
        ({"token": ["a"]}, "users[0].user.token must be text, found a list"),
        ({"token": "abc\ndef"}, "users[0].user.token: the token holds white space, a control or a non-ASCII character"),
        ({"token": "€uro"}, "users[0].user.token: the token holds white space"),
        ({"auth-provider": {"name": "gcp"}}, "users[0].user.auth-provider: auth-provider plugins were removed"),
        ({"exec": "gcloud"}, "users[0].user.exec must be a mapping"),
        ({"exec": {"command": "x"}}, "users[0].user.exec.apiVersion is missing"),
        ({"exec": {"apiVersion": "client.authentication.k8s.io/v1alpha1", "command": "x"}}, "is not one of client.authentication.k8s.io/v1"),
        ({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "x", "args": "a b"}}, "exec.args must be a list of text"),
        ({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "x", "env": [{"name": "A"}]}}, "exec.env[0] must be a mapping"),
        ({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "x", "interactiveMode": "Always"}}, "has no terminal"),
    ],
)
def test_a_bad_user_field_is_named(tmp_path: Path, user: Json, expected: str) -> None:
    assert expected in refused(write(tmp_path / "config", document(user=user)))


def test_a_missing_or_unknown_context_names_what_there_is_and_the_gcloud_command(tmp_path: Path) -> None:
    path = write(tmp_path / "config", document())
    message = refused(path, "gke_coditect-staging_europe-west1_coditect-staging")
    assert f"has no context 'gke_coditect-staging_europe-west1_coditect-staging' (it has {CONTEXT})" in message
    assert "Fix: gcloud container clusters get-credentials coditect-staging --location europe-west1 --project coditect-staging" in message
    doc = document()
    del doc["current-context"]
    assert "sets no current-context and no --context was given" in refused(write(path, doc), None)
    doc = document()
    doc["contexts"][0]["context"]["cluster"] = "gone"
    assert "contexts[0].context.cluster names cluster 'gone', which no clusters[] entry has" in refused(write(path, doc))
    doc["contexts"][0]["context"] = {"cluster": "prod", "user": "gone"}
    assert "contexts[0].context.user names user 'gone', which no users[] entry has" in refused(write(path, doc))


def test_only_the_selected_context_is_judged(tmp_path: Path) -> None:
    doc = document()
    doc["clusters"].append({"name": "broken", "cluster": {"server": "not a url", "certificate-authority-data": "%%%"}})
    assert kubeconfig.load(str(write(tmp_path / "config", doc)), None).server == "https://203.0.113.10"  # as kubectl: others unread


# --- generated: any kubeconfig gives a resolution or one clear refusal ------------------------------------

JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
PLACES: list[tuple[str | int, ...]] = [
    (),
    ("clusters",),
    ("clusters", 0),
    ("clusters", 0, "name"),
    ("clusters", 0, "cluster"),
    ("clusters", 0, "cluster", "server"),
    ("clusters", 0, "cluster", "certificate-authority-data"),
    ("clusters", 0, "cluster", "certificate-authority"),
    ("clusters", 0, "cluster", "insecure-skip-tls-verify"),
    ("clusters", 0, "cluster", "proxy-url"),
    ("users",),
    ("users", 0),
    ("users", 0, "user"),
    ("users", 0, "user", "token"),
    ("users", 0, "user", "tokenFile"),
    ("users", 0, "user", "exec"),
    ("users", 0, "user", "client-certificate-data"),
    ("users", 0, "user", "client-key"),
    ("contexts",),
    ("contexts", 0),
    ("contexts", 0, "context"),
    ("contexts", 0, "context", "cluster"),
    ("contexts", 0, "context", "user"),
    ("current-context",),
    ("kind",),
    ("apiVersion",),
]


def _put(doc: Any, place: tuple[str | int, ...], value: Any) -> Any:
    if not place:
        return value
    *parents, last = place
    target = doc
    for key in parents:
        target = target[key]
    target[last] = value
    return doc


def _judged(path: Path) -> None:
    """A resolution or one Unusable line; plugins are not run (a generated command could be anything)."""
    try:
        kubeconfig.resolve(kubeconfig.read(kubeconfig.require_present(str(path), CONTEXT)), CONTEXT, run_plugins=False)
    except Unusable as error:
        assert str(error).isprintable() and len(str(error)) < 1500  # one line, no terminal control characters


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(PLACES), JUNK), min_size=1, max_size=3), st.booleans())
def test_generated_malformed_kubeconfigs_are_refused_in_one_line(tmp_path: Path, changes: list[tuple[tuple[str | int, ...], Any]], as_json: bool) -> None:
    doc: Any = document()
    for place, value in changes:
        try:
            doc = _put(doc, place, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed the parent
    text = json.dumps(doc) if as_json else yaml.safe_dump(doc)
    _judged(write(tmp_path / "config", text))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=200), st.text(alphabet=st.sampled_from(list("{}[]:,-&*!|>'\"#%@` \n\tabc01")), max_size=120)))
def test_generated_hostile_text_is_refused_in_one_line(tmp_path: Path, raw: bytes | str) -> None:
    _judged(write(tmp_path / "config", raw))


HOSTILE_TEXT = st.text(alphabet=st.sampled_from(list("\x00\x1b\n\t ~/.:[]@%=-_aZ09\u00e9\ud7ff")), max_size=40)
TEXT_PLACES = [p for p in PLACES if len(p) == 4 or p == ("current-context",)] + [
    ("users", 0, "user", "exec", "command"),
    ("users", 0, "user", "exec", "args", 0),
    ("users", 0, "user", "exec", "env", 0, "name"),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(TEXT_PLACES), HOSTILE_TEXT | st.from_regex(r"[0-9]{90,5000}", fullmatch=True))
def test_generated_hostile_strings_in_every_text_field_are_refused_in_one_line(tmp_path: Path, place: tuple[str | int, ...], value: str) -> None:
    doc = document(user={"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "true", "args": ["a"], "env": [{"name": "A", "value": "b"}]}})
    _put(doc, place, value)
    for as_json in (True, False):
        path = write(tmp_path / "config", json.dumps(doc) if as_json else yaml.safe_dump(doc))
        try:
            kubeconfig.load(str(path), CONTEXT, exec_deadline=2.0)  # `true` prints nothing: refused, or the value made it unrunnable
        except Unusable as error:
            assert str(error).isprintable()
