# ICS Engagement Hub. `make run` brings the hub up; `make test` proves it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install prerequisites run status test test-quick fuzz lint format typecheck infra-up infra-down bench bench-quick chaos clean

help:
	@echo "make run        start Kafka, the four services and a mail sink; seed the demo ICS"
	@echo "make test       lint, type-check, and run every test against real Kafka and PostgreSQL"
	@echo "                (in $(TEST_WORKERS) processes sharing one broker and one PostgreSQL; TEST_WORKERS=N to change)"
	@echo "make test-quick the unit and API tests that need no broker, PostgreSQL or browser (SQLite), in about a minute"
	@echo "make status     is the hub of 'make run' up? prints its addresses and example requests again"
	@echo "make fuzz       the OpenAPI contract tests with every check, many more requests, as every role"
	@echo "                (SERVICES=membership,notification to pick services), and the cross-output"
	@echo "                disclosure sweep over many generated ICSs (long)"
	@echo "make bench      every benchmark: intake, consumers/replay/relay, reports at 1M, a national month (long)"
	@echo "make bench-quick  the same at a few minutes' size"
	@echo "make chaos      fault-injection run: kill every process, the broker and PostgreSQL under load"
	@echo "make infra-up   start the local Kafka broker and PostgreSQL only"
	@echo "make infra-down stop them"

# Front-end assets (NHS.UK frontend, axe-core) of the services that serve pages.
WEB := services/membership/web services/console/web

# What the system must have first (Python's venv, a JDK, Maven, npm...): installed when run as
# root on Debian, otherwise named. `make run` needs less than `make test`.
PROFILE ?= test

$(STAMP): requirements-dev.txt shared/pyproject.toml services/*/pyproject.toml $(addsuffix /package-lock.json,$(WEB))
	@deploy/prerequisites.sh run
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	for web in $(WEB); do npm ci --prefix $$web --no-audit --no-fund --loglevel=error || exit 1; done
	@touch $@

install: $(STAMP)

run:
	@deploy/prerequisites.sh run
	@$(MAKE) --no-print-directory install
	@$(PYTHON) deploy/foreground.py deploy/run.sh

status:
	@deploy/run.sh status

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install
	$(BIN)/mypy

prerequisites:
	@deploy/prerequisites.sh $(PROFILE)

# Tests run in several processes (pytest-xdist) on one broker and one PostgreSQL, each process
# with its own databases and topics (hub_shared.testing); a module's tests stay in one process
# (the end-to-end ones build on each other's data); the long tests start first.
TEST_WORKERS ?= 3
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder
# Python may keep compiled modules (in the ignored __pycache__ folders) even where the
# environment says not to: every test process, and every service process a test starts,
# otherwise compiles the tests and the hub from source again (a third of collecting them).
KEEP_BYTECODE := PYTHONDONTWRITEBYTECODE=

test: prerequisites lint typecheck
	$(KEEP_BYTECODE) $(BIN)/pytest $(PYTEST_PARALLEL)

# The inner loop: every test that needs neither the broker nor PostgreSQL (markers set by
# hub_shared.testing from the fixtures a test uses).
test-quick: install
	$(KEEP_BYTECODE) $(BIN)/pytest -n 2 -m "not kafka and not postgres and not chromium"

# The contract tests with many more generated requests per operation, randomised, as every role;
# then the disclosure sweep over many generated ICSs.
fuzz: prerequisites install
	HUB_CONTRACT_EXAMPLES=$${HUB_CONTRACT_EXAMPLES:-300} HUB_CONTRACT_RANDOM=1 HUB_CONTRACT_SERVICES=$(SERVICES) \
		$(BIN)/pytest tests/contracts/test_openapi.py
	HUB_DISCLOSURE_SEEDS=$${HUB_DISCLOSURE_SEEDS:-40} $(BIN)/pytest services/reporting/tests/test_publication.py -k any_combination

infra-up: install
	deploy/kafka.sh start
	deploy/postgres.sh start
	$(BIN)/hub topics create

infra-down:
	deploy/kafka.sh stop
	deploy/postgres.sh stop

chaos: install
	$(BIN)/python -m tests.reliability.chaos

# Benchmarks print each figure beside a baseline measured in the same run; results in bench/results/.
bench: install
	deploy/prerequisites.sh bench
	$(BIN)/python -m bench.hot_path
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/reporting_projections.py
	$(BIN)/python -m bench.national_month
	$(BIN)/python -m bench.summary

bench-quick: install
	deploy/prerequisites.sh bench
	$(BIN)/python -m bench.hot_path --comments 2000
	$(BIN)/python bench/intake.py --seconds 5 --samples 50 --batches 5 --csv-rows 1000
	$(BIN)/python bench/reporting_projections.py --events 60000 --live-events 20000 --relay-rows 20000 --fft-returns 10000 --runs 5
	$(BIN)/python -m bench.national_month --responses 50000
	$(BIN)/python -m bench.summary

clean:
	rm -rf .state
