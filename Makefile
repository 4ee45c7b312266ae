# The two commands a new user needs: `make run` and `make test`.
# Both build a local virtual environment (.venv) from pyproject.toml first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test sim bench screenshots lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/marketdesk

test: $(STAMP)
	$(BIN)/python -m pytest -q

sim: $(STAMP)
	$(BIN)/marketdesk sim

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/socket.py
	$(BIN)/python bench/rules.py
	$(BIN)/python bench/desk.py
	$(BIN)/python bench/record.py --live

screenshots: $(STAMP)
	$(BIN)/python tools/screenshots.py

lint: $(STAMP)
	$(BIN)/ruff check tui tests bench tools
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build *.egg-info
