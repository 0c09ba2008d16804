"""Input the live-state engine cannot use, and how its messages are bounded.

`Unusable` is a kubeconfig, a credential file or a set of manifests that cannot be judged from: its
message is one line naming the file or object, the key and the fix. The command line maps it to its
usage exit code (ops/kubeconfig.py, `usage_errors`); the after-up hook reports it as its message.
"""

from __future__ import annotations

MAX_LINE = 400  # a message line longer than this is cut: a value of megabytes is never echoed in full


class Unusable(Exception):
    """A kubeconfig, credential or manifest set the engine cannot use; the message says where and the fix."""


def clip(text: str, limit: int = MAX_LINE) -> str:
    """`text` cut to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [cut: {len(text)} characters in all]"
