"""A Python language host for policy packs only: `RunPlugin`, which the CLI uses to start a Python policy pack.

The real host (`github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3`) is not served by the Go
module proxy, and CLI 3.274 starts a Python pack only through a language host named `pulumi-language-python`.
This one does what the real host's RunPlugin does for a bare pack directory (pulumi/pulumi
sdk/python/cmd/pulumi-language-python/main.go, RunPlugin): runs `python <pack directory> <args>` in the
request's working directory with its environment added, and streams the output and the exit code back. The
pack itself (`pulumi_policy`, the analyzer, every rule) is the real one. Programs are not run through it (the
engine suite runs them inline), so every other call answers UNIMPLEMENTED.

Started by the CLI as a plugin: it listens on 127.0.0.1 and prints its port, as every plugin does.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

VERSION = "3.274.1"


def _python() -> str:
    return os.environ.get("CODITECT_POLICY_PYTHON") or sys.executable


class PolicyOnlyLanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def GetPluginInfo(self, request: Any, context: Any) -> Any:  # noqa: ARG002 (the servicer's signature)
        return plugin_pb2.PluginInfo(version=VERSION)

    def RunPlugin(self, request: Any, context: Any) -> Iterator[Any]:  # noqa: ARG002
        directory = request.info.program_directory or request.program
        env = {**os.environ, **dict(e.split("=", 1) for e in request.env if "=" in e)}
        process = subprocess.Popen(
            [_python(), "-u", directory, *request.args],
            cwd=request.pwd or directory,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        lines: queue.Queue[tuple[str, bytes] | None] = queue.Queue()

        def pump(name: str, stream: Any) -> None:
            for line in iter(stream.readline, b""):
                lines.put((name, line))
            lines.put(None)

        for name, stream in (("stdout", process.stdout), ("stderr", process.stderr)):
            threading.Thread(target=pump, args=(name, stream), daemon=True).start()
        open_streams = 2
        while open_streams:
            item = lines.get()
            if item is None:
                open_streams -= 1
                continue
            name, line = item
            yield language_pb2.RunPluginResponse(stdout=line) if name == "stdout" else language_pb2.RunPluginResponse(stderr=line)
        yield language_pb2.RunPluginResponse(exitcode=process.wait())


def main() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(PolicyOnlyLanguageHost(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
