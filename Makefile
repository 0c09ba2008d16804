# One entry point for people and CI. `make test` on a fresh clone sets everything up first.
PYTHON ?= python3
VENV := .venv
SCAN := .venv-scan
STACK ?= prod

.PHONY: setup test render check clean

setup: $(VENV)/.installed $(SCAN)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# checkov cannot share the program's virtualenv (it pins packaging<24, pulumi needs >=26).
$(SCAN)/.installed: requirements-scan.txt
	$(PYTHON) -m venv $(SCAN)
	$(SCAN)/bin/pip install --quiet --disable-pip-version-check -r requirements-scan.txt
	touch $@

test: setup
	$(VENV)/bin/python -m pytest

render: $(VENV)/.installed
	$(VENV)/bin/python -m ops render $(STACK)

check: $(VENV)/.installed
	$(VENV)/bin/python -m ops check

clean:
	rm -rf $(VENV) $(SCAN) .pytest_cache
