# Lectern: `make run` serves on the embedded defaults; `make test` runs the whole suite.
PYTHON ?= python3.12
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run worker test check lint typecheck fmt migrate superuser bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

migrate: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --no-input

## Serve on http://$(HOST):$(PORT)/ with a worker: the Procfile's web and worker from one
## command (config/launch.py); one Ctrl-C stops both. A taken port fails at once: PORT=8001.
run: $(VENV)/.runtime
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python -m config.launch --setup

## A worker alone (both queues), for when `make run` is not the one serving.
worker: migrate
	$(BIN)/celery -A config worker -Q ai_processing,repo_analysis --loglevel INFO

## The whole test suite (SQLite, in-memory layer, unless DATABASE_URL / REDIS_URL are set).
test: $(VENV)/.dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy .

check: lint typecheck test

fmt: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

superuser: migrate
	$(BIN)/python manage.py createsuperuser

bench: $(VENV)/.dev
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
