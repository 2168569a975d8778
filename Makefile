# On a machine with only python3:
#   make demo   create .venv, install, screen every sample dossier
#   make test   create .venv, install with dev extras (every extra included), run the whole suite
#   make lint   ruff (lint + format check), mypy, and the pack linter
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-fast bench bench-results bench-peers lint schemas serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/dossier-rules packs list
	$(BIN)/dossier-rules registry list
	$(BIN)/dossier-rules check samples/ --fail-on never
	@echo "--- KH-CAND-0004 again, as of 2025-06-30: MoLVT revoked its agency on 2025-07-01, so no revocation finding yet"
	$(BIN)/dossier-rules check samples/kh-candidate-revoked-agency.json --as-of 2025-06-30 --fail-on never
	@echo "--- information-sharing notices from the share-marked findings (outbox: .demo/outbox.sqlite)"
	@mkdir -p .demo && rm -f .demo/outbox.sqlite*
	$(BIN)/dossier-rules check samples/ --format jsonl --fail-on never > .demo/reports.jsonl
	$(BIN)/dossier-rules share build .demo/reports.jsonl --outbox .demo/outbox.sqlite
	$(BIN)/dossier-rules share list --outbox .demo/outbox.sqlite
	@id=$$($(BIN)/dossier-rules share list --outbox .demo/outbox.sqlite --format json | $(BIN)/python -c "import json,sys; print(json.load(sys.stdin)[0]['id'])") && \
	  $(BIN)/dossier-rules share approve $$id --by "Demo Reviewer" --outbox .demo/outbox.sqlite && \
	  $(BIN)/dossier-rules share export $$id --format html --output .demo/notice.html --outbox .demo/outbox.sqlite

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

# the suite without the wheel build/install test (marked `wheel`)
test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m "not wheel"

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench.py

# report and diff over 100,000 and 1,000,000 results: peak memory must not grow (ratio <= 1.10); long, runs nice'd
bench-results: $(VENV)/.installed-dev
	nice $(BIN)/python benchmarks/results_bench.py

# the same rules in GoRules ZEN and hand-written Python, side by side (zen-engine is only needed here)
bench-peers: $(VENV)/.installed-dev
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'zen-engine>=0.40'
	$(BIN)/python benchmarks/peers.py

$(VENV)/.installed-server: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[server]'
	touch $@

# the service on 127.0.0.1:8000 (database: $$DOSSIER_RULES_DB or dossier-rules.sqlite); first: dossier-rules users add NAME --role admin
serve: $(VENV)/.installed-server
	$(BIN)/dossier-rules serve

# every step runs, and the target fails if any of them found something
lint: $(VENV)/.installed-dev
	@status=0; \
	$(BIN)/ruff check src tests benchmarks || status=1; \
	$(BIN)/ruff format --check src tests benchmarks || status=1; \
	$(BIN)/mypy || status=1; \
	$(BIN)/dossier-rules packs lint rules/ || status=1; \
	exit $$status

schemas: $(VENV)/.installed
	$(BIN)/dossier-rules schemas write --dir schemas

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .demo build dist
