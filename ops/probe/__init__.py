"""`python -m ops probe STACK`: prove from inside the cluster what a pod running user code can reach
(issue 15, part 5).

table.py (the probes and what each must do) -> script.py (what runs in the pod, one line per probe)
-> job.py (the Job: the IDE pods' labels, service account and runtime class, restricted) ->
report.py (parse the pod's log, verdict per probe) -> run.py (create, wait, read, delete; exit codes).
The Job's client (create, read, log, delete; bounded, its errors translated) is the live-state
engine's: livestate/jobs.py.
"""
