"""`ops migrate`: the move from the Ingress front door to the Gateway (and back) as steps the tool checks.

plan.py (the steps, judged from settings, observations, memory and time), observe.py (the live reads behind
one interface), proof.py (the migration's memory in .cache/migrate/<stack>.json), edit.py (the one stack-file
edit), run.py (the command). The runbook is docs/migration.md.
"""
