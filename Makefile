# Everyday commands of the portal. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

BIN := .venv/bin

.PHONY: help install run test i18n bench lint clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "} {printf "  make %-8s %s\n", $$1, $$2}'

# --compile-bytecode: Python then never compiles the dependencies at start-up, even where
# PYTHONDONTWRITEBYTECODE is set; a sync with nothing to do stays well under a second.
install: ## Install uv when missing, then the locked dependencies into .venv
	@scripts/uv.sh sync --frozen --compile-bytecode

run: install ## Migrate, load the demo data into an empty database, serve on 127.0.0.1:$PORTAL_PORT (8000)
	$(BIN)/portal db upgrade
	$(BIN)/portal demo-data --if-empty
	exec $(BIN)/portal serve --host 127.0.0.1 --port "$${PORTAL_PORT:-8000}"

test: install ## Run every check suite (scripts/test-all.sh; `CI=true` makes a skipped suite fail)
	scripts/test-all.sh

i18n: install ## Extract the messages and update the catalogues in translations/
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k gettext -k ngettext:1,2 \
		-o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

bench: install ## Pages + search benchmarks (BENCH_SIZES, BENCH_DATABASES); writes bench/RESULTS.md
	scripts/install-wrk.sh
	$(BIN)/python -m bench

lint: install ## ruff check, ruff format --check and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean: ## Remove var/ (development database, secret key, mail, uploads) and caches
	rm -rf var .pytest_cache .mypy_cache .ruff_cache htmlcov .coverage .coverage.*
	find . -path ./.venv -prune -o -type d -name __pycache__ -exec rm -rf {} +
