# Two entry points for a fresh machine: `make all` (the whole Weasel workflow on the
# embedded defaults) and `make test` (lint + tests). Both create .venv on first use.
VENV ?= .venv
PYTHON := $(VENV)/bin/python

.PHONY: all test install

all: install
	$(VENV)/bin/weasel run all

test: install
	$(PYTHON) -m ruff check scripts tests
	$(PYTHON) -m pytest tests

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet torch==2.13.0
	$(PYTHON) -m pip install --quiet -r requirements.txt
	touch $@
