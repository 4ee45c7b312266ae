# The two commands a new user needs: `make run` and `make test`.
# Both build a local virtual environment (.venv) from pyproject.toml first; each extra is
# installed once, the first time a target needs it (one stamp file per extra):
#   make run, sim: the desk alone (textual, websockets, msgspec, ...)
#   make test, bench, screenshots: add [test] (pytest, hypothesis, the brokers' SDKs); make lint: adds [dev]
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test sim bench screenshots lint clean

# Debian and Ubuntu ship venv separately: say which package, not pip's traceback.
$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "make: '$(PYTHON) -m venv' failed; on Debian/Ubuntu: sudo apt install python3-venv" >&2; \
	  exit 1; }
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-desk: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-%: pyproject.toml $(VENV)/.installed-desk
	$(BIN)/pip install --quiet -e '.[$*]'
	touch $@

run: $(VENV)/.installed-desk
	$(BIN)/marketdesk

# the brokers' SDKs, each on its own path (two of them share a folder name): tools/sdk_envs.py
test: $(VENV)/.installed-test
	$(BIN)/python tools/sdk_envs.py
	$(BIN)/python -m pytest -q

sim: $(VENV)/.installed-desk
	$(BIN)/marketdesk sim

bench: $(VENV)/.installed-test
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/socket_recv.py
	$(BIN)/python bench/rules.py
	$(BIN)/python bench/dialects.py
	$(BIN)/python bench/desk.py
	$(BIN)/python bench/paint.py
	$(BIN)/python bench/record.py --live
	$(BIN)/python bench/relay.py
	$(BIN)/python bench/nats_bus.py

screenshots: $(VENV)/.installed-test
	$(BIN)/python tools/screenshots.py
	$(BIN)/python tools/browser_screenshot.py

lint: $(VENV)/.installed-dev $(VENV)/.installed-test
	$(BIN)/ruff check tui tests bench tools
	$(BIN)/ruff format --check tui tests bench tools
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build *.egg-info
