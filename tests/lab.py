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


class LifetimeCapRelay:
    """TCP relay that closes each connection `cap` seconds after it opened, pings or not."""

    def __init__(self, target_port: int, cap: float) -> None:
        self.port, self.target_port, self.cap = free_port(), target_port, cap
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
            tasks = [asyncio.ensure_future(pipe(client_reader, upstream_writer)), asyncio.ensure_future(pipe(upstream_reader, client_writer))]
            try:
                await asyncio.wait(tasks, timeout=self.cap, return_when=asyncio.FIRST_COMPLETED)
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
        upgrade = "proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade;"
        temp = "\n".join(f"    {kind}_temp_path {prefix}/tmp/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        sites = "\n".join(site.server_block() for site in self.pod_sites())
        return f"""\
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
{temp}
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
    map $cookie_LBAFFINITY $cookie_pod {{
{chr(10).join(f'        "pod-{i}" 127.0.0.1:{self.ports[f"pod-{i}"]};' for i in range(1, self.backends + 1))}
        default "";
    }}
    split_clients "$request_id" $random_pod {{
        50% 127.0.0.1:{self.ports["pod-1"]};
        * 127.0.0.1:{self.ports[f"pod-{self.backends}"]};
    }}
    map $cookie_pod $cookie_target {{
        "" $random_pod;
        default $cookie_pod;
    }}
    map $cookie_target $set_cookie_pod {{
{chr(10).join(f'        "127.0.0.1:{self.ports[f"pod-{i}"]}" "pod-{i}";' for i in range(1, self.backends + 1))}
        default "";
    }}
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
        location / {{
            add_header Set-Cookie "LBAFFINITY=$set_cookie_pod; Path=/" always;
            proxy_pass http://$cookie_target; {upgrade} proxy_read_timeout 3600s;
        }}
    }}
}}
"""

    def start(self) -> Lab:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed (apt-get install nginx)")
        for i in range(1, self.backends + 1):
            self.ports[f"backend-{i}"] = free_port()
            self.ports[f"pod-{i}"] = free_port()
        for name in ("incident", "fixed", "rr_upgrade", "cookie"):
            self.ports[name] = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
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
            self.processes.append(subprocess.Popen(command, env=backend_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        prefix = self.workdir / "nginx"
        (prefix / "tmp").mkdir(parents=True, exist_ok=True)
        conf = prefix / "nginx.conf"
        conf.write_text(self.nginx_conf())
        test = subprocess.run([binary, "-t", "-p", str(prefix), "-c", str(conf), "-e", "stderr"], capture_output=True, text=True)
        if test.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{test.stderr}")
        self.processes.append(
            subprocess.Popen([binary, "-p", str(prefix), "-c", str(conf), "-e", "stderr"], stdout=subprocess.DEVNULL, stderr=(prefix / "stderr.log").open("w"))
        )
        try:
            for process, name in [(p, f"backend-{i}") for i, p in enumerate(self.processes[:-1], 1)]:
                wait_for_port(self.ports[name], process)
            for name in ("incident", "fixed", "rr_upgrade", "cookie", *(f"pod-{i}" for i in range(1, self.backends + 1))):
                wait_for_port(self.ports[name], self.processes[-1])
        except RuntimeError:
            self.stop()
            raise
        self.relay = LifetimeCapRelay(self.ports["fixed"], self.cap)
        self.relay.start()
        self.ports["capped"] = self.relay.port
        return self

    def stop(self) -> None:
        if self.relay is not None:
            self.relay.stop()
        for process in reversed(self.processes):
            stop(process)
        self.processes.clear()
