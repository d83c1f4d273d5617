"""The library's docstrings: numpydoc sections on the public API, and every Examples section runs.

`pytest --doctest-modules cs231n_pool/<module>.py` runs the same examples; this test runs them in
the suite (`make test`), so a changed output fails CI.
"""

import doctest
import importlib
import inspect

import pytest

import cs231n_pool
from cs231n_pool import layers

# the modules with examples: the ops, layers, kernels' wrappers, naive loops and gradient checks
EXAMPLE_MODULES = ["functional", "layers", "ops", "geometry", "im2col", "gradient_check", "naive"]


@pytest.mark.parametrize("name", EXAMPLE_MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"cs231n_pool.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0, f"cs231n_pool.{name} has no examples"
    assert result.failed == 0


PUBLIC = [name for name in cs231n_pool.__all__ if callable(getattr(cs231n_pool, name))]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_callables_have_numpydoc_sections(name):
    obj = getattr(cs231n_pool, name)
    doc = inspect.getdoc(obj) or ""
    assert "Examples\n--------\n>>> " in doc, f"{name} has no Examples section"
    if name not in {"GlobalMaxpool", "GlobalAvgpool", "PoolGeometry"}:  # no arguments / a record
        assert "Parameters\n----------\n" in doc, f"{name} has no Parameters section"


LAYER_METHODS = [
    (cls.__name__, method)
    for cls in (layers.Maxpool, layers.Avgpool, layers.MaxUnpool, layers.AdaptiveMaxpool, layers.AdaptiveAvgpool)
    for method in ("forward", "backward")
]


@pytest.mark.parametrize("cls,method", LAYER_METHODS)
def test_layer_methods_have_numpydoc_sections(cls, method):
    doc = inspect.getdoc(getattr(getattr(layers, cls), method)) or ""
    assert "Parameters\n----------\n" in doc and "Returns\n-------\n" in doc, f"{cls}.{method}"
