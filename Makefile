# The two set-up commands of the README: `make demo` and `make test`. Both run `make setup`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# azmlinfsrv lives in its own venv: installing Microsoft's server next to devkit's runtime
# would hide whether the runtime's own azureml.* import shims work.
AZML_VENV := .venv-azml

.PHONY: setup test demo lint clean bench

setup: $(VENV)/.installed $(AZML_VENV)/.installed

$(VENV)/.installed: pyproject.toml runtime/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip "setuptools>=68" wheel
	$(BIN)/pip install --quiet -e ./runtime -e '.[test]'
	touch $@

$(AZML_VENV)/.installed:
	$(PYTHON) -m venv $(AZML_VENV)
	$(AZML_VENV)/bin/pip install --quiet --upgrade pip
	$(AZML_VENV)/bin/pip install --quiet 'azureml-inference-server-http==1.5.1'
	touch $@

test: setup
	$(BIN)/ruff check devkit runtime tests bench samples docs
	$(BIN)/mypy
	$(BIN)/pytest

demo: setup
	$(BIN)/python -m devkit.demo

bench: setup
	$(BIN)/python bench/server_throughput.py

clean:
	rm -rf $(VENV) $(AZML_VENV)
