"""Tests of cs231n_pool.gradient_check: CS231n's helpers and check_layer.

The "seed" layers (tests/seed_layers.py) carry two classic wrong backward passes of numpy
pooling tutorials: a max-pool backward that reinterprets
the per-window gradient buffer with as_strided instead of routing each window's
gradient to its argmax, and an average-pool backward that divides by the padded
input area instead of the window area. check_layer must fail both loudly, while
the same forwards with correct backwards pass.
"""

import re

import numpy as np
import pytest
from seed_layers import NaiveAvgpool, NaiveMaxpool, SeedAvgpool, SeedMaxpool

from cs231n_pool.gradient_check import (
    DEFAULT_STEP,
    DEFAULT_THRESHOLD,
    GradCheckReport,
    GradientCheckError,
    check_layer,
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)


def spaced_input(shape, dtype=np.float64, spacing=0.1, seed=0):
    """A shuffled arange: every value differs from every other by at least ``spacing`` (> 2h)."""
    values = np.random.default_rng(seed).permutation(int(np.prod(shape))) * spacing
    return (values - values.mean()).reshape(shape).astype(dtype)


class Elementwise:
    """A smooth layer, out = f(x), for checking that curvature is not mistaken for a kink."""

    def __init__(self, f, df, scale_grad=1.0):
        self.f, self.df, self.scale_grad = f, df, scale_grad

    def forward(self, x):
        self.x = x.copy()
        return self.f(x)

    def backward(self, dout):
        return (dout * self.df(self.x) * self.scale_grad).astype(self.x.dtype)


class ScaledBackward:
    """Wraps a layer and multiplies its gradient by (1 + rel): a slightly wrong backward."""

    def __init__(self, layer, rel):
        self.layer, self.rel = layer, rel

    def forward(self, x):
        return self.layer.forward(x)

    def backward(self, dout):
        return (self.layer.backward(dout) * (1 + self.rel)).astype(dout.dtype)


# --------------------------------------------------------------------------- CS231n helpers


