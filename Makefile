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

# Executed notebooks that slides and site are built from (make run writes build/executed).
EXECUTED ?= build/executed-smoke
SMOKE_STAMP := build/executed-smoke/.stamp

.PHONY: help venv run test test-notebooks-student test-units unit nbval lab notebooks benchmarks gpu-check figures slides site clean

help:
	@echo "make run        execute every notebook (COURSE_PROFILE=$${COURSE_PROFILE:-laptop}) into build/executed/"
	@echo "make test       unit tests + nbval over every notebook, smoke profile"
	@echo "make lab        open JupyterLab (repository as root) on notebooks/"
	@echo "make notebooks  regenerate the paired notebooks/*.ipynb from the .py sources"
	@echo "make student    the student edition (solutions removed, outputs cleared) into build/student/"
	@echo "make benchmarks run the speed and memory benchmarks (minutes)"
	@echo "make gpu-check  every family, score and sampler on the GPU, timed against the CPU (ARGS=...)"
	@echo "make figures    redraw the lecture's four diagrams (and, after make run, the GIFs) into figures/"
	@echo "make slides     reveal.js slides per notebook into build/slides/ (EXECUTED=$(EXECUTED))"
	@echo "make site       static course site into build/site/ (python -m http.server -d build/site)"

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
	: > build/executed/times.txt
	for nb in build/run/*.ipynb; do \
	  echo "== $$nb (profile $${COURSE_PROFILE:-laptop})"; start=$$(date +%s); \
	  $(BIN)/jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=-1 \
	    --output-dir build/executed "$$nb" || exit 1; \
	  echo "$$(basename $$nb .ipynb) $$(( $$(date +%s) - start )) s" | tee -a build/executed/times.txt; \
	done
	@echo "executed notebooks are in build/executed/; wall times in build/executed/times.txt"

# make test: ruff, then two streams side by side on two cores (make -j2; each stream's output is
# printed when it ends): (1) every notebook under nbval in the smoke profile, every exercise check
# printing "correct" (CI only: a mismatch raises); its executions are kept for slides and site;
# then the student edition (solutions removed), whose checks must print "not yet"; (2) the unit
# tests, then the GPU path on the CPU and the figures. Each stream has one torch thread, and each
# nbval run and the unit tests have their own artifacts folder. Last the slides and the site, and
# the browser test over both.
test: $(STAMP)
	$(BIN)/ruff check .
	@echo "running two streams side by side (notebooks + student edition | unit tests + GPU path + figures); each prints when it ends"
	$(MAKE) --no-print-directory -j2 --output-sync=target test-notebooks-student test-units
	@touch $(SMOKE_STAMP)  # nbval's executions are the smoke notebooks: slides and site reuse them
	$(MAKE) --no-print-directory slides site EXECUTED=build/executed-smoke
	COURSE_SITE=build/site $(BIN)/python -m pytest -p no:cacheprovider -q tests/test_site.py \
	  -k built_course_site

test-notebooks-student: $(STAMP)
	rm -rf build/nbval build/executed-smoke && mkdir -p build/nbval
	cp $(NOTEBOOKS) build/nbval/
	cd build/nbval && ../../$(BIN)/jupytext --quiet --to ipynb --set-kernel python3 *.py
	COURSE_PROFILE=smoke COURSE_EXERCISES_EXPECT=correct OMP_NUM_THREADS=1 \
	  $(BIN)/python -m pytest -p no:cacheprovider -p tests.nbval_capture build/nbval/*.ipynb \
	  --nbval-lax --nbval-current-env --nbval-cell-timeout=900 \
	  --nbval-executed-dir=build/executed-smoke
	$(MAKE) --no-print-directory student
	COURSE_PROFILE=smoke COURSE_EXERCISES_EXPECT="not yet" OMP_NUM_THREADS=1 \
	  COURSE_ARTIFACTS=$(CURDIR)/build/artifacts-student $(BIN)/python -m pytest \
	  -p no:cacheprovider build/student/*.ipynb --nbval-lax --nbval-current-env \
	  --nbval-cell-timeout=900

test-units: $(STAMP)
	COURSE_PROFILE=smoke OMP_NUM_THREADS=1 COURSE_ARTIFACTS=$(CURDIR)/build/artifacts-unit \
	  $(BIN)/python -m pytest -p no:cacheprovider tests
	$(BIN)/python scripts/gpu_check.py --device cpu --smallest --threads 1
	rm -rf build/figures && $(BIN)/python -m course_utils figures --out build/figures

unit: $(STAMP)
	COURSE_PROFILE=smoke $(BIN)/python -m pytest -p no:cacheprovider tests

# The repository is the server's root (the notebooks' ../figures/ links resolve), the file
# browser opens on notebooks/, and .py files open as notebooks (genlab lab, course_utils/publish/lab.py).
lab: $(STAMP)
	$(BIN)/python -m course_utils lab

notebooks: $(STAMP)
	$(BIN)/jupytext --quiet --to ipynb --set-kernel python3 $(NOTEBOOKS)

benchmarks: $(STAMP)
	$(BIN)/python benchmarks/gan_throughput.py
	$(BIN)/python benchmarks/mmd.py
	$(BIN)/python benchmarks/diffusion.py
	$(BIN)/python benchmarks/flows.py

# The GPU path (scripts/gpu_check.py): every family, the scores and the samplers on the GPU,
# then timed against the CPU; the tables go to benchmarks/results/gpu_check.md. Extra arguments
# through ARGS, e.g. make gpu-check ARGS="--device cuda --data-root ../data". It needs only torch
# and numpy: the venv's python where there is one, else $(PYTHON) (a lent GPU has no registry).
gpu-check:
	$(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON)) scripts/gpu_check.py $(ARGS)

# The four diagrams; after `make run`, also the README's GIFs from the laptop checkpoints.
figures: $(STAMP)
	$(BIN)/python -m course_utils figures --out figures \
	  $(if $(wildcard build/artifacts/laptop/mlp-gan.pt build/artifacts/laptop/ddpm.pt),--gifs-from build/artifacts/laptop)

# The smoke-executed notebooks (seconds each) that slides and site are built from. make test
# writes them from its nbval run (tests/nbval_capture.py) and touches the stamp; make slides or
# make site alone execute them here when there are none or the sources changed.
$(SMOKE_STAMP): $(STAMP) $(NOTEBOOKS)
	rm -rf build/smoke-src build/executed-smoke && mkdir -p build/smoke-src build/executed-smoke
	cp $(NOTEBOOKS) build/smoke-src/
	cd build/smoke-src && ../../$(BIN)/jupytext --quiet --to ipynb --set-kernel python3 *.py
	for nb in build/smoke-src/*.ipynb; do \
	  COURSE_PROFILE=smoke $(BIN)/jupyter nbconvert --to notebook --execute \
	    --ExecutePreprocessor.timeout=900 --output-dir build/executed-smoke "$$nb" || exit 1; \
	done
	@touch $@

slides: $(STAMP) $(if $(filter build/executed-smoke,$(EXECUTED)),$(SMOKE_STAMP))
	$(BIN)/python -m course_utils slides --executed $(EXECUTED) --source notebooks --out build/slides

site: $(STAMP) $(if $(filter build/executed-smoke,$(EXECUTED)),$(SMOKE_STAMP))
	$(BIN)/python -m course_utils site --executed $(EXECUTED) --source notebooks --out build/site
	@echo "view: $(BIN)/python -m http.server -d build/site 8000, then open http://localhost:8000"

# The student edition: every notebook without its solution cells, outputs cleared, as .ipynb
# (course_utils.publish.editions.write_student_edition); the .py sources keep the solutions.
.PHONY: student
student: $(STAMP)
	rm -rf build/student
	$(BIN)/python -m course_utils student --out build/student

clean:
	rm -rf build
