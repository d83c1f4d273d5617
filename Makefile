# Two commands on a fresh clone: `make demo` and `make test`.
# Both create (or reuse) .venv, install the package and build the Cython kernels.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
KERNELS := $(wildcard cs231n_pool/_*.pyx)

.PHONY: demo test build bench lab clean

$(STAMP): pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "setuptools>=64" "Cython>=3" "numpy>=2" wheel
	$(PIP) install --quiet --no-build-isolation -e ".[test]"
	touch $(STAMP)

# Rebuild the extension in place whenever a .pyx changes (flock: parallel builds share build/).
$(VENV)/.built: $(STAMP) $(KERNELS) setup.py
	flock .build.lock $(PY) setup.py --quiet build_ext --inplace
	touch $(VENV)/.built

build: $(VENV)/.built

demo: build
	$(VENV)/bin/cs231n-pool demo

test: build
	CS231N_POOL_REQUIRE_EXTENSION=1 $(PY) -m pytest -q

bench: build
	MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 $(VENV)/bin/cs231n-pool bench --threads 1,2 --json bench.json --plot bench.png

# Instructor preview: JupyterLab on a fresh student bundle with the solution filled in.
lab: build
	$(PIP) install --quiet --no-build-isolation -e ".[notebooks]"
	rm -rf out/lab && $(VENV)/bin/cs231n-pool release assignments/pooling --out out/lab
	cp assignments/pooling/pooling_layers.py out/lab/pooling_layers.py
	cp notebooks/*.ipynb out/lab/  # the notebooks' own exercises, solved
	cd out/lab && ../../$(VENV)/bin/python -m jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf build $(VENV) cs231n_pool/*.so cs231n_pool/_*.c *.egg-info .build.lock
