"""Replay PyTorch results stored in tests/fixtures/*.npz (made by make_golden.py); no torch needed."""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import METHODS

from cs231n_pool import functional as fn
from cs231n_pool import layers

pytestmark = pytest.mark.usefixtures("single_thread_direct")

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.npz"))
TOL = {np.dtype(np.float32): dict(rtol=1e-6, atol=1e-6), np.dtype(np.float64): dict(rtol=1e-12, atol=1e-12)}


def load(path):
    with np.load(path, allow_pickle=False) as data:
        case = {key: data[key] for key in data.files}
    return str(case.pop("op")), json.loads(str(case.pop("config"))), case


def pair(value):
    return tuple(value) if isinstance(value, list) else value


def functional_run(op, config, case, method):
    """(out, indices or None, dx) through the functional API."""
    x, dout = case["x"], case["dout"]
    c = {k: pair(v) for k, v in config.items()}
    if op == "max_pool2d":
        out, idx = fn.max_pool2d(x, **c, return_indices=True, method=method)
        return out, idx, fn.max_pool2d_backward(dout, idx, x.shape, method=method)
    if op == "avg_pool2d":
        return fn.avg_pool2d(x, **c, method=method), None, fn.avg_pool2d_backward(dout, x.shape, **c, method=method)
    if op == "adaptive_max_pool2d":
        out, idx = fn.adaptive_max_pool2d(x, c["output_size"], return_indices=True)
        return out, idx, fn.adaptive_max_pool2d_backward(dout, idx, x.shape)
    if op == "adaptive_avg_pool2d":
        return (
            fn.adaptive_avg_pool2d(x, c["output_size"]),
            None,
            fn.adaptive_avg_pool2d_backward(dout, x.shape, c["output_size"]),
        )
    assert op == "max_unpool2d", op
    return fn.max_unpool2d(x, case["indices"], **c), None, fn.max_unpool2d_backward(dout, case["indices"])


def layer_run(op, config, case, method):
    """(out, indices or None, dx) through the matching layer."""
    x, dout = case["x"], case["dout"]
    c = {k: pair(v) for k, v in config.items()}
    if op == "max_unpool2d":
        layer = layers.MaxUnpool(c["kernel_size"], c["stride"], c["padding"])
        return layer.forward(x, case["indices"], c["output_size"]), None, layer.backward(dout)
    layer = {
        "max_pool2d": lambda: layers.Maxpool(c.pop("kernel_size"), **c, method=method),
        "avg_pool2d": lambda: layers.Avgpool(c.pop("kernel_size"), **c, method=method),
        "adaptive_max_pool2d": lambda: layers.AdaptiveMaxpool(c["output_size"]),
        "adaptive_avg_pool2d": lambda: layers.AdaptiveAvgpool(c["output_size"]),
    }[op]()
    out = layer.forward(x)
    return out, getattr(layer, "indices", None), layer.backward(dout)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("run", [functional_run, layer_run], ids=["functional", "layer"])
@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_golden(path, run, method):
    op, config, case = load(path)
    out, idx, dx = run(op, config, case, method)
    tol = TOL[case["x"].dtype]
    assert out.dtype == dx.dtype == case["x"].dtype
    np.testing.assert_allclose(out, case["out"], **tol)  # NaN == NaN here
    np.testing.assert_allclose(dx, case["dx"], **tol)
    if "indices" in case and op != "max_unpool2d":
        assert idx.dtype == np.int64
        np.testing.assert_array_equal(idx, case["indices"])


def test_fixtures_are_present():
    ops = {load(path)[0] for path in FIXTURES}
    assert ops == {"max_pool2d", "avg_pool2d", "adaptive_max_pool2d", "adaptive_avg_pool2d", "max_unpool2d"}