def test_eval_numerical_gradient_of_sum_of_squares_is_2x_and_restores_x():
    x = np.array([[1.5, -2.0, 0.25], [3.0, 0.0, -0.75]])
    before = x.copy()
    grad = eval_numerical_gradient(lambda v: np.sum(v**2), x, verbose=False)
    np.testing.assert_allclose(grad, 2 * before, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(x, before)
    assert grad.shape == x.shape and grad.dtype == x.dtype


@pytest.mark.parametrize("helper", ["eval_numerical_gradient", "eval_numerical_gradient_array", "grad_check_sparse"])
def test_numerical_helpers_restore_x_when_f_raises(helper):
    # x is stepped in place; an f that fails on the second (x - h) call must not leave it stepped
    x = np.array([1.0, 2.0])
    calls = []

    def f(v):
        calls.append(1)
        if len(calls) == 2:
            raise FloatingPointError("boom")
        return v.sum()

    run = {
        "eval_numerical_gradient": lambda: eval_numerical_gradient(f, x, verbose=False),
        "eval_numerical_gradient_array": lambda: eval_numerical_gradient_array(f, x, np.ones(())),
        "grad_check_sparse": lambda: grad_check_sparse(f, x, np.zeros(2), num_checks=1, seed=0),
    }[helper]
    with pytest.raises(FloatingPointError):
        run()
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_eval_numerical_gradient_prints_each_index_when_verbose(capsys):
    x = np.array([1.0, 2.0])
    eval_numerical_gradient(lambda v: float(np.sum(3 * v)), x)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("(0,)") and lines[1].startswith("(1,)")
    assert abs(float(lines[1].split()[-1]) - 3.0) < 1e-8


def test_eval_numerical_gradient_of_linear_function_uses_given_h():
    a = np.array([0.5, -4.0, 2.0])
    x = np.array([1.0, 2.0, 3.0])
    grad = eval_numerical_gradient(lambda v: float(a @ v), x, verbose=False, h=1e-3)
    np.testing.assert_allclose(grad, a, rtol=1e-10)


def test_eval_numerical_gradient_array_matches_chain_rule():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    df = np.array([[2.0, 1.0], [-1.0, 0.5]])
    grad = eval_numerical_gradient_array(lambda v: v**2, x, df)
    np.testing.assert_allclose(grad, 2 * x * df, rtol=1e-9)


def test_eval_numerical_gradient_array_copies_a_reused_output_buffer():
    buffer = np.empty(3)

    def f(v):
        np.multiply(v, 4.0, out=buffer)
        return buffer

    x = np.array([1.0, 2.0, 3.0])
    df = np.array([1.0, -1.0, 2.0])
    np.testing.assert_allclose(eval_numerical_gradient_array(f, x, df), 4.0 * df, rtol=1e-9)


def test_grad_check_sparse_reports_tiny_errors_for_a_correct_gradient(capsys):
    x = np.linspace(-1.0, 1.0, 12).reshape(3, 4) + 0.05
    errors = grad_check_sparse(lambda v: np.sum(v**3), x, 3 * x**2, num_checks=5, seed=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(errors) == 5 and len(lines) == 5
    assert all(line.startswith("numerical: ") and "analytic: " in line and "relative error: " in line for line in lines)
    assert max(errors) < 1e-8


def test_grad_check_sparse_measures_a_gradient_off_by_a_factor_of_two():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    # numeric 2x, analytic x: |2x - x| / (|2x| + |x|) = 1/3 at every entry
    errors = grad_check_sparse(lambda v: np.sum(v**2), x, x.copy(), num_checks=4, seed=0)
    np.testing.assert_allclose(errors, [1 / 3] * 4, rtol=1e-6)


def test_grad_check_sparse_seed_makes_the_indices_reproducible(capsys):
    x = np.arange(20.0).reshape(4, 5)
    grad_check_sparse(lambda v: np.sum(v * np.arange(20.0).reshape(4, 5)), x, x, num_checks=6, seed=7)
    first = capsys.readouterr().out
    grad_check_sparse(lambda v: np.sum(v * np.arange(20.0).reshape(4, 5)), x, x, num_checks=6, seed=7)
    assert capsys.readouterr().out == first


@pytest.mark.parametrize(
    "x, y, expected",
    [
        (1.0, 1.0, 0.0),
        ([1.0, 2.0], [1.0, 3.0], 0.2),  # |2-3| / (2+3)
        ([0.0], [1e-9], 0.1),  # the 1e-8 floor: 1e-9 / 1e-8
        ([0.0, 0.0], [0.0, 0.0], 0.0),
        ([1.0, -1.0], [-1.0, 1.0], 1.0),  # opposite signs: the largest possible value
        ([[4.0, 1.0]], [[4.0, 1.5]], 0.2),  # the max over elements: 0.5 / 2.5
    ],
)
def test_rel_error_values(x, y, expected):
    assert rel_error(np.array(x), np.array(y)) == pytest.approx(expected, rel=1e-12, abs=1e-15)


# --------------------------------------------------------------------------- check_layer: correct layers pass


@pytest.mark.parametrize(
    "pool_param",
    [
        {"pool_height": 2, "pool_width": 2, "stride": 2},
        {"pool_height": 3, "pool_width": 3, "stride": 2, "pad": 1},
        {"pool_height": 3, "pool_width": 2, "stride": (1, 2)},
    ],
)
@pytest.mark.parametrize("layer_cls", [NaiveMaxpool, NaiveAvgpool])
def test_check_layer_passes_correct_reference_layers(layer_cls, pool_param):
    report = check_layer(layer_cls(pool_param), spaced_input((2, 2, 5, 6)))
    assert isinstance(report, GradCheckReport)
    assert report.passed, str(report)
    assert report.max_rel_error < 1e-8
    assert report.kinks == []
    assert report.checked == 2 * 2 * 5 * 6
    assert len(report.worst_index) == 4
    report.assert_passed()
    assert "PASS" in str(report)


def test_check_layer_leaves_x_alone_and_the_layer_on_the_original_input():
    layer = NaiveMaxpool({"pool_height": 2, "pool_width": 2, "stride": 2})
    x = spaced_input((1, 2, 4, 4))
    before = x.copy()
    dout = np.arange(8.0).reshape(1, 2, 2, 2)
    check_layer(layer, x, dout)
    np.testing.assert_array_equal(x, before)
    expected = NaiveMaxpool(layer.pool_param)
    expected.forward(before)
    np.testing.assert_array_equal(layer.backward(dout), expected.backward(dout))


def test_check_layer_uses_the_given_dout_and_a_seeded_default():
    layer = NaiveAvgpool({"pool_height": 2, "pool_width": 2, "stride": 2})
    x = spaced_input((1, 1, 4, 4))
    ones = check_layer(layer, x, np.ones((1, 1, 2, 2)))
    assert ones.analytic == pytest.approx(0.25)
    assert check_layer(layer, x, seed=3) == check_layer(layer, x, seed=3)


def test_check_layer_accepts_any_shape_for_a_smooth_layer_without_false_kinks():
    layer = Elementwise(np.tanh, lambda v: 1 - np.tanh(v) ** 2)
    report = check_layer(layer, np.linspace(-2.0, 2.0, 15).reshape(3, 5))
    assert report.passed and report.kinks == [], str(report)
    assert report.max_rel_error < 1e-8


# --------------------------------------------------------------------------- check_layer: wrong backwards fail loudly


@pytest.mark.parametrize("shape, k, s", [((2, 2, 6, 6), 2, 2), ((1, 3, 7, 7), 3, 2)])
def test_seed_max_backward_fails_loudly(shape, k, s):
    x = spaced_input(shape)
    good = check_layer(SeedMaxpool(k, s, "routed"), x)
    assert good.passed and good.max_rel_error < 1e-8, str(good)

    report = check_layer(SeedMaxpool(k, s, "seed"), x)
    assert not report.passed
    assert report.max_rel_error > 0.5
    assert report.kinks == []
    assert len(report.worst_index) == 4
    assert report.analytic != pytest.approx(report.numeric, abs=0.1)
    with pytest.raises(GradientCheckError, match="FAIL") as info:
        report.assert_passed()
    assert "worst element x" + str(list(report.worst_index)) in str(info.value)
    with pytest.raises(AssertionError):
        check_layer(SeedMaxpool(k, s, "seed"), x, raise_on_fail=True)


def test_seed_max_backward_error_is_order_one_as_measured_in_the_seed_notes():
    # the as_strided backward is off by about 2 (max abs) on a random 2x2x6x6 input with 2x2/2 windows
    x = spaced_input((2, 2, 6, 6), seed=4)
    layer = SeedMaxpool(2, 2, "seed")
    dout = np.random.default_rng(4).standard_normal((2, 2, 3, 3))
    layer.forward(x)
    wrong = layer.backward(dout)
    right = NaiveMaxpool({"pool_height": 2, "pool_width": 2, "stride": 2})
    right.forward(x)
    assert np.max(np.abs(wrong - right.backward(dout))) > 1.0


@pytest.mark.parametrize("k, s, p", [(2, 2, 1), (3, 1, 1), (3, 2, 1)])
def test_seed_avg_backward_dividing_by_padded_area_fails_loudly(k, s, p):
    x = spaced_input((2, 2, 5, 5))
    good = check_layer(SeedAvgpool(k, s, p, "window"), x)
    assert good.passed and good.max_rel_error < 1e-8, str(good)
    # and the window-area version is the library's count_include_pad=True reference
    naive = NaiveAvgpool({"pool_height": k, "pool_width": k, "stride": s, "pad": p})
    np.testing.assert_allclose(SeedAvgpool(k, s, p, "window").forward(x), naive.forward(x), rtol=1e-12)

    report = check_layer(SeedAvgpool(k, s, p, "seed"), x)
    assert not report.passed
    # (k*k) / (Hp*Wp) instead of 1: the analytic gradient is far too small everywhere
    assert report.max_rel_error > 0.5
    assert abs(report.analytic) < abs(report.numeric)
    with pytest.raises(GradientCheckError):
        check_layer(SeedAvgpool(k, s, p, "seed"), x, raise_on_fail=True)


def test_nan_gradient_fails():
    layer = Elementwise(np.sin, lambda v: np.where(v > 0.5, np.nan, np.cos(v)))
    report = check_layer(layer, np.array([-1.0, 0.0, 0.25, 0.75, -0.5]))
    assert not report.passed
    assert np.isnan(report.max_rel_error)
    assert report.worst_index == (3,)


def test_backward_of_the_wrong_shape_raises():
    class Squeezing(Elementwise):
        def backward(self, dout):
            return super().backward(dout).ravel()

    with pytest.raises(GradientCheckError, match="shape"):
        check_layer(Squeezing(np.sin, np.cos), np.ones((2, 3)))


# --------------------------------------------------------------------------- kinks


def test_exact_tie_is_reported_as_a_kink_not_a_failure():
    x = spaced_input((1, 1, 4, 4))
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = x[0, 0, :2, :2].max() + 1.0  # tie for the max of the first window
    report = check_layer(NaiveMaxpool({"pool_height": 2, "pool_width": 2, "stride": 2}), x)
    assert report.passed, str(report)
    assert sorted(report.kinks) == [(0, 0, 0, 1), (0, 0, 1, 0)]
    assert report.checked == 16 - 2
    assert "kink" in str(report)


def test_values_closer_than_h_are_kinks():
    h = DEFAULT_STEP[np.dtype(np.float64)]
    x = spaced_input((1, 1, 2, 4))
    x[0, 0, 1, 3] = x[0, 0, :, 2:].max() + 5.0
    x[0, 0, 0, 2] = x[0, 0, 1, 3] + h / 4  # wins by less than h
    report = check_layer(NaiveMaxpool({"pool_height": 2, "pool_width": 2, "stride": 2}), x)
    assert report.passed, str(report)
    assert sorted(report.kinks) == [(0, 0, 0, 2), (0, 0, 1, 3)]


def test_all_elements_on_kinks_checks_nothing_and_does_not_pass():
    report = check_layer(NaiveMaxpool({"pool_height": 2, "pool_width": 2, "stride": 2}), np.ones((1, 1, 2, 2)))
    assert report.checked == 0 and len(report.kinks) == 4
    assert not report.passed
    assert "nothing was checked" in str(report)


# --------------------------------------------------------------------------- dtype-aware thresholds


def test_defaults_per_dtype():
    f64 = check_layer(NaiveAvgpool({"pool_height": 2, "pool_width": 2, "stride": 2}), spaced_input((1, 1, 4, 4)))
    f32 = check_layer(
        NaiveAvgpool({"pool_height": 2, "pool_width": 2, "stride": 2}), spaced_input((1, 1, 4, 4), np.float32)
    )
    assert (f64.dtype, f64.h, f64.threshold) == ("float64", 1e-5, 1e-6)
    assert (f32.dtype, f32.h, f32.threshold) == ("float32", 1e-2, 1e-2)
    assert DEFAULT_THRESHOLD[np.dtype(np.float32)] > DEFAULT_THRESHOLD[np.dtype(np.float64)]
    assert f64.passed and f32.passed


@pytest.mark.parametrize("layer_cls", [NaiveMaxpool, NaiveAvgpool])
def test_float32_correct_layers_pass_with_larger_errors_than_float64(layer_cls):
    param = {"pool_height": 3, "pool_width": 3, "stride": 2, "pad": 1}
    r64 = check_layer(layer_cls(param), spaced_input((2, 2, 7, 7)))
    r32 = check_layer(layer_cls(param), spaced_input((2, 2, 7, 7), np.float32))
    assert r32.passed and r64.passed, f"{r32}\n{r64}"
    assert r32.max_rel_error < DEFAULT_THRESHOLD[np.dtype(np.float32)] / 2
    if layer_cls is NaiveAvgpool:  # max pooling copies values, so both can be exact
        assert r32.max_rel_error > r64.max_rel_error


def test_a_tenth_of_a_percent_error_fails_in_float64_but_is_within_float32_tolerance():
    param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    r64 = check_layer(ScaledBackward(NaiveAvgpool(param), 1e-3), spaced_input((1, 2, 4, 4)))
    r32 = check_layer(ScaledBackward(NaiveAvgpool(param), 1e-3), spaced_input((1, 2, 4, 4), np.float32))
    assert not r64.passed and r64.max_rel_error == pytest.approx(1e-3 / (2 + 1e-3), rel=1e-4)
    assert r32.passed


def test_a_ten_percent_error_fails_in_float32():
    r32 = check_layer(
        ScaledBackward(NaiveAvgpool({"pool_height": 2, "pool_width": 2, "stride": 2}), 0.1),
        spaced_input((1, 2, 4, 4), np.float32),
    )
    assert not r32.passed and r32.max_rel_error > 0.04


# --------------------------------------------------------------------------- argument errors


def test_bad_arguments_raise_with_the_parameter_named():
    layer = NaiveMaxpool({"pool_height": 2, "pool_width": 2, "stride": 2})
    x = spaced_input((1, 1, 4, 4))
    with pytest.raises(TypeError, match="x.dtype=int64"):
        check_layer(layer, np.arange(16).reshape(1, 1, 4, 4))
    with pytest.raises(TypeError, match="numpy.ndarray"):
        check_layer(layer, x.tolist())
    with pytest.raises(ValueError, match="h=0"):
        check_layer(layer, x, h=0)
    with pytest.raises(ValueError, match=r"dout.shape=\(1, 1, 3, 3\)"):
        check_layer(layer, x, np.ones((1, 1, 3, 3)))


@pytest.mark.parametrize(
    "kwargs,words",
    [({"h": "1e-5"}, "h='1e-5'"), ({"threshold": "tight"}, "threshold='tight'"), ({"h": True}, "h=True")],
)
def test_non_numeric_step_or_threshold_names_the_parameter(kwargs, words):
    # float('tight') used to surface as "could not convert string to float", naming neither
    layer = NaiveMaxpool({"pool_height": 2, "pool_width": 2, "stride": 2})
    with pytest.raises(TypeError, match=re.escape(words)):
        check_layer(layer, spaced_input((1, 1, 4, 4)), **kwargs)
