VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: install serve test test-fast lint bench eval clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# CPU build of torch first: an unpinned torch pulls a multi-GB CUDA build.
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

serve: install
	-$(VENV)/bin/assistant ingest
	$(VENV)/bin/assistant serve

test: install
	$(VENV)/bin/pytest

test-fast: install
	$(VENV)/bin/pytest -m "not slow and not e2e"

lint: install
	$(VENV)/bin/ruff check assistant ui tests benchmarks
	$(VENV)/bin/mypy assistant ui

bench: install
	$(PY) benchmarks/ingest.py
	$(PY) benchmarks/query.py

eval: install
	$(VENV)/bin/assistant eval ../shared/eval/dev_qa.jsonl

clean:
	rm -rf $(VENV) index
