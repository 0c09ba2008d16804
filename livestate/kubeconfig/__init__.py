"""The one reader of kubeconfig files, for every command that talks to a cluster (`inspect`, `probe`,
the after-up inspection hook): bounded, strict, and exact about which file and key is wrong.

Where the file comes from is what kubectl does (https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/):
``--kubeconfig`` alone when given (it must exist); else every file of ``$KUBECONFIG`` (``:``-separated;
missing ones skipped; the first file to name a cluster, user or context, or to set current-context, wins);
else ``~/.kube/config``. Every file and every file it names is read under limits:

- regular files only (a FIFO or ``/dev/zero`` would block or never end), checked before and after opening;
- at most ``MAX_BYTES`` for a kubeconfig, ``MAX_CREDENTIAL_BYTES`` for a tokenFile, certificate or key;
- YAML built from the parser's events (``MAX_DEPTH`` levels, ``MAX_NODES`` values with aliases expanded),
  names indexed once, so a file of 20,000 users is read in a fraction of a second;
- only the selected context's cluster and user are judged (as kubectl does): server URL, base64 and PEM of
  ``*-data``, files, the exec plugin's settings.

An exec credential plugin (``users[].user.exec``, https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins)
is run here, not by the client (whose runner has no deadline): at most ``EXEC_DEADLINE`` seconds and
``MAX_EXEC_OUTPUT`` bytes, its ExecCredential checked. The client is then given one resolved document (a
token or a client certificate, no file and no plugin left to read). Every problem is a Unusable (exit 2)
naming the file, the key and the fix; a failed plugin is "credential plugin X failed", never an RBAC problem.

The package: sources.py (where the file is, bounded reads), yaml_events.py (the parser under limits),
index.py (files merged by name), fields.py and judging.py (the selected context), exec_plugin.py (the
plugin runner), limits.py (the bounds), display.py (values made safe to print).

Import-light (no `kubernetes` until a Configuration is built): `ops inspect` and `ops probe` check the
kubeconfig (`check_context`) before anything slow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from livestate.errors import Unusable
from livestate.kubeconfig.display import show
from livestate.kubeconfig.exec_plugin import run_exec
from livestate.kubeconfig.index import Entry, Merged, read
from livestate.kubeconfig.judging import Resolved, resolve
from livestate.kubeconfig.limits import (
    EXEC_API_VERSIONS,
    EXEC_DEADLINE,
    GKE_CONTEXT,
    GKE_PLUGIN,
    MAX_BYTES,
    MAX_CREDENTIAL_BYTES,
    MAX_DEPTH,
    MAX_EXEC_OUTPUT,
    MAX_NODES,
)
from livestate.kubeconfig.sources import Source, credentials_command, locate, read_bounded, require_present, where_looked
from livestate.kubeconfig.yaml_events import parse

if TYPE_CHECKING:
    from kubernetes.client import Configuration

__all__ = [
    "EXEC_API_VERSIONS",
    "EXEC_DEADLINE",
    "GKE_CONTEXT",
    "GKE_PLUGIN",
    "MAX_BYTES",
    "MAX_CREDENTIAL_BYTES",
    "MAX_DEPTH",
    "MAX_EXEC_OUTPUT",
    "MAX_NODES",
    "Entry",
    "Merged",
    "Resolved",
    "Source",
    "check_context",
    "client_configuration",
    "credentials_command",
    "load",
    "locate",
    "parse",
    "read",
    "read_bounded",
    "require_present",
    "resolve",
    "run_exec",
    "where_looked",
]


def check_context(explicit: str | None, context: str | None) -> None:
    """Refuse a kubeconfig that is missing, malformed or lacks `context` (when given), reading no more
    than that. The plugin is not run here (the client's load does that once); its command must exist."""
    source = require_present(explicit, context)
    merged = read(source)
    if context:
        resolve(merged, context, run_plugins=False)


def load(explicit: str | None, context: str | None, exec_deadline: float | None = None) -> Resolved:
    """The context resolved from the kubeconfig kubectl would read, or Unusable."""
    # The package's EXEC_DEADLINE, read at the call: a test or bench that sets livestate.kubeconfig.EXEC_DEADLINE is heard.
    deadline = EXEC_DEADLINE if exec_deadline is None else exec_deadline
    return resolve(read(require_present(explicit, context)), context, exec_deadline=deadline)


def client_configuration(context: str | None, explicit: str | None) -> Configuration:
    """A `kubernetes` client Configuration for `context`, every credential already resolved."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    resolved = load(explicit, context)
    configuration = client.Configuration()
    try:
        config.load_kube_config_from_dict(resolved.document, context=resolved.context, client_configuration=configuration, persist_config=False)
    except (ConfigException, ValueError, OSError) as error:  # what the checks above leave: the client's own refusals
        raise Unusable(f"kubeconfig {resolved.origin}, context {show(resolved.context, 120)}: {show(str(error), 300)}") from None
    return configuration
