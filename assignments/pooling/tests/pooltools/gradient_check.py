"""Finite-difference gradient checks.

CS231n's helpers, with the same names, arguments and printed lines:

* :func:`eval_numerical_gradient` -- gradient of a scalar function, centered differences;
* :func:`eval_numerical_gradient_array` -- gradient of ``<f(x), df>`` for an array-valued f;
* :func:`grad_check_sparse` -- compare a few random entries of an analytic gradient;
* :func:`rel_error` -- ``max |x - y| / max(1e-8, |x| + |y|)``.

:func:`check_layer` checks any object with ``forward(x)`` and ``backward(dout)`` over every
element of x and returns a :class:`GradCheckReport`. Where a +-h step changes which element
wins a max (a tie, or two values closer than h), the function has a kink and a centered
difference means nothing: the two one-sided differences then disagree, the element is listed
as a kink and left out of the verdict.

========  =======  ==========  ===============
dtype     step h   threshold   kink tolerance
========  =======  ==========  ===============
float64   1e-5     1e-6        1e-3
float32   1e-2     1e-2        1e-1
========  =======  ==========  ===============
"""

from typing import NamedTuple

import numpy as np

STEP = {np.dtype(np.float64): 1e-5, np.dtype(np.float32): 1e-2}
THRESHOLD = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-2}
KINK_TOLERANCE = {np.dtype(np.float64): 1e-3, np.dtype(np.float32): 1e-1}
FLOOR_FRACTION = 1e-2  # relative errors of near-zero entries are measured on the gradient's scale


def rel_error(x, y):
    """CS231n's relative error: ``max(|x - y| / max(1e-8, |x| + |y|))`` over all elements."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def _plus_minus(f, x, ix, h):
    """(f(x + h e_ix), f(x - h e_ix)), stepping x in place and restoring it even if f raises."""
    saved = x[ix]
    try:
        x[ix] = saved + h
        plus = f(x)
        x[ix] = saved - h
        return plus, f(x)
    finally:
        x[ix] = saved


def eval_numerical_gradient(f, x, verbose=True, h=1e-5):
    """Numerical gradient of the scalar function f at x; prints each index and value when verbose."""
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        plus, minus = _plus_minus(f, x, ix, h)
        grad[ix] = (plus - minus) / (2 * h)
        if verbose:
            print(ix, grad[ix])
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Numerical gradient of ``sum(f(x) * df)``: what dx of a layer with dout = df should be."""
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        plus, minus = _plus_minus(lambda v: np.array(f(v), copy=True), x, ix, h)
        grad[ix] = np.sum((plus - minus) * df) / (2 * h)
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=None):
    """Compare num_checks random entries of analytic_grad with centered differences; returns the errors."""
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(size)) for size in x.shape)
        plus, minus = _plus_minus(f, x, ix, h)
        numeric, analytic = (plus - minus) / (2 * h), analytic_grad[ix]
        total = abs(numeric) + abs(analytic)
        error = abs(numeric - analytic) / total if total > 0 else 0.0
        print(f"numerical: {numeric:f} analytic: {analytic:f}, relative error: {error:e}")
        errors.append(float(error))
    return errors


class GradCheckReport(NamedTuple):
    """Result of :func:`check_layer`; ``print(report)`` explains it."""

    layer: str
    shape: tuple
    dtype: str
    h: float
    threshold: float
    max_rel_error: float
    worst_index: tuple
    kinks: list
    checked: int
    passed: bool

    def __str__(self):
        lines = [
            f"gradient check of {self.layer} on x{list(self.shape)} {self.dtype}: {'PASS' if self.passed else 'FAIL'}",
            f"  max relative error {self.max_rel_error:.3e} (threshold {self.threshold:.0e}, h = {self.h:.0e})",
        ]
        if self.worst_index is not None:
            lines.append(f"  worst element x{list(self.worst_index)}")
        lines.append(f"  checked {self.checked} elements, {len(self.kinks)} kink(s) excluded")
        if self.kinks:
            shown = ", ".join(str(list(ix)) for ix in self.kinks[:5])
            more = f" and {len(self.kinks) - 5} more" if len(self.kinks) > 5 else ""
            lines.append(f"  kinks (a +-h step changes the argmax; not failures): {shown}{more}")
        if self.checked == 0:
            lines.append("  nothing was checked: use inputs spaced further apart than h")
        return "\n".join(lines)


def check_layer(layer, x, dout=None, h=None, threshold=None, seed=0):
    """Check ``layer.backward(dout)`` against centered differences of ``sum(layer.forward(x) * dout)``.

    x: float32 or float64 array (not modified). dout: standard normal (``seed``) when None.
    h and threshold default per dtype (module docstring). After the check ``layer.forward(x)``
    runs once more, so the layer's state belongs to x.
    """
    if not isinstance(x, np.ndarray) or x.dtype not in STEP:
        raise TypeError(f"x must be a float32 or float64 numpy array, got {type(x).__name__} {getattr(x, 'dtype', '')}")
    h = STEP[x.dtype] if h is None else float(h)
    threshold = THRESHOLD[x.dtype] if threshold is None else float(threshold)
    out0 = np.array(layer.forward(x), dtype=np.float64, copy=True)
    if dout is None:
        dout = np.random.default_rng(seed).standard_normal(out0.shape).astype(x.dtype)
    dout64 = np.asarray(dout, dtype=np.float64)
    if dout64.shape != out0.shape:
        raise ValueError(f"dout must have the forward output's shape {out0.shape}, got dout.shape={dout64.shape}")
    analytic = np.asarray(layer.backward(np.asarray(dout, dtype=x.dtype)), dtype=np.float64)
    if analytic.shape != x.shape:
        raise ValueError(f"{type(layer).__name__}.backward returned shape {analytic.shape}, expected {x.shape}")

    work = x.copy()
    up, down, centered = np.empty(x.shape), np.empty(x.shape), np.empty(x.shape)
    for ix in np.ndindex(x.shape):
        saved = work[ix]
        work[ix] = saved + h
        step_up = float(work[ix]) - float(saved)  # the step actually taken after rounding to x's dtype
        gain = np.sum((np.asarray(layer.forward(work), dtype=np.float64) - out0) * dout64)
        work[ix] = saved - h
        step_down = float(saved) - float(work[ix])
        loss = np.sum((out0 - np.asarray(layer.forward(work), dtype=np.float64)) * dout64)
        work[ix] = saved
        up[ix], down[ix], centered[ix] = gain / step_up, loss / step_down, (gain + loss) / (step_up + step_down)
    layer.forward(x)

    floor = max(1e-8, FLOOR_FRACTION * float(np.max(np.abs(analytic) + np.abs(centered), initial=0.0)))
    errors = np.abs(analytic - centered) / np.maximum(np.abs(analytic) + np.abs(centered), floor)
    is_kink = np.abs(up - down) / np.maximum(np.abs(up) + np.abs(down), floor) > KINK_TOLERANCE[x.dtype]
    kinks = [tuple(int(i) for i in ix) for ix in np.argwhere(is_kink)]
    checked = int(x.size - is_kink.sum())
    if not checked:
        return GradCheckReport(
            type(layer).__name__, x.shape, str(x.dtype), h, threshold, float("nan"), None, kinks, 0, False
        )
    masked = np.where(is_kink, -np.inf, np.where(np.isnan(errors), np.inf, errors))
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(masked)), x.shape))
    max_error = float(errors[worst])
    return GradCheckReport(
        type(layer).__name__,
        x.shape,
        str(x.dtype),
        h,
        threshold,
        max_error,
        worst,
        kinks,
        checked,
        bool(max_error <= threshold),
    )
