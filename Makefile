# ppaflow: every target creates .venv and installs from this repository's
# own files (pyproject.toml, pinned by constraints.txt) first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# Tests use these when they answer (CI sets them; under CI=true they must answer).
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
TEST_REDIS_URL    ?= redis://127.0.0.1:6379/15
export TEST_DATABASE_URL TEST_REDIS_URL

# Where `make run` serves: `make run PORT=5050`, `make run HOST=0.0.0.0`.
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test demo bench load screenshots report-images rules-check clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit("ppaflow needs Python >= 3.11") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@$(BIN)/python -c 'import weasyprint' 2>/dev/null || echo "make: the PDF reports need Pango and HarfBuzz" \
	  "(Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libfontconfig1)" >&2
	touch $(STAMP)

## run: the service on $(HOST):$(PORT) (SQLite under instance/, jobs inline), with the examples loaded and
## their tokens and passwords printed (the same ones on every run)
run: install
	$(BIN)/ppaflow init-db
	$(BIN)/ppaflow seed
	$(BIN)/ppaflow serve --host $(HOST) --port $(PORT)

## test: the whole suite on SQLite and, when reachable, PostgreSQL and Redis
test: install
	$(BIN)/pytest

## demo: the examples through the workflow on a fresh temporary database
demo: install
	$(BIN)/ppaflow demo

## bench: benchmarks, each figure beside a baseline measured in the same run
bench: install
	$(BIN)/python -m tests.bench

## load: gunicorn on PostgreSQL under 50 clients for 60 s; throughput, latency, errors, consistency
load: install
	$(BIN)/python -m tests.bench.load

## screenshots: a PNG of every page of the web app at 1440 and 390 px wide, in out/screenshots/ (needs chromium)
screenshots: install
	$(BIN)/python -m tests.browser.screenshots out/screenshots

## report-images: the first page of every report as printed, as PNG, in docs/reports/
report-images: install
	$(BIN)/python -m tests.report_images docs/reports

rules-check: install
	$(BIN)/ppaflow rules check

clean:
	rm -rf $(VENV) instance out .pytest_cache .hypothesis
