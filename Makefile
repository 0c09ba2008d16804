# One entry point for people and CI. `make test` on a fresh clone sets everything up first.
PYTHON ?= python3
VENV := .venv
SCAN := .venv-scan
STACK ?= prod

.PHONY: setup node-lab test render check clean

setup: $(VENV)/.installed $(SCAN)/.installed node-lab

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# checkov cannot share the program's virtualenv (it pins packaging<24, pulumi needs >=26).
$(SCAN)/.installed: requirements-scan.txt
	$(PYTHON) -m venv $(SCAN)
	$(SCAN)/bin/pip install --quiet --disable-pip-version-check -r requirements-scan.txt
	touch $@

# socket.io on Node (what the IDE runs) for the end-to-end lab; skipped where there is no Node.
node-lab:
	@if command -v npm >/dev/null 2>&1; then \
		[ -d tests/node_lab/node_modules/socket.io ] || npm ci --prefix tests/node_lab --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the Node socket.io end-to-end tests will be skipped"; fi

test: setup
	$(VENV)/bin/python -m pytest

render: $(VENV)/.installed
	$(VENV)/bin/python -m ops render $(STACK)

check: $(VENV)/.installed
	$(VENV)/bin/python -m ops check

clean:
	rm -rf $(VENV) $(SCAN) .pytest_cache tests/node_lab/node_modules
