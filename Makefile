# Course tasks. Quick start: `make demo` (the instructor flow on a sample class)
# and `make test` (the test suite). Both set everything up on first use.
SHELL := /bin/bash
# Any Python 3.11 to 3.13 with venv; scripts/find_python.sh picks one (or PYTHON=...).
export PYTHON
VENV := .venv
BIN := $(VENV)/bin
# jax and torch are in the default set for the other-backend tests (Keras on
# JAX and on PyTorch, CPU). A lean student install: EXTRAS=cpu,course.
EXTRAS ?= cpu,jax,torch,course,dev
comma := ,
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
export TF_CPP_MIN_LOG_LEVEL := 3
# The PATH before .venv/bin joins it: the interpreter that creates .venv is never its own.
SYSTEM_PATH := $(PATH)
# nbgrader and jupyter find their helpers (alembic, kernels) on PATH.
export PATH := $(CURDIR)/$(BIN):$(PATH)
export PYTHONWARNINGS := ignore

.PHONY: setup system-packages data assignment check-generated lint test test-fast demo pretrained bench lab formgrader hub hub-stop clean

setup: system-packages $(STAMP) data

# bubblewrap, chromium and JupyterHub's proxy: installed as root with apt, else the exact command is printed.
system-packages:
	@scripts/system_packages.sh

$(STAMP): pyproject.toml | system-packages
	@python=$$(PATH='$(SYSTEM_PATH)' scripts/find_python.sh) && echo "== Creating $(VENV) with $$python and installing pinned dependencies ($(EXTRAS))" && \
	"$$python" -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[$(EXTRAS)]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (resnet-course)" >/dev/null
	$(BIN)/python -m resnet_course.sandbox install-kernel >/dev/null
	touch $@

data: $(STAMP)
	@echo "== Preparing SIGNS data in data/"
	$(BIN)/python -m resnet_course.instructor.setup_data $(if $(FORCE),--force)

# Regenerate the student notebooks in assignments/ from solutions/.
assignment: setup
	$(BIN)/python -m resnet_course.instructor.release

# Fail when the committed student version differs from its source.
check-generated: setup
	$(BIN)/python -m resnet_course.instructor.release --check

# House style (docs/STYLE.md); `make test` runs it first, so CI does too.
lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# The suite runs on TEST_WORKERS pytest-xdist workers (TEST_WORKERS=0: one process). Tests that
# share a minutes-long fixture or the hub's Linux accounts stay on one worker (tests/fixtures/parallel_groups.py).
TEST_WORKERS ?= 2
PARALLEL := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder)

test: setup lint
	$(BIN)/python -m pytest $(PARALLEL) $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not browser" $(PARALLEL) $(PYTEST_ARGS)

demo: setup
	$(BIN)/python -m resnet_course.instructor.demo

pretrained: setup
	$(BIN)/python -m resnet_course.pretrained $(ARGS)

bench: setup
	$(BIN)/python benchmarks/bench_accuracy.py
	$(BIN)/python benchmarks/bench_cpu_throughput.py
	$(BIN)/python benchmarks/bench_conv_gradients.py

# JupyterLab for students (no formgrader) and for instructors (with it).
# Pass extra options through LAB_ARGS, e.g. LAB_ARGS="--port 8890 --allow-root".
lab: setup
	$(BIN)/python -m resnet_course.instructor.lab student $(LAB_ARGS)

formgrader: setup
	$(BIN)/python -m resnet_course.instructor.lab instructor $(LAB_ARGS)

# The course on a JupyterHub on loopback: demo instructor and students as real Linux
# users, the nbgrader exchange (src/resnet_course/hub). Needs root; Ctrl-C or
# `make hub-stop` stops it and everything it started. HUB_ARGS=--skip-training-test
# leaves the training test out of the course, so grading takes seconds.
hub: setup
	@if [ "$$(id -u)" -ne 0 ]; then echo "make hub needs root (it creates the demo users and starts servers as them): sudo make hub" >&2; exit 1; fi
	$(BIN)/python -m resnet_course.hub start $(HUB_ARGS)

hub-stop:
	@$(BIN)/python -m resnet_course.hub stop

clean:
	rm -rf autograder/submitted autograder/autograded autograder/feedback autograder/gradebook.db autograder/.runtime autograder/demo
