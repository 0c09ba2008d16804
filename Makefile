# One entry point for people and CI. `make test` on a fresh clone sets everything up first.
# Every install comes from a lock file with hashes; `make lock` regenerates the locks.
PYTHON ?= python3
VENV := .venv
SCAN := .venv-scan
STACK ?= prod
PIP_INSTALL := bin/pip install --quiet --disable-pip-version-check --require-hashes
# uv resolves for every platform against PyPI; the header of each lock names `make lock`.
# The rule engine (`-e ./policy` in requirements.txt) is installed from the checkout, never locked.
LOCK := $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes --no-emit-package coditect-gke-rules \
	--custom-compile-command "make lock"
pins = $(shell grep -cE '^[A-Za-z0-9]' $(1))

ACTIONLINT_VERSION := v1.7.12
TOOLS := $(HOME)/.cache/coditect-tools/bin

.PHONY: setup node-lab browser tools test test-fast lint engine test-engine ruff mypy mypy-pack render check docs lock hooks clean

setup: $(VENV)/.installed $(SCAN)/.installed node-lab browser tools

# The durations below were measured on the 2-core machine with fresh virtualenvs and an empty pip cache
# (whole `make setup`: about 2 minutes); pip's time goes into unpacking, so a warm cache barely helps.
# The rule engine (policy/pyproject.toml) last, editable: pip's --require-hashes mode refuses editable
# installs, and without build isolation the dev lock's setuptools builds it offline.
$(VENV)/.installed: requirements-dev.lock requirements-pip.lock policy/pyproject.toml
	@echo "setup: $(VENV): Pulumi SDKs, pydantic, ops, pytest, ruff and mypy from requirements-dev.lock ($(call pins,requirements-dev.lock) pinned packages, usually 1 to 1.5 minutes)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/$(PIP_INSTALL) -r requirements-pip.lock
	$(VENV)/$(PIP_INSTALL) -r requirements-dev.lock
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e ./policy
	touch $@

# checkov cannot share the program's virtualenv (it pins packaging<24, pulumi needs >=26).
$(SCAN)/.installed: requirements-scan.lock requirements-pip.lock
	@echo "setup: $(SCAN): checkov for the Kubernetes scan tests from requirements-scan.lock ($(call pins,requirements-scan.lock) pinned packages, usually 40 to 50 seconds)"
	$(PYTHON) -m venv $(SCAN)
	$(SCAN)/$(PIP_INSTALL) -r requirements-pip.lock
	$(SCAN)/$(PIP_INSTALL) -r requirements-scan.lock
	touch $@

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
test-fast: $(VENV)/.installed
	$(VENV)/bin/python -m pytest -m "not lab and not slow"

# `make -k lint` runs every check even when one fails. mypy runs twice: policy/__main__.py and the
# project's __main__.py are both the module `__main__`.
lint: ruff mypy mypy-pack

ruff: $(VENV)/.installed
	$(VENV)/bin/ruff check .

mypy: $(VENV)/.installed
	$(VENV)/bin/mypy

mypy-pack: $(VENV)/.installed
	$(VENV)/bin/mypy policy/__main__.py

render: $(VENV)/.installed
	$(VENV)/bin/python -m ops render $(STACK)

check: $(VENV)/.installed
	$(VENV)/bin/python -m ops check

# Every generated part of the documentation (tests/test_docs.py fails when one is stale and names this target).
docs: $(VENV)/.installed
	$(VENV)/bin/python -m ops.settings_doc --write
	$(VENV)/bin/python -m ops.rule_table --write
	$(VENV)/bin/python -m ops.runbook --write
	$(VENV)/bin/python -m ops.exit_table --write

# The program's lock is constrained by the dev lock, so `pulumi up` runs the versions the tests ran.
# Existing pins are kept; `make lock LOCK_ARGS=--upgrade` moves everything to the newest allowed.
lock: $(VENV)/.installed
	$(LOCK) $(LOCK_ARGS) requirements-dev.txt -o requirements-dev.lock
	$(LOCK) $(LOCK_ARGS) requirements.txt -c requirements-dev.lock -o requirements.lock
	$(LOCK) $(LOCK_ARGS) requirements-scan.txt -o requirements-scan.lock
	$(LOCK) $(LOCK_ARGS) requirements-pip.txt -o requirements-pip.lock

hooks: $(VENV)/.installed
	$(VENV)/bin/pre-commit install

clean:
	rm -rf $(VENV) $(SCAN) .pytest_cache .mypy_cache .ruff_cache tests/node_lab/node_modules

# The real engine (engine/build.sh): the Pulumi CLI, the Kubernetes provider, etcd and kube-apiserver, built
# from the Go module proxy into ~/.cache/coditect-engine (cold: about 25 minutes on 2 cores, measured; warm: seconds).
engine:
	engine/build.sh

# `pulumi preview/up/destroy` of the local stack under the real engine, on a loopback cluster (tests_engine/).
test-engine: $(VENV)/.installed engine
	$(VENV)/bin/python -m pytest -n 0 tests_engine || { status=$$?; [ $$status -ne 5 ] || echo "make test-engine: pytest collected no tests" >&2; exit $$status; }
