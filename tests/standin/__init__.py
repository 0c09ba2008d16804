"""Local stand-ins for the Kubernetes API and the Compute Engine REST API, serving a `World` of
objects shaped like the real responses (tests/fixtures/inspect). Strict: only the GET paths the real
servers have for these resources answer; any other path is 404 and any write is refused (405)."""
