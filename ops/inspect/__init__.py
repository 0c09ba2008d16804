"""`python -m ops inspect`: read the live cluster and Google Cloud, read-only, and prove that what the
program declared is what the load balancer does (issue 12).

The command side only: options.py (the arguments, import-light), stack.py (the desired state: the golden
render when current, else the program run in memory), run.py (the kubeconfig first, then one inspection
polled under --wait, the exit codes), report.py (table or JSON). The engine (desired state, live reads
through the official clients, checks, diagnoses) is the live-state package, livestate/.
"""
