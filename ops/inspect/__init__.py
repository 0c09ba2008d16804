"""`python -m ops inspect`: read the live cluster and Google Cloud, read-only, and prove that what the
program declared is what the load balancer does (issue 12).

desired.py (the program's state, rendered in memory) -> kube.py / compute.py (live reads through the
official clients) -> live.py (what GKE built, following its annotations) -> checks.py (one check per
metric) -> diagnosis.py (cause and fix) -> report.py (table or JSON); run.py ties them and --wait.
"""
