"""A local Socket.IO lab on loopback: real python-socketio servers behind real nginx.

Layout (every port free-picked on 127.0.0.1):

    backend-i   uvicorn + python-socketio (tests/lab_app.py), the IDE server of pod i
    pod-i       nginx server block rendered by the project (src/coditect/nginx.py), -> backend-i
    LBs         nginx server blocks standing in for the Google load balancer, -> pod-1..n:
                  incident    round robin, no Upgrade forwarded, 30 s timeout (the outage)
                  fixed       client-IP affinity (hash $remote_addr), Upgrade forwarded, long timeout
                  rr_upgrade  round robin with Upgrade forwarded (affinity missing only)
                  cookie      LB-generated cookie affinity (GENERATED_COOKIE) emulated with maps
    capped      a TCP relay in front of `fixed` that ends every connection after `cap` seconds,
                like the external ALB's backend timeout caps a WebSocket's lifetime

tests/frontdoor_lab.py builds its load balancer from rendered manifests with the pieces here.

Processes are stopped by their own PIDs; nothing is left running.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from coditect.nginx import HTTP_PREAMBLE, NginxSite
from coditect.settings import DeploymentSettings, SocketIOSettings

ROOT = Path(__file__).resolve().parent.parent
SOCKETIO_PATH = SocketIOSettings().path  # the app's defaults: the lab serves what production serves
HEALTH_PATH = DeploymentSettings().health_path


NODE_LAB = ROOT / "tests" / "node_lab"


def node_ready() -> bool:
    """Node and the lab's socket.io install (`npm ci --prefix tests/node_lab`, done by .ci/run)."""
    return shutil.which("node") is not None and (NODE_LAB / "node_modules" / "socket.io").is_dir()


def nginx_binary() -> str | None:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def free_port() -> int:
    """A loopback port no other process is handed until our server binds it, even with pytest-xdist
    workers starting their labs at once: bound, connected to and closed server side first, the port
    sits in TIME_WAIT for a minute. Linux's bind(0) and outgoing connections skip such a port; a
    server binding it with SO_REUSEADDR (nginx, uvicorn, Node and asyncio all do) gets it."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port: int = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):
            accepted, _ = listener.accept()
            accepted.close()
    return port


def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.args!r} exited with {process.returncode} before port {port} opened")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


UPGRADE = "proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade;"
COOKIE_AFFINITY = 'add_header Set-Cookie "LBAFFINITY=$set_cookie_pod; Path=/" always; proxy_pass http://$cookie_target;'


def nginx_main_conf(prefix: Path, http_body: str) -> str:
    """A whole nginx.conf for a lab nginx under `prefix`, in the foreground, `http_body` inside http {}."""
    temp = "\n".join(f"    {kind}_temp_path {prefix}/tmp/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""\
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
{temp}
{http_body}
}}
"""


def cookie_affinity_maps(pods: dict[str, int]) -> str:
    """GENERATED_COOKIE emulated with maps: no LBAFFINITY cookie -> a random pod, and the cookie names it
    (used with COOKIE_AFFINITY in a location); pods maps pod name -> loopback port."""
    names = list(pods)
    share = 100 // len(names)
    picks = [f"        {share}% 127.0.0.1:{pods[name]};" for name in names[:-1]] + [f"        * 127.0.0.1:{pods[names[-1]]};"]
    return f"""\
    map $cookie_LBAFFINITY $cookie_pod {{
{chr(10).join(f'        "{name}" 127.0.0.1:{port};' for name, port in pods.items())}
        default "";
    }}
    split_clients "$request_id" $random_pod {{
{chr(10).join(picks)}
    }}
    map $cookie_pod $cookie_target {{
        "" $random_pod;
        default $cookie_pod;
    }}
    map $cookie_target $set_cookie_pod {{
{chr(10).join(f'        "127.0.0.1:{port}" "{name}";' for name, port in pods.items())}
        default "";
    }}"""


