"""The compiled kernels are what runs; without them the package falls back to numpy and says so once."""

import importlib.machinery
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import cs231n_pool
from cs231n_pool import _backend

REPO = Path(__file__).resolve().parents[1]

# Runs in a fresh interpreter with one extension's import blocked (argv[1]): a None
# entry in sys.modules makes importing it raise ImportError.
FALLBACK_SCRIPT = textwrap.dedent("""
    import json, sys, warnings
    import numpy as np
    sys.modules["cs231n_pool." + sys.argv[1]] = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import cs231n_pool
        import cs231n_pool._backend
        from cs231n_pool.im2col import col2im_indices, column_argmax, im2col_indices
        from cs231n_pool import direct, functional
    x = np.arange(24, dtype=np.float64).reshape(2, 2, 2, 3)
    cols = im2col_indices(x, 2, 2)
    print(json.dumps({
        "have_extension": cs231n_pool.HAVE_EXTENSION,
        "backend": cs231n_pool._backend.im2col_kernels.__name__,
        "runtime_warnings": [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)],
        "first_row": cols[0].tolist(),
        "folded": col2im_indices(np.ones_like(cols), x.shape, 2, 2)[0, 0].tolist(),
        "argmax_rows": column_argmax(np.array([[1.0, 2.0], [1.0, 3.0]]))[1].tolist(),
        "direct_available": direct.AVAILABLE,
        "default_method": cs231n_pool._backend.check_method(None),
        "max_pool": functional.max_pool2d(x, 2)[0, 0].tolist(),
    }))
""")


def _run_without_extension(require, blocked="_im2col"):
    env = {k: v for k, v in os.environ.items() if k != "CS231N_POOL_REQUIRE_EXTENSION"}
    if require:
        env["CS231N_POOL_REQUIRE_EXTENSION"] = "1"
    return subprocess.run(
        [sys.executable, "-c", FALLBACK_SCRIPT, blocked], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_compiled_extension_is_in_use():
    # `make test` also sets CS231N_POOL_REQUIRE_EXTENSION=1, so a missing build fails at import.
    assert cs231n_pool.HAVE_EXTENSION is True
    assert cs231n_pool.BACKEND == "cython"
    kernels = _backend.im2col_kernels
    assert kernels.__name__ == "cs231n_pool._im2col"
    assert kernels.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def test_fallback_warns_once_and_still_computes():
    result = _run_without_extension(require=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["have_extension"] is False
    assert report["backend"] == "cs231n_pool.im2col_numpy"
    assert len(report["runtime_warnings"]) == 1
    assert "numpy" in report["runtime_warnings"][0]
    assert report["first_row"] == [0.0, 12.0, 1.0, 13.0]
    assert report["folded"] == [[1.0, 2.0, 1.0], [1.0, 2.0, 1.0]]
    assert report["argmax_rows"] == [0, 1]
    assert report["max_pool"] == [[4.0]]  # plane [[0, 1, 2], [3, 4, 5]]


def test_without_the_direct_kernels_the_default_path_is_im2col():
    result = _run_without_extension(require=False, blocked="_direct")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["have_extension"] is False
    assert report["backend"] == "cs231n_pool._im2col"
    assert report["direct_available"] is False
    assert report["default_method"] == "im2col"
    assert report["max_pool"] == [[4.0]]  # plane [[0, 1, 2], [3, 4, 5]]
    assert len(report["runtime_warnings"]) == 1 and "method='direct' is unavailable" in report["runtime_warnings"][0]


@pytest.mark.parametrize("blocked", ["_im2col", "_direct"])
def test_required_extension_missing_is_an_import_error(blocked):
    result = _run_without_extension(require=True, blocked=blocked)
    assert result.returncode != 0
    assert "ImportError" in result.stderr and "CS231N_POOL_REQUIRE_EXTENSION=1" in result.stderr
    assert blocked in result.stderr


def test_use_kernels_switches_the_im2col_path_for_the_block_only(monkeypatch):
    # the benchmark's im2col-numpy row runs through this seam, not by patching a module
    from cs231n_pool import functional as fn
    from cs231n_pool import im2col_numpy

    calls = []
    real = im2col_numpy.im2col
    monkeypatch.setattr(im2col_numpy, "im2col", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
    compiled = fn.max_pool2d(x, 3, 2, 1, return_indices=True, method="im2col")
    assert calls == []
    with _backend.use_kernels("numpy") as kernels:
        assert kernels is im2col_numpy and _backend.kernels() is im2col_numpy
        on_numpy = fn.max_pool2d(x, 3, 2, 1, return_indices=True, method="im2col")
    assert calls == [1]
    assert _backend.kernels() is _backend.im2col_kernels
    for got, want in zip(on_numpy, compiled, strict=True):
        np.testing.assert_array_equal(got, want)
    with (
        pytest.raises(ValueError, match=r"kernels must be one of \('numpy', 'cython'\), got kernels='fortran'"),
        _backend.use_kernels("fortran"),
    ):
        pass
