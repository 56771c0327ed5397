# The README's two commands (`make demo`, `make test`) and a few more.
# Each target creates the virtual environment and installs the package first if needed.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: demo test test-fast install clean

demo: $(INSTALLED)
	$(VENV)/bin/seq2seq demo

test: $(INSTALLED)
	$(PYTHON) -m pytest

test-fast: $(INSTALLED)
	$(PYTHON) -m pytest -m "not slow"

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $(INSTALLED)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache demo-model.keras
