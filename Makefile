# PlugPool: the small verbs. `make run` to try it, `make test` before you push.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
export FLASK_APP := wsgi:app

.PHONY: help venv system-deps run cluster test pytest lint fmt contract migrate-check bench bench-search bench-gateway bench-booking bench-ocpi bench-emsp bench-hub bench-oicp bench-cluster clean

help:
	@echo "make run     start PlugPool with demo data (embedded SQLite + SpatiaLite by default)"
	@echo "make cluster  two web, two gateway nodes, two Celery workers, beat, behind nginx (REPLICA=1: and a read replica)"
	@echo "make test    lint + the whole test suite on a throwaway PostgreSQL + PostGIS database"
	@echo "make lint    ruff check and format check;  make fmt  reformat"
	@echo "make bench   run the benchmarks (see bench/)"
	@echo "make contract  regenerate mobile-api/openapi.json after an additive API change"

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	@bash scripts/ensure-system-deps.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

pytest: venv
	@PLUGPOOL_BROWSER_DEPS=1 bash scripts/ensure-system-deps.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint pytest

run: venv system-deps
	$(BIN)/python -m scripts.run

# Several nodes behind nginx on one PostgreSQL (DATABASE_URL) and Redis: see README.
cluster: venv
	@PLUGPOOL_CLUSTER_DEPS=1 bash scripts/ensure-system-deps.sh
	$(if $(REPLICA),CLUSTER_REPLICA=$(REPLICA) )$(BIN)/python -m scripts.cluster

contract: venv
	PLUGPOOL_ENV=testing $(BIN)/flask openapi write mobile-api/openapi.json

bench: bench-search bench-gateway bench-booking bench-ocpi bench-emsp bench-hub bench-oicp

bench-search: venv
	@PLUGPOOL_CLUSTER_DEPS=1 bash scripts/ensure-system-deps.sh
	$(BIN)/python -m bench.search --chargers 1000000

bench-gateway: venv
	$(BIN)/python -m bench.gateway --chargers 10000

bench-booking: venv system-deps
	$(BIN)/python -m bench.booking_race

bench-ocpi: venv system-deps
	$(BIN)/python -m bench.ocpi_pull --locations 100000

bench-oicp: venv system-deps
	$(BIN)/python -m bench.oicp --evses 100000

bench-emsp: venv system-deps
	$(BIN)/python -m bench.emsp_sync --locations 100000

bench-hub: venv system-deps
	$(BIN)/python -m bench.hub --parties 50

# The cluster's processes behind nginx under load, then one gateway node killed (see README).
bench-cluster: venv
	@PLUGPOOL_CLUSTER_DEPS=1 bash scripts/ensure-system-deps.sh
	$(BIN)/python -m bench.cluster --chargers 5000

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
