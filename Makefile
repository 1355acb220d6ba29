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

# Then the embedding model as ONNX, for questions without torch: exported once (it needs torch), checked
# against sentence-transformers, and a quick no-op once its file is there (assistant/index/onnx_embedding.py).
install: $(VENV)/.installed
	@$(PY) -m assistant.index.onnx_embedding >/dev/null

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

# Ingest, query and cold-start benchmarks, then one Markdown table of their figures (benchmarks/bench.py);
# BENCH_ARGS=--quick for small runs.
bench: install
	$(PY) benchmarks/bench.py $(BENCH_ARGS)

# The samples plus the field reports, in their own index so `make eval` never touches index/. Only the
# field PDFs (its README and truth.csv are not reports); one is a saved web page on purpose, so a file
# that fails to ingest does not stop the run.
SHARED ?= ../shared
EVAL_INDEX ?= index-eval
eval: install
	@test -d $(SHARED)/eval && test -d $(SHARED)/corpus/field || \
		{ echo "make eval: $(SHARED)/eval and $(SHARED)/corpus/field are missing (the questions and field reports live beside the repository; set SHARED=path)" >&2; exit 1; }
	-ASSISTANT_INDEX_DIR=$(EVAL_INDEX) $(VENV)/bin/assistant ingest --quiet --prune corpus/sample $(SHARED)/corpus/field/*.pdf
	ASSISTANT_INDEX_DIR=$(EVAL_INDEX) $(VENV)/bin/assistant eval $(SHARED)/eval/dev_qa.jsonl $(SHARED)/eval/field_qa.jsonl \
		--markdown eval.md --details eval-details.jsonl

clean:
	rm -rf $(VENV) index
