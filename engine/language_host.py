"""A stand-in Python language host for what the CLI runs from a directory: policy packs and source plugins.

The real host (`github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3`) is not served by the Go
module proxy, and CLI 3.274 starts a Python pack or a Python source plugin (a directory with a
PulumiPlugin.yaml, like provider/) only through a language host named `pulumi-language-python`
(pulumi/pulumi sdk/go/common/resource/plugin/plugin.go, newPlugin: a directory is started through its
runtime's RunPlugin). This one answers the calls the CLI makes for them, as the real host does
(pulumi/pulumi sdk/python/cmd/pulumi-language-python/main.go):

- `InstallDependencies` (pulumi/pulumi pkg/workspace/plugin.go, InstallPluginAtPath, before a source plugin
  first runs; `pulumi package add`): `uv sync --locked` in the plugin directory into its `virtualenv` option,
  as the uv toolchain does (sdk/python/toolchain/uv.go, InstallDependencies runs `uv sync` with
  UV_PROJECT_ENVIRONMENT; `--locked` here so a stale lock fails instead of being rewritten).
- `RunPlugin` (sdk/go/common/resource/plugin/langruntime_plugin.go, RunPlugin): `python -u <directory> <args>`
  in the request's working directory with its environment added, output and exit code streamed back. A
  source plugin runs in its own virtualenv (the one InstallDependencies built); a policy pack in
  CODITECT_POLICY_PYTHON (the engine suite builds the pack's virtualenv itself, engine/deploy_venv.py --pack).
- `GetRequiredPackages` / `GetRequiredPlugins`: none. The real host lists the Pulumi packages installed in the
  virtualenv; here the providers a component needs (kubernetes) are already installed in PULUMI_HOME by the
  engine suite, and pulumi-gcp, which cannot be built, must not be asked for.

Programs are not run through it (the engine suite runs Python programs inline, engine/drive.py), so every
other call answers UNIMPLEMENTED. Started by the CLI as a plugin: it listens on 127.0.0.1 and prints its port.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

VERSION = "3.274.1"
ANALYZER = "analyzer"  # RunPluginRequest.kind of a policy pack (apitype.AnalyzerPlugin)


class StandInError(Exception):
    """A request this stand-in cannot serve; the message names what is missing and the fix."""


def _policy_python() -> str:
    return os.environ.get("CODITECT_POLICY_PYTHON") or sys.executable


def _virtualenv(info: Any) -> Path:
    """The plugin's virtualenv: its `virtualenv` runtime option, relative to the plugin's root directory."""
    options = dict(info.options) if info.options else {}
    name = options.get("virtualenv")
    if not name:
        raise StandInError(f"{info.root_directory}: PulumiPlugin.yaml sets no runtime option `virtualenv` (set `virtualenv: .venv` with `toolchain: uv`)")
    return Path(info.root_directory) / str(name)


def _uv() -> str:
    """uv beside this interpreter, else on PATH, as the CLI's uv toolchain finds it."""
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.is_file() else shutil.which("uv")
    if not found:
        raise StandInError("uv not found beside the language host's interpreter or on PATH (it is in the dev virtualenv: `make setup`)")
    return found


def _stream(command: list[str], cwd: str, env: dict[str, str]) -> Iterator[tuple[str, bytes]]:
    """The command's stdout and stderr lines as they come, then ("exit", <code>)."""
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
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
        yield item
    yield "exit", str(process.wait()).encode()


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def GetPluginInfo(self, request: Any, context: Any) -> Any:  # noqa: ARG002 (the servicer's signature)
        return plugin_pb2.PluginInfo(version=VERSION)

    def GetRequiredPlugins(self, request: Any, context: Any) -> Any:  # noqa: ARG002
        return language_pb2.GetRequiredPluginsResponse()

    def GetRequiredPackages(self, request: Any, context: Any) -> Any:  # noqa: ARG002
        return language_pb2.GetRequiredPackagesResponse()

    def InstallDependencies(self, request: Any, context: Any) -> Iterator[Any]:
        try:
            venv = _virtualenv(request.info)
            command = [_uv(), "sync", "--locked", "--python", sys.executable]
        except StandInError as error:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(error))
        env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
        env["UV_PROJECT_ENVIRONMENT"] = str(venv)
        code = "0"
        for name, line in _stream(command, request.info.root_directory, env):
            if name == "exit":
                code = line.decode()
            else:
                # The CLI shows both streams; uv writes its progress to stderr.
                yield language_pb2.InstallDependenciesResponse(stdout=line) if name == "stdout" else language_pb2.InstallDependenciesResponse(stderr=line)
        if code != "0":
            context.abort(grpc.StatusCode.UNKNOWN, f"`uv sync --locked` in {request.info.root_directory} exited {code} (see its output above)")

    def RunPlugin(self, request: Any, context: Any) -> Iterator[Any]:
        directory = request.info.program_directory or request.program
        try:
            python = _policy_python() if request.kind == ANALYZER else str(_virtualenv(request.info) / "bin" / "python")
        except StandInError as error:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(error))
        if not Path(python).is_file():
            context.abort(
                grpc.StatusCode.FAILED_PRECONDITION, f"{python} does not exist: the plugin's dependencies are not installed (`pulumi install` in {directory})"
            )
        env = {**os.environ, **dict(e.split("=", 1) for e in request.env if "=" in e)}
        env.pop("VIRTUAL_ENV", None)
        for name, line in _stream([python, "-u", directory, *request.args], request.pwd or directory, env):
            if name == "exit":
                yield language_pb2.RunPluginResponse(exitcode=int(line))
            elif name == "stdout":
                yield language_pb2.RunPluginResponse(stdout=line)
            else:
                yield language_pb2.RunPluginResponse(stderr=line)


def main() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageHost(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:  # the CLI stops its plugins with SIGINT: a normal end, not a traceback
        server.stop(0)


if __name__ == "__main__":
    main()
