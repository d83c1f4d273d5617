"""Gradient checks of every library layer (cs231n_pool.layers) with check_layer.

Every configuration of the `gradcheck` table runs in float64 and float32, plus the
"direct" kernels, ties (kinks with the first-max rule), and the seed tutorial's
wrong backwards side by side with the library's layers on the same input.
"""

import numpy as np
import pytest
from helpers import METHODS
from seed_layers import SeedAvgpool, SeedMaxpool

from cs231n_pool.gradcheck_table import CASES, INPUT_SHAPE, spaced_input
from cs231n_pool.gradient_check import DEFAULT_THRESHOLD, check_layer
from cs231n_pool.layers import (
    AdaptiveAvgpool,
    AdaptiveMaxpool,
    Avgpool,
    GlobalAvgpool,
    GlobalMaxpool,
    Maxpool,
    MaxUnpool,
)

CASE_IDS = [f"{case.layer}:{case.config}" for case in CASES]


def table_input(case, dtype, seed=0):
    shape = INPUT_SHAPE[1:] if case.unbatched else INPUT_SHAPE
    return spaced_input(shape, dtype, np.random.default_rng(seed))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_every_table_configuration_passes(case, dtype):
    layer, x, args = case.prepare(table_input(case, dtype))
    report = check_layer(layer, x, args=args, seed=1)
    assert report.passed, str(report)
    assert report.kinks == [] and report.checked == x.size
    # well inside the threshold: a correct layer is limited only by round-off
    assert report.max_rel_error < DEFAULT_THRESHOLD[np.dtype(dtype)] / 5


def test_the_table_covers_every_layer_class():
    import cs231n_pool.layers as layers

    public = {
        name
        for name, obj in vars(layers).items()
        if isinstance(obj, type) and not name.startswith("_") and obj.__module__ == layers.__name__
    }
    assert len(public) >= 7 and public <= {case.layer for case in CASES}


# METHODS (conftest): "direct" too when its extension is built or required.
MORE_CONFIGS = {
    "max-k3-s2-p1": lambda method: Maxpool(3, 2, 1, method=method),
    "max-dilated-ceil": lambda method: Maxpool((2, 3), (1, 2), (1, 1), dilation=(2, 1), ceil_mode=True, method=method),
    "avg-ceil-nopad": lambda method: Avgpool(3, 2, 1, ceil_mode=True, count_include_pad=False, method=method),
    "avg-negative-divisor": lambda method: Avgpool((3, 2), 1, (1, 0), divisor_override=-4, method=method),
    "avg-same": lambda method: Avgpool(3, 2, "same", method=method),
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("config", sorted(MORE_CONFIGS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_more_configurations_pass_on_every_kernel(config, method, dtype):
    x = spaced_input((2, 3, 6, 5), dtype, np.random.default_rng(2))
    report = check_layer(MORE_CONFIGS[config](method), x, seed=2)
    assert report.passed and report.kinks == [], str(report)


@pytest.mark.parametrize("layer", [AdaptiveMaxpool((None, 2)), AdaptiveAvgpool(5), AdaptiveMaxpool(1)], ids=repr)
def test_more_adaptive_configurations_pass(layer):
    report = check_layer(layer, spaced_input((3, 6, 5), np.float64, np.random.default_rng(6)))
    assert report.passed and report.kinks == [], str(report)


def test_library_layers_pass_where_the_seed_backwards_fail():
    x = spaced_input((2, 2, 6, 6), np.float64, np.random.default_rng(3))
    assert not check_layer(SeedMaxpool(2, 2, "seed"), x).passed
    assert check_layer(Maxpool(2, 2), x).passed
    assert not check_layer(SeedAvgpool(3, 1, 1, "seed"), x).passed
    assert check_layer(Avgpool(3, 1, 1), x).passed


def test_a_tie_in_maxpool_is_a_kink_and_the_first_max_gets_the_gradient():
    x = spaced_input((1, 1, 4, 4), np.float64, np.random.default_rng(4))
    top = x[0, 0, 2:, 2:].max() + 1.0
    x[0, 0, 2, 3] = x[0, 0, 3, 2] = top  # tie inside the last 2x2 window
    layer = Maxpool(2)
    report = check_layer(layer, x, dout=np.ones((1, 1, 2, 2)))
    assert report.passed, str(report)
    assert sorted(report.kinks) == [(0, 0, 2, 3), (0, 0, 3, 2)]
    dx = layer.backward(np.ones((1, 1, 2, 2)))  # the layer is back on the original x
    assert dx[0, 0, 2, 3] == 1.0 and dx[0, 0, 3, 2] == 0.0


def test_global_max_of_a_constant_plane_is_all_kinks():
    report = check_layer(GlobalMaxpool(), np.full((1, 1, 3, 3), 2.0))
    assert report.checked == 0 and len(report.kinks) == 9 and not report.passed


def test_unpool_with_overlapping_windows_is_caught():
    # Overlapping max windows can pick one cell twice; unpooling then writes it twice,
    # so x's two entries cannot both reach the output: the gather backward is not the gradient.
    x = np.array([[[[0.0, 1.0, 0.0], [1.0, 9.0, 2.0], [0.0, 3.0, 0.0]]]])
    pool = Maxpool(2, 1)
    pooled = pool.forward(x)
    assert (pool.indices == 4).all()
    report = check_layer(MaxUnpool(2, 1), pooled, args=(pool.indices,))
    assert not report.passed


def test_global_avgpool_gradient_is_one_over_the_plane_size():
    x = spaced_input((1, 2, 3, 4), np.float64, np.random.default_rng(5))
    report = check_layer(GlobalAvgpool(), x, dout=np.ones((1, 2, 1, 1)))
    assert report.passed
    assert report.analytic == pytest.approx(1 / 12) and report.numeric == pytest.approx(1 / 12)
