# Two commands on a fresh clone: `make demo` and `make test`.
# Both create (or reuse) .venv, install the package and build the Cython kernels.
# `make demo` installs only the runtime and pytest; `make test` adds the test extras (torch among them).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
KERNELS := $(wildcard cs231n_pool/_*.pyx cs231n_pool/*.h)
# The build must produce the compiled kernels here; `pip install .` elsewhere may fall back to numpy.
export CS231N_POOL_REQUIRE_EXTENSION := 1

.PHONY: demo test lint build bench lab dist clean

$(VENV)/.base: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet "setuptools>=77" "Cython>=3" "numpy>=2" wheel
	touch $@

# Editable install for the entry point only; the kernels are built once, below.
$(VENV)/.demo: $(VENV)/.base setup.py
	CS231N_POOL_SKIP_BUILD=1 $(PIP) install --quiet --no-build-isolation -e ".[demo]"
	touch $@

$(VENV)/.test: $(VENV)/.demo
	CS231N_POOL_SKIP_BUILD=1 $(PIP) install --quiet --no-build-isolation -e ".[test]"
	touch $@

# Rebuild the extension in place whenever a kernel source changes (flock: parallel builds share build/).
$(VENV)/.built: $(VENV)/.base $(KERNELS) setup.py
	flock .build.lock $(PY) setup.py --quiet build_ext --inplace --parallel 2
	touch $@

build: $(VENV)/.demo $(VENV)/.built

demo: build
	$(VENV)/bin/cs231n-pool demo

# The gates CI keeps green: lint, format and types, then the whole suite.
lint: $(VENV)/.test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint build
	$(PY) -m pytest -q

bench: build
	MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 $(VENV)/bin/cs231n-pool bench --threads 1,2 --json bench.json --plot bench.png

# sdist and wheel into dist/, built in an isolated environment as pip would.
dist: $(VENV)/.base
	$(PIP) install --quiet build
	$(PY) -m build --outdir dist .

# Instructor preview: JupyterLab on a fresh student bundle with the solution filled in.
lab: build
	CS231N_POOL_SKIP_BUILD=1 $(PIP) install --quiet --no-build-isolation -e ".[notebooks]"
	rm -rf out/lab && $(VENV)/bin/cs231n-pool release assignments/pooling --out out/lab
	cp assignments/pooling/pooling_layers.py out/lab/pooling_layers.py
	cp notebooks/*.ipynb out/lab/  # the notebooks' own exercises, solved
	cd out/lab && ../../$(VENV)/bin/python -m jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf build dist $(VENV) cs231n_pool/*.so cs231n_pool/_*.c *.egg-info .build.lock
