# One entry point for people and CI. `make test` on a fresh clone sets everything up first.
# Every install comes from a lock file with hashes; `make lock` regenerates the locks.
PYTHON ?= python3
VENV := .venv
STACK ?= prod
UV := $(VENV)/bin/uv
# checkov pins packaging<24 and pulumi needs >=26, so it runs as a uv tool in an environment of its own, every
# package pinned by requirements-scan.lock (tests/test_schemas.py runs the same command).
CHECKOV := $(UV) tool run --from checkov==$(shell sed -n 's/^checkov==\([^ ]*\).*/\1/p' requirements-scan.lock) --with-requirements requirements-scan.lock checkov
# uv resolves for every platform against PyPI; the header of each requirements lock names `make lock`.
COMPILE := $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock"

ACTIONLINT_VERSION := v1.7.12
TOOLS := $(HOME)/.cache/coditect-tools/bin

.PHONY: setup venv scan node-lab browser tools test test-fast lint shell engine test-engine ruff mypy mypy-pack render check docs lock hooks clean

setup: venv scan node-lab browser tools

# uv from requirements-pip.lock (pip --require-hashes), then `uv sync --frozen --all-groups`: the program's
# dependencies (what `pulumi up` installs) and the ops, tests and lint groups, exactly as uv.lock pins them, and
# the rule engine (policy/) editable. The sync runs every time: it takes well under a second when nothing changed,
# and puts the groups back after a `pulumi up` here synced .venv down to the program's dependencies.
# Measured on the 2-core machine: about 7 seconds with a warm uv cache; a cold cache downloads about 115 packages.
$(UV): requirements-pip.lock
	@echo "setup: $(VENV): uv from requirements-pip.lock"
	[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-pip.lock
	touch $@

venv: $(UV)
	$(UV) sync --quiet --frozen --all-groups

# Fetches checkov's environment into uv's cache once (about 10 seconds warm), so the tests run it offline.
scan: $(UV)
	@$(CHECKOV) --version >/dev/null

# socket.io on Node (what the IDE runs) for the end-to-end lab; skipped where there is no Node.
node-lab:
	@if command -v npm >/dev/null 2>&1; then \
		[ -d tests/node_lab/node_modules/socket.io ] && [ -d tests/node_lab/node_modules/socket.io-client ] || { \
			echo "setup: tests/node_lab: socket.io and socket.io-client from package-lock.json (npm ci, usually a few seconds)"; \
			npm ci --prefix tests/node_lab --no-audit --no-fund --loglevel=error; }; \
	else echo "npm not found: the Node socket.io end-to-end tests will be skipped"; fi

# Headless Chromium from Debian runs socket.io-client in the browser tests (and `ops verify --browser`).
# Installed when missing and run as root (CI); elsewhere the browser tests are skipped, and fail under CI=true.
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "setup: apt-get install chromium chromium-driver (usually one to two minutes)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "chromium not found: the browser tests will be skipped (as root: apt-get install chromium chromium-driver)"; fi

# actionlint checks the workflows (tests/test_workflows.py), built from the Go module proxy (about 20 s) outside
# the repository; shellcheck, which it runs on every `run:` script, comes from Debian (.ci/run installs it).
tools:
	@if [ -x $(TOOLS)/actionlint ] && $(TOOLS)/actionlint -version | grep -qx '$(ACTIONLINT_VERSION)'; then :; \
	elif command -v go >/dev/null 2>&1; then \
		echo "setup: actionlint $(ACTIONLINT_VERSION) from the Go module proxy into $(TOOLS) (usually 20 seconds)"; \
		GOBIN=$(TOOLS) GOFLAGS=-mod=mod go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION); \
	else echo "go not found: actionlint is not built and the workflow lint test will be skipped (fails under CI=true)"; fi

# pytest exits 5 when it collected no test: for this suite a broken selection, never a pass.
test: setup
	$(VENV)/bin/python -m pytest || { status=$$?; [ $$status -ne 5 ] || echo "make test: pytest collected no tests" >&2; exit $$status; }

# The suite without the lab (real nginx, Socket.IO servers, Chromium) and the deploy-virtualenv builds: the
# program, rules, settings and ops against stand-ins, for the edit-test loop. CI runs `make test`.
test-fast: venv
	$(VENV)/bin/python -m pytest -m "not lab and not slow"

# `make -k lint` runs every check even when one fails. mypy runs twice: policy/__main__.py and the
# project's __main__.py are both the module `__main__`.
lint: ruff mypy mypy-pack shell

ruff: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The shell scripts, and the workflows with shellcheck on their run: scripts (ops/tools.py finds both tools).
shell: venv tools
	$(VENV)/bin/python -m ops.tools shellcheck .ci/run engine/build.sh engine/pulumi-language-python
	$(VENV)/bin/python -m ops.tools actionlint

mypy: venv
	$(VENV)/bin/mypy

mypy-pack: venv
	MYPYPATH=policy $(VENV)/bin/mypy policy/__main__.py  # its `gke` is the link to src/coditect/gke

render: venv
	$(VENV)/bin/python -m ops render $(STACK)

check: venv
	$(VENV)/bin/python -m ops check

# Every generated part of the documentation (tests/test_docs.py fails when one is stale and names this target).
docs: venv
	$(VENV)/bin/python -m ops.settings_doc --write
	$(VENV)/bin/python -m ops.rule_table --write
	$(VENV)/bin/python -m ops.runbook --write
	$(VENV)/bin/python -m ops.exit_table --write
	$(VENV)/bin/python -m ops.component_args --write
	$(VENV)/bin/python -m ops.component_schema --write

# uv.lock (the program and its groups) and policy/uv.lock (the pack; its pins are uv.lock's, which
# tests/test_policy_pack_standalone.py checks). Existing pins are kept; `make lock LOCK_ARGS=--upgrade` moves
# everything to the newest allowed.
lock: venv
	$(UV) lock $(LOCK_ARGS)
	cd policy && ../$(UV) lock $(LOCK_ARGS)
	cd provider && ../$(UV) lock $(LOCK_ARGS)
	$(COMPILE) $(LOCK_ARGS) requirements-scan.txt -o requirements-scan.lock
	$(COMPILE) $(LOCK_ARGS) requirements-pip.txt -o requirements-pip.lock

hooks: venv
	$(VENV)/bin/pre-commit install

clean:
	rm -rf $(VENV) policy/.venv .pytest_cache .mypy_cache .ruff_cache tests/node_lab/node_modules

# The real engine (engine/build.sh): the Pulumi CLI, the Kubernetes provider, etcd, kube-apiserver and the YAML
# language host (for the component package's YAML consumer), built
# from the Go module proxy into ~/.cache/coditect-engine (cold: about 25 minutes on 2 cores, measured; warm: seconds).
engine:
	engine/build.sh

# `pulumi preview/up/destroy` of the local stack under the real engine, on a loopback cluster (tests_engine/).
test-engine: venv engine
	$(VENV)/bin/python -m pytest -n 0 tests_engine || { status=$$?; [ $$status -ne 5 ] || echo "make test-engine: pytest collected no tests" >&2; exit $$status; }
