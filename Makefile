# On a machine with only python3:
#   make demo   create .venv, install, screen every sample dossier
#   make test   create .venv, install with dev extras (every extra included), run the whole suite
#   make lint   ruff (lint + format check), mypy, the dead-code check (vulture), the pack linter and packs fmt --check
# Installs take the exact versions in requirements/*.txt (make lock regenerates them), so the
# tests, the demo and a deployment run the same dependencies.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

PIP    := $(BIN)/python -m pip --quiet --disable-pip-version-check

.PHONY: demo test test-fast test-lowest bench bench-results bench-peers bench-listing bench-startup fuzz lint lint-api lock schemas serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# the pinned versions first; then the package itself (which adds nothing when the lock is current)
$(VENV)/.installed: pyproject.toml requirements/base.txt | $(BIN)/python
	$(PIP) install -r requirements/base.txt
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml requirements/dev.txt | $(BIN)/python
	$(PIP) install -r requirements/dev.txt
	$(PIP) install -e '.[dev]'
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
	@echo "--- the framework both ways: the revocation notice sent to MoLVT, its result recorded, closed"
	@id=$$($(BIN)/dossier-rules share list --outbox .demo/outbox.sqlite --country KH --act revocation --format json | $(BIN)/python -c "import json,sys; print(json.load(sys.stdin)[0]['id'])") && \
	  $(BIN)/dossier-rules share approve $$id --by "Demo Reviewer" --outbox .demo/outbox.sqlite && \
	  $(BIN)/dossier-rules exchange send $$id --how email --by "Demo Reviewer" --outbox .demo/outbox.sqlite && \
	  $(BIN)/dossier-rules exchange answer $$id --text "MoLVT inspected the agency and gave guidance" --date $$(date -u +%F) \
	    --reference "MoLVT 118/25" --action guidance --by "Demo Reviewer" --outbox .demo/outbox.sqlite && \
	  $(BIN)/dossier-rules exchange close $$id --by "Demo Reviewer" --outbox .demo/outbox.sqlite && \
	  $(BIN)/dossier-rules exchange history $$id --outbox .demo/outbox.sqlite
	@echo "--- MoLVT's revocation of MOLVT-ACC-0042 received: the list updated, KH-CAND-0001 screened again finds it"
	@rm -rf .demo/registries && cp -r rules/registries .demo/registries
	@printf '%s' '{"country": "KH", "kind": "revocation", "dated": "2025-09-20", "received_on": "2025-09-25", "reference": "MoLVT No. 118/25", "agency": {"id": "MOLVT-ACC-0042", "name": "Angkor Example Manpower Co. (fictional)"}, "effective_on": "2025-03-01"}' > .demo/letter.json
	$(BIN)/dossier-rules exchange receive .demo/letter.json --registries .demo/registries --by "Demo Reviewer" --outbox .demo/outbox.sqlite
	$(BIN)/dossier-rules check samples/kh-candidate-clean.json --registries .demo/registries --fail-on never
	@echo "--- MoLVT's 4(1) information about that agency received: KH-CAND-0001 screened as of 2025-09-30 gets a warn citing it; withdrawn, none"
	@printf '%s' '{"country": "KH", "kind": "intermediary_report", "dated": "2025-09-22", "received_on": "2025-09-26", "reference": "MoLVT No. 120/25", "intermediary": {"id": "MOLVT-ACC-0042", "name": "Angkor Example Manpower Co. (fictional)"}, "acts": ["a"]}' > .demo/report.json
	@printf '%s' '{"country": "KH", "kind": "report_withdrawal", "dated": "2025-09-28", "received_on": "2025-09-29", "reference": "MoLVT No. 131/25", "intermediary": {"id": "MOLVT-ACC-0042", "name": "Angkor Example Manpower Co. (fictional)"}, "withdraws": "MoLVT No. 120/25"}' > .demo/withdrawal.json
	$(BIN)/dossier-rules exchange receive .demo/report.json --registries .demo/registries --by "Demo Reviewer" --outbox .demo/outbox.sqlite
	$(BIN)/dossier-rules check samples/kh-candidate-clean.json --registries .demo/registries --as-of 2025-09-30 --fail-on never
	$(BIN)/dossier-rules exchange receive .demo/withdrawal.json --registries .demo/registries --by "Demo Reviewer" --outbox .demo/outbox.sqlite
	$(BIN)/dossier-rules check samples/kh-candidate-clean.json --registries .demo/registries --as-of 2025-09-30 --fail-on never
	@echo "--- improvement orders to each partner whose MOC asks for them (none to TJ while its MOC is not in force, none to PK)"
	$(BIN)/dossier-rules exchange orders --from 2025-01-01 --to 2025-09-30
	$(BIN)/dossier-rules exchange agenda --country KH --from 2025-01-01 --to $$(date -u +%F) --outbox .demo/outbox.sqlite
	@echo "--- every pack's test cases again, decided by durable-rules' Rete engine (the rete extra builds a C extension: gcc and Python headers)"
	@if $(PIP) install -e '.[rete]'; then $(BIN)/dossier-rules packs test --engine rete; \
	  else echo "(skipped: durable-rules could not be built on this machine)"; fi

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

