# The README's two commands (`make demo`, `make test`) and a few more.
# Each target creates the virtual environment and installs the package first if needed.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: demo test test-fast lint format install clean

demo: $(INSTALLED)
	$(VENV)/bin/seq2seq demo

# The core model tests again on the other Keras backends (the full suite runs on
# TensorFlow; tests/integration/test_backends.py also loads each backend's files on every other).
BACKEND_TESTS := tests/models/test_seq2seq.py tests/models/test_precision.py

# Two worker processes: much of the suite is single-threaded tracing of small models, so
# the TensorFlow run takes about 12 minutes on 2 cores instead of 20.
PARALLEL := -n 2

test: lint
	$(PYTHON) -m pytest $(PARALLEL) --durations=15
	KERAS_BACKEND=jax $(PYTHON) -m pytest -m "not slow" $(BACKEND_TESTS)
	KERAS_BACKEND=torch $(PYTHON) -m pytest -m "not slow" $(BACKEND_TESTS)

# ruff: pycodestyle, pyflakes, import order and bugbear rules, lines of at most 120 characters
# ([tool.ruff] in pyproject.toml); `make format` rewrites the tree to pass.
lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(INSTALLED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test-fast: $(INSTALLED)
	$(PYTHON) -m pytest $(PARALLEL) -m "not slow"

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e ".[test,jax,torch]"
	touch $(INSTALLED)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache demo-model.keras