class LifetimeCapRelay:
    """TCP relay that closes each connection `cap` seconds after it opened, pings or not. With
    only_upgrades, only connections whose first request asks for a WebSocket upgrade are capped: the
    ALB's backend timeout is a WebSocket's lifetime but, for plain HTTP, a per-request response timeout."""

    def __init__(self, target_port: int, cap: float, only_upgrades: bool = False) -> None:
        self.port, self.target_port, self.cap, self.only_upgrades = free_port(), target_port, cap, only_upgrades
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.ready = threading.Event()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                writer.close()

        async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            except OSError:
                client_writer.close()
                return
            cap: float | None = self.cap
            if self.only_upgrades:
                try:  # the request head, whole: an upgrade split over two reads must still be seen
                    first = await client_reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError as error:
                    first = error.partial
                except asyncio.LimitOverrunError:
                    first = await client_reader.read(65536)
                cap = self.cap if b"upgrade: websocket" in first.lower() else None
                upstream_writer.write(first)
            tasks = [asyncio.ensure_future(pipe(client_reader, upstream_writer)), asyncio.ensure_future(pipe(upstream_reader, client_writer))]
            try:
                await asyncio.wait(tasks, timeout=cap, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                pass
            finally:
                for task in tasks:
                    task.cancel()
                client_writer.close()
                upstream_writer.close()

        async def main() -> None:
            self.server = await asyncio.start_server(handle, "127.0.0.1", self.port)
            self.ready.set()
            async with self.server:
                await self.server.serve_forever()

        with contextlib.suppress(asyncio.CancelledError, RuntimeError):  # stop() cancels the server
            self.loop.run_until_complete(main())

    def start(self) -> None:
        self.thread.start()
        self.ready.wait(5)

    def stop(self) -> None:
        if hasattr(self, "server"):
            self.loop.call_soon_threadsafe(self.server.close)
        for task in asyncio.all_tasks(self.loop) if not self.loop.is_closed() else []:
            self.loop.call_soon_threadsafe(task.cancel)
        self.thread.join(timeout=5)


@dataclass
class Lab:
    workdir: Path
    backends: int = 2
    cap: float = 2.0
    ping_interval: int = 2  # whole seconds (python-engineio truncates); short so clients never wait long on a poll
    backend: str = "python"  # or "node": socket.io on Node, as the IDE runs it
    processes: list[subprocess.Popen] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)
    relay: LifetimeCapRelay | None = None
    backend_env: dict[str, str] = field(default_factory=dict)  # more environment for every backend

    def url(self, name: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.ports[name]}{SOCKETIO_PATH}"

    def pod_sites(self) -> list[NginxSite]:
        return [
            NginxSite(
                listen_port=self.ports[f"pod-{i}"],
                health_path=HEALTH_PATH,
                socketio_path=SOCKETIO_PATH,
                upstream_port=self.ports[f"backend-{i}"],
                proxy_timeout_sec=3600,
                pod_id=f"pod-{i}",
                listen_address="127.0.0.1",
            )
            for i in range(1, self.backends + 1)
        ]

    def nginx_conf(self) -> str:
        prefix = self.workdir / "nginx"
        pods = "\n".join(f"        server 127.0.0.1:{self.ports[f'pod-{i}']};" for i in range(1, self.backends + 1))
        upgrade = UPGRADE
        sites = "\n".join(site.server_block() for site in self.pod_sites())
        return nginx_main_conf(
            prefix,
            f"""\
{HTTP_PREAMBLE}
    # --- the pods: the project's own rendered site config, one per backend
{sites}
    # --- load balancer stand-ins
    upstream pods_round_robin {{
{pods}
    }}
    upstream pods_client_ip {{
        hash $remote_addr consistent;
{pods}
    }}
{cookie_affinity_maps({f"pod-{i}": self.ports[f"pod-{i}"] for i in range(1, self.backends + 1)})}
    server {{ # the outage: no affinity, no Upgrade, the 30 s default timeout
        listen 127.0.0.1:{self.ports["incident"]};
        location / {{ proxy_pass http://pods_round_robin; proxy_read_timeout 30s; }}
    }}
    server {{ # the fix: CLIENT_IP affinity, Upgrade forwarded, long timeout
        listen 127.0.0.1:{self.ports["fixed"]};
        location / {{ proxy_pass http://pods_client_ip; {upgrade} proxy_read_timeout 3600s; }}
    }}
    server {{ # Upgrade forwarded, affinity missing
        listen 127.0.0.1:{self.ports["rr_upgrade"]};
        location / {{ proxy_pass http://pods_round_robin; {upgrade} proxy_read_timeout 3600s; }}
    }}
    server {{ # GENERATED_COOKIE affinity: the LB picks a pod, sets a cookie, honours it afterwards
        listen 127.0.0.1:{self.ports["cookie"]};
        location / {{ {COOKIE_AFFINITY} {upgrade} proxy_read_timeout 3600s; }}
    }}""",
        )

    def start(self) -> Lab:
        if nginx_binary() is None:
            raise RuntimeError("nginx is not installed (apt-get install nginx)")
        for i in range(1, self.backends + 1):
            self.ports[f"backend-{i}"] = free_port()
            self.ports[f"pod-{i}"] = free_port()
        for name in ("incident", "fixed", "rr_upgrade", "cookie"):
            self.ports[name] = free_port()
        self.start_backends()
        self.start_nginx(
            self.workdir / "nginx", self.nginx_conf(), ["incident", "fixed", "rr_upgrade", "cookie", *(f"pod-{i}" for i in range(1, self.backends + 1))]
        )
        self.relay = LifetimeCapRelay(self.ports["fixed"], self.cap)
        self.relay.start()
        self.ports["capped"] = self.relay.port
        return self

    def start_backends(self) -> None:
        """backend-1..n on their ports (allocated by the caller), waited for."""
        env = {**os.environ, "PYTHONPATH": str(ROOT), **self.backend_env}
        started = []
        for i in range(1, self.backends + 1):
            port = str(self.ports[f"backend-{i}"])
            backend_env = {
                **env,
                "BACKEND_ID": f"backend-{i}",
                "PING_INTERVAL": str(self.ping_interval),
                "PING_TIMEOUT": "5",
                "SIO_PATH": SOCKETIO_PATH.strip("/"),
                "PORT": port,
            }
            if self.backend == "node":
                command = ["node", str(NODE_LAB / "server.js")]
            else:
                command = [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "tests.lab_app:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    port,
                    "--log-level",
                    "warning",
                    "--ws-ping-interval",
                    "0",
                ]
            started.append((subprocess.Popen(command, env=backend_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), f"backend-{i}"))
        self.processes.extend(process for process, _ in started)
        try:
            for process, name in started:
                wait_for_port(self.ports[name], process)
        except RuntimeError:
            self.stop()
            raise

    def start_nginx(self, prefix: Path, conf_text: str, listening: list[str]) -> None:
        """One nginx under `prefix` with `conf_text` (checked with nginx -t first), waited for on the named ports."""
        binary = nginx_binary()
        if binary is None:
            self.stop()
            raise RuntimeError("nginx is not installed (apt-get install nginx)")
        (prefix / "tmp").mkdir(parents=True, exist_ok=True)
        conf = prefix / "nginx.conf"
        conf.write_text(conf_text)
        test = subprocess.run([binary, "-t", "-p", str(prefix), "-c", str(conf), "-e", "stderr"], capture_output=True, text=True)
        if test.returncode != 0:
            self.stop()
            raise RuntimeError(f"nginx -t failed:\n{test.stderr}")
        process = subprocess.Popen(
            [binary, "-p", str(prefix), "-c", str(conf), "-e", "stderr"], stdout=subprocess.DEVNULL, stderr=(prefix / "stderr.log").open("w")
        )
        self.processes.append(process)
        try:
            for name in listening:
                wait_for_port(self.ports[name], process)
        except RuntimeError:
            self.stop()
            raise

    def stop(self) -> None:
        if self.relay is not None:
            self.relay.stop()
        for process in reversed(self.processes):
            stop(process)
        self.processes.clear()