# the suite without the wheel build/install test (marked `wheel`), every property test with the fast
# Hypothesis profile (tests/conftest.py: at most 200 examples each instead of each test's full budget)
test-fast: $(VENV)/.installed-dev
	HYPOTHESIS_PROFILE=dev $(BIN)/python -m pytest -m "not wheel"

# the suite against the lowest versions pyproject.toml allows of every direct dependency
# (the test tools at their locked versions; the Rete backend is pinned, so its slow tests are left out;
# schemathesis needs a newer jsonschema-rs than the lowest allowed, so the OpenAPI tests run with the lock only)
LOWEST := .venv-lowest
test-lowest: $(VENV)/.installed-dev
	rm -rf $(LOWEST)
	$(BIN)/uv venv --quiet --python $(BIN)/python $(LOWEST)
	$(BIN)/uv pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct -e '.[server,xlsx]' \
	  $$(grep -E '^(pytest|hypothesis)==' requirements/dev.txt | cut -d' ' -f1)
	$(LOWEST)/bin/python -m pytest -m "not wheel" --ignore=tests/test_rete.py --ignore=tests/test_server_openapi.py

# regenerate requirements/*.txt from pyproject.toml, keeping current pins where they still fit
# (make lock UPGRADE=--upgrade moves every pin to the newest allowed version); dev.txt holds every
# extra (dev, and bench for make bench-peers); base and server
# are constrained to dev, so a deployment runs exactly the versions the tests ran
LOCK_FLAGS = --universal --python-version 3.11 --generate-hashes --quiet --custom-compile-command "make lock" $(UPGRADE)
lock: $(VENV)/.installed-dev
	$(BIN)/uv pip compile pyproject.toml --all-extras $(LOCK_FLAGS) -o requirements/dev.txt
	$(BIN)/uv pip compile pyproject.toml -c requirements/dev.txt $(LOCK_FLAGS) -o requirements/base.txt
	$(BIN)/uv pip compile pyproject.toml --extra server -c requirements/dev.txt $(LOCK_FLAGS) -o requirements/server.txt

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench.py

# report and diff over 100,000 and 1,000,000 results: peak memory must not grow (ratio <= 1.10); long, runs nice'd
bench-results: $(VENV)/.installed-dev
	nice $(BIN)/python benchmarks/results_bench.py

# check of one dossier beside python -c pass (warm pack cache, and without it); BEFORE=REV adds that revision
# peak memory and bytes of the screenings listing over 60 stored 1.85 MB dossiers (the service's own process)
bench-listing: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/listing.py

bench-startup: $(VENV)/.installed
	$(BIN)/python benchmarks/startup.py $(if $(BEFORE),--before $(BEFORE))

# the same rules in GoRules ZEN and hand-written Python, side by side (zen-engine is only needed here)
bench-peers: $(VENV)/.installed-dev
	$(PIP) install -e '.[bench]'
	$(BIN)/python benchmarks/peers.py

# a long seeded fuzz run: 200,000 whole dossier files (the path of check, the API and the page upload; none may cost
# over 1 s of CPU), then 1,000,000 mutated records, packs and registry CSV files; each part reports inputs per second
# and its slowest input
FUZZ_INPUTS ?= 1000000
FUZZ_FILES ?= 200000
fuzz: $(VENV)/.installed-dev
	$(BIN)/python fuzz/screen_fuzz.py --files $(FUZZ_FILES) --inputs $(FUZZ_INPUTS)

$(VENV)/.installed-server: pyproject.toml requirements/server.txt | $(BIN)/python
	$(PIP) install -r requirements/server.txt
	$(PIP) install -e '.[server]'
	touch $@

# the service on 127.0.0.1:8000 (database: $$DOSSIER_RULES_DB or dossier-rules.sqlite); first: dossier-rules users add NAME --role admin
serve: $(VENV)/.installed-server
	$(BIN)/dossier-rules serve

# every step runs, and the target fails if any of them found something
lint: $(VENV)/.installed-dev
	@status=0; \
	$(BIN)/ruff check src tests benchmarks fuzz || status=1; \
	$(BIN)/ruff format --check src tests benchmarks fuzz || status=1; \
	$(BIN)/mypy || status=1; \
	$(BIN)/vulture || status=1; \
	$(BIN)/dossier-rules packs lint rules/ || status=1; \
	$(BIN)/dossier-rules packs fmt --check rules/ || status=1; \
	exit $$status

# every generated document in schemas/ (the OpenAPI one carries the version: rewrite it after a version change)
schemas: $(VENV)/.installed-server
	$(BIN)/dossier-rules schemas write --dir schemas
	$(BIN)/dossier-rules serve --write-openapi schemas/openapi.json

clean:
	rm -rf $(VENV) $(LOWEST) .pytest_cache .ruff_cache .mypy_cache .demo build dist

# the OpenAPI document under Spectral's spectral:oas and Redocly's recommended rules (npm registry; needs node/npx)
lint-api:
	printf 'extends: ["spectral:oas"]\n' > .spectral-oas.yaml
	npx --yes @stoplight/spectral-cli@6 lint --ruleset .spectral-oas.yaml --fail-severity warn schemas/openapi.json; status=$$?; rm -f .spectral-oas.yaml; exit $$status
	npx --yes @redocly/cli@2 lint --extends recommended schemas/openapi.json
