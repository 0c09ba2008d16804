"""The live-state engine: what the stack declared (desired.py, from the manifests through gke.stack)
against what the cluster and Google Cloud hold, read-only and bounded.

model.py (checks, layers, the ways a read stops) and errors.py (input it cannot use); kubeconfig/ (the
one bounded kubeconfig loader); bounds.py, urllib3_bounds.py (the Kubernetes client) and gcp_http.py
(the Google clients): every exchange under a total deadline and byte caps; shapes.py (answer shapes);
kube.py, compute.py, container.py, jobs.py (the readers, and the probe's Job client); live.py (what GKE
built, following its annotations); checks.py, preconditions.py, diagnosis.py (judgement); inspector.py
(one inspection, polled); hook.py (what the after-up hook runs).

Used by the program (the hook, built at the composition root, __main__.py) and by `ops inspect` and
`ops probe`; imports no `ops`. The API clients load when a reader is first used.
"""
