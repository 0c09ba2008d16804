"""A strict Kubernetes API stand-in for `ops probe`: the Job lifecycle (create, the controller's
pod, Complete after some reads, delete with its pod), pod lists by label, and the probe container's
log. Only those paths and verbs exist; anything else is 404 (unknown path) or 405 (other verb).

Shapes follow the API reference (batch/v1 Job status conditions, core/v1 Pod, Status objects);
the pod log is plain text, as GET .../pods/NAME/log answers.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Json = dict[str, Any]
JOBS = re.compile(r"^/apis/batch/v1/namespaces/(?P<namespace>[a-z0-9-]+)/jobs(?:/(?P<name>[a-z0-9-]+))?$")
PODS = re.compile(r"^/api/v1/namespaces/(?P<namespace>[a-z0-9-]+)/pods(?:/(?P<name>[a-z0-9-]+)(?P<log>/log)?)?$")


@dataclass
class Cluster:
    """What the stand-in holds, and how the simulated Job controller behaves."""

    log: str = ""  # what the probe container printed
    reads_until_done: int = 2  # GETs of the Job before it completes; 0: never
    outcome: str = "Complete"  # or "Failed"
    unschedulable: str = ""  # the pod stays Pending with this scheduler message
    forbidden: set[tuple[str, str]] = field(default_factory=set)  # (verb, resource) answered 403
    jobs: dict[str, Json] = field(default_factory=dict)
    pods: dict[str, Json] = field(default_factory=dict)
    created: list[Json] = field(default_factory=list)  # every Job body received
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) in order
    reads: int = 0


def _status(code: int, reason: str, message: str) -> Json:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code}


class JobApiHandler(BaseHTTPRequestHandler):
    cluster: Cluster

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, code: int, body: Any, content_type: str = "application/json") -> None:
        data = (json.dumps(body) if content_type == "application/json" else str(body)).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self) -> tuple[str, re.Match[str] | None, dict[str, list[str]]]:
        url = urlsplit(self.path)
        self.cluster.requests.append((self.command, url.path))
        return url.path, JOBS.match(url.path) or PODS.match(url.path), parse_qs(url.query)

    def _denied(self, verb: str, resource: str, namespace: str) -> bool:
        if (verb, resource) not in self.cluster.forbidden:
            return False
        group = "batch" if resource == "jobs" else ""
        self._send(
            403,
            _status(
                403,
                "Forbidden",
                f'{resource} is forbidden: User "probe@coditect-prod.iam.gserviceaccount.com" cannot {verb} '
                f'resource "{resource}" in API group "{group}" in the namespace "{namespace}"',
            ),
        )
        return True

    def _missing(self, kind: str, name: str) -> None:
        self._send(404, _status(404, "NotFound", f'{kind} "{name}" not found'))

    def do_POST(self) -> None:
        _, match, _ = self._route()
        if not match or match.re is not JOBS or match["name"]:
            self._send(405 if match else 404, _status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"))
            return
        namespace = match["namespace"]
        if self._denied("create", "jobs", namespace):
            return
        job = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if job.get("kind") != "Job" or job.get("apiVersion") != "batch/v1" or job["metadata"].get("namespace") != namespace:
            self._send(400, _status(400, "BadRequest", "the body is not a batch/v1 Job of this namespace"))
            return
        name = job["metadata"]["name"]
        if name in self.cluster.jobs:
            self._send(409, _status(409, "AlreadyExists", f'jobs.batch "{name}" already exists'))
            return
        self.cluster.created.append(job)
        job = {**job, "metadata": {**job["metadata"], "uid": "3f1c2a7e-0000-4000-8000-000000000001"}, "status": {}}
        self.cluster.jobs[name] = job
        labels = {**job["spec"]["template"]["metadata"]["labels"], "batch.kubernetes.io/job-name": name, "job-name": name}
        pod: Json = {
            "metadata": {
                "name": f"{name}-x7k2p",
                "namespace": namespace,
                "labels": labels,
                "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": name, "controller": True}],
            },
            "spec": job["spec"]["template"]["spec"],
            "status": {"phase": "Pending"},
        }
        if self.cluster.unschedulable:
            pod["status"]["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": self.cluster.unschedulable}]
        self.cluster.pods[pod["metadata"]["name"]] = pod
        self._send(201, job)

    def do_GET(self) -> None:
        _, match, query = self._route()
        if not match:
            self._send(404, "404 page not found\n", "text/plain; charset=utf-8")
            return
        namespace, name = match["namespace"], match["name"]
        if match.re is JOBS:
            if name is None:
                self._send(404, "404 page not found\n", "text/plain; charset=utf-8")  # the probe never lists Jobs
            elif not self._denied("get", "jobs", namespace):
                self._job(name)
        elif name is None:
            if not self._denied("list", "pods", namespace):
                term = (query.get("labelSelector") or [""])[0]
                key, _, value = term.partition("=")
                items = [p for p in self.cluster.pods.values() if p["metadata"]["labels"].get(key) == value]
                self._send(200, {"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "1"}, "items": items})
        elif match["log"]:
            if not self._denied("get", "pods/log", namespace):
                self._log(name, query)
        else:
            self._send(404, "404 page not found\n", "text/plain; charset=utf-8")  # the probe never gets a single pod

    def _job(self, name: str) -> None:
        job = self.cluster.jobs.get(name)
        if job is None:
            self._missing("jobs.batch", name)
            return
        self.cluster.reads += 1
        if self.cluster.reads_until_done and self.cluster.reads >= self.cluster.reads_until_done and not self.cluster.unschedulable:
            done = self.cluster.outcome
            job["status"] = {
                "startTime": "2026-04-20T10:00:00Z",
                "succeeded" if done == "Complete" else "failed": 1,
                "conditions": [{"type": done, "status": "True", "reason": "Completed" if done == "Complete" else "BackoffLimitExceeded"}],
            }
            for pod in self.cluster.pods.values():
                pod["status"] = {"phase": "Succeeded" if done == "Complete" else "Failed", "hostIP": "10.128.0.7", "podIP": "10.48.2.9"}
        self._send(200, job)

    def _log(self, name: str, query: dict[str, list[str]]) -> None:
        pod = self.cluster.pods.get(name)
        if pod is None:
            self._missing("pods", name)
            return
        container = (query.get("container") or [""])[0]
        if container != pod["spec"]["containers"][0]["name"]:
            self._send(400, _status(400, "BadRequest", f"container {container} is not valid for pod {name}"))
        elif pod["status"]["phase"] == "Pending":
            self._send(400, _status(400, "BadRequest", f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating'))
        else:
            self._send(200, self.cluster.log, "text/plain")

    def do_DELETE(self) -> None:
        _, match, _ = self._route()
        if not match or match.re is not JOBS or not match["name"]:
            self._send(405 if match else 404, _status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"))
            return
        namespace, name = match["namespace"], match["name"]
        if self._denied("delete", "jobs", namespace):
            return
        if self.cluster.jobs.pop(name, None) is None:
            self._missing("jobs.batch", name)
            return
        for pod in [p for p, body in self.cluster.pods.items() if body["metadata"]["labels"].get("job-name") == name]:
            del self.cluster.pods[pod]  # propagationPolicy Background: the garbage collector removes the pod
        self._send(
            200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": {"name": name, "group": "batch", "kind": "jobs"}}
        )

    def _refuse(self) -> None:
        self._route()
        self._send(405, _status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"))

    do_PUT = do_PATCH = _refuse


@contextmanager
def serving_jobs(cluster: Cluster) -> Iterator[str]:
    bound = type("BoundJobApiHandler", (JobApiHandler,), {"cluster": cluster})
    server = ThreadingHTTPServer(("127.0.0.1", 0), bound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
