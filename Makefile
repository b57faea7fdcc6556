# Two commands from a fresh machine: `make demo` and `make test`. Each sets up what is missing
# (Debian packages, .venv, the project and its dependencies, the embedded model) and is fast
# when run again.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.tunesmith-installed

.PHONY: setup system demo test lint bench mutation clean

setup: system $(STAMP)

system:
	@scripts/setup-system.sh

$(STAMP): pyproject.toml scripts/setup-python.sh
	@VENV=$(VENV) PYTHON=$(PYTHON) scripts/setup-python.sh
	@touch $@

demo: setup
	@mkdir -p demo
	$(VENV)/bin/tunesmith compose --notes "A B C# F# G" --meter 6/8 --bars 16 --tempo 112 \
		--instrument flute --style "folk jig" --title "Demo Jig" --seed 7 \
		-o demo/jig.mid --audio demo/jig.wav --text demo/jig.txt

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

bench: setup
	$(PY) bench/run.py

# Mutation testing (bench/mutation.py): about an hour on 2 cores, so not part of `make test`
mutation: setup
	@$(PY) -c 'import mutmut' 2>/dev/null || $(PY) -m pip install -q -e '.[mutation]'
	$(PY) bench/mutation.py

clean:
	rm -rf $(VENV) demo build dist mutants .pytest_cache .mypy_cache .ruff_cache .hypothesis
