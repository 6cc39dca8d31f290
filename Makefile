# genlab: `make run` executes every notebook (laptop profile by default), `make test` runs the
# unit tests and nbval over every notebook in the smoke profile. Both create .venv on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.genlab-installed
NOTEBOOKS := $(sort $(wildcard notebooks/*.py))

# One data folder and one artifacts folder for notebooks, tests and the CLI, whatever the
# working directory of a Jupyter kernel.
export COURSE_DATA ?= $(CURDIR)/data
export COURSE_ARTIFACTS ?= $(CURDIR)/build/artifacts

.PHONY: help venv run test unit nbval lab notebooks benchmarks clean

help:
	@echo "make run        execute every notebook (COURSE_PROFILE=$${COURSE_PROFILE:-laptop}) into build/executed/"
	@echo "make test       unit tests + nbval over every notebook, smoke profile"
	@echo "make lab        open JupyterLab on notebooks/"
	@echo "make notebooks  regenerate the paired notebooks/*.ipynb from the .py sources"
	@echo "make benchmarks run the speed and memory benchmarks (minutes)"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

venv: $(STAMP)

run: $(STAMP)
	rm -rf build/run && mkdir -p build/run build/executed
	cp $(NOTEBOOKS) build/run/
	cd build/run && ../../$(BIN)/jupytext --quiet --to ipynb --set-kernel python3 *.py
	for nb in build/run/*.ipynb; do \
	  echo "== $$nb (profile $${COURSE_PROFILE:-laptop})"; \
	  $(BIN)/jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=-1 \
	    --output-dir build/executed "$$nb" || exit 1; \
	done
	@echo "executed notebooks are in build/executed/"

test: $(STAMP)
	rm -rf build/nbval && mkdir -p build/nbval
	cp $(NOTEBOOKS) build/nbval/
	cd build/nbval && ../../$(BIN)/jupytext --quiet --to ipynb --set-kernel python3 *.py
	COURSE_PROFILE=smoke $(BIN)/python -m pytest -p no:cacheprovider \
	  tests build/nbval/*.ipynb --nbval-lax --nbval-current-env --nbval-cell-timeout=900

unit: $(STAMP)
	COURSE_PROFILE=smoke $(BIN)/python -m pytest -p no:cacheprovider tests

lab: $(STAMP)
	$(BIN)/jupytext-config set-default-viewer python >/dev/null 2>&1 || true
	$(BIN)/jupyter lab notebooks

notebooks: $(STAMP)
	$(BIN)/jupytext --quiet --to ipynb --set-kernel python3 $(NOTEBOOKS)

benchmarks: $(STAMP)
	$(BIN)/python benchmarks/gan_throughput.py

clean:
	rm -rf build
