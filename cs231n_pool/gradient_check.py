"""Finite-difference gradient checks: CS231n's helpers plus a one-call layer check.

CS231n-compatible functions (same names, arguments and printed lines as the
assignment's ``gradient_check.py``, written afresh):

* :func:`eval_numerical_gradient` -- gradient of a scalar function, centered differences;
* :func:`eval_numerical_gradient_array` -- gradient of ``<f(x), df>`` for an array-valued f;
* :func:`grad_check_sparse` -- compare a few random entries of an analytic gradient;
* :func:`rel_error` -- ``max |x - y| / max(1e-8, |x| + |y|)`` (elementwise, then the max).

:func:`check_layer` checks any object with ``forward(x)`` and ``backward(dout)``
against centered differences of ``L(x) = <forward(x), dout>`` over EVERY input
element and returns a :class:`GradCheckReport`.

How to read a report
--------------------
* ``max_rel_error`` is the largest per-element relative error
  ``|analytic - numeric| / max(|analytic| + |numeric|, floor)``, where
  ``floor = max(1e-8, 1e-2 * max_i(|analytic_i| + |numeric_i|))``. The floor
  measures entries that happen to be near zero (e.g. average-pool gradients
  whose upstream values cancel) on the scale of the whole gradient, instead of
  against pure round-off. Measured on the library's layers (inputs of magnitude
  up to ~4): max-type layers 1e-15 or less in float64 and 1e-6 or less in float32
  (they copy values, so the differences are nearly exact); average-type layers up
  to ~5e-9 in float64 and ~2e-3 in float32. A wrong backward gives 1e-1 to 1.
  In float32 the error grows with ``max|x| / h``.
* Defaults per input dtype (pass ``h=`` / ``threshold=`` to override):

  ========  =======  ==========  ===============
  dtype     step h   threshold   kink tolerance
  ========  =======  ==========  ===============
  float64   1e-5     1e-6        1e-3
  float32   1e-2     1e-2        1e-1
  ========  =======  ==========  ===============

  float32 needs a larger step because the layer itself rounds to about 6e-8 of
  its output values, and that error is divided by 2h.
* ``kinks`` lists input elements where a +-h step crosses a point at which the
  function is not differentiable (for max pooling: the argmax of a window
  changes, e.g. an exact tie or two values closer than h). There the one-sided
  differences ``(L(x+h)-L(x))/h`` and ``(L(x)-L(x-h))/h`` disagree by more than the
  kink tolerance; the centered difference is meaningless, so those elements are
  left out of pass/fail and listed instead. Inputs whose values are spaced
  further apart than h (e.g. a shuffled ``arange``) have no kinks. Two values
  just under h apart cross a kink at the very end of the step: the one-sided
  differences then disagree only slightly, and such an element can show as a
  small failure rather than a kink, so keep values well over h apart.
* ``passed`` is True when at least one element was checked and every checked
  element is within the threshold. ``assert_passed()`` raises
  :class:`GradientCheckError` (an AssertionError) with the summary otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

DEFAULT_STEP = {np.dtype(np.float64): 1e-5, np.dtype(np.float32): 1e-2}
DEFAULT_THRESHOLD = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-2}
KINK_TOLERANCE = {np.dtype(np.float64): 1e-3, np.dtype(np.float32): 1e-1}
# Denominator floor of the per-element relative error, as a fraction of the gradient's scale.
FLOOR_FRACTION = 1e-2


# --------------------------------------------------------------------------- CS231n helpers


def eval_numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, verbose: bool = True, h: float = 1e-5
) -> np.ndarray:
    """Numerical gradient of a scalar function f at x by centered differences (CS231n's helper).

    Parameters
    ----------
    f : callable
        x -> float.
    x : ndarray
        The point; stepped in place and restored after every entry.
    verbose : bool
        Print each index and its gradient.
    h : float
        The step.

    Returns
    -------
    grad : ndarray
        x's shape and dtype, entry i ``(f(x + h e_i) - f(x - h e_i)) / (2h)``.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool.gradient_check import eval_numerical_gradient
    >>> eval_numerical_gradient(lambda v: np.sum(v**2), np.array([1.0, 2.0, 3.0]), verbose=False)
    array([2., 4., 6.])
    """
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        f_plus, f_minus = _at_plus_minus(f, x, ix, h)
        grad[ix] = (f_plus - f_minus) / (2 * h)
        if verbose:
            print(ix, grad[ix])
    return grad


def eval_numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Numerical gradient of ``<f(x), df>`` for an array-valued f (a layer's dx given dout = df).

    Parameters
    ----------
    f : callable
        x -> ndarray; its output is copied, so f may return an internal buffer.
    x : ndarray
        The point; restored after every entry.
    df : ndarray
        The upstream gradient, f's output shape.
    h : float
        The step.

    Returns
    -------
    grad : ndarray
        x's shape, entry i ``sum((f(x + h e_i) - f(x - h e_i)) * df) / (2h)``.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool.gradient_check import eval_numerical_gradient_array
    >>> eval_numerical_gradient_array(lambda v: 3 * v, np.array([1.0, 2.0, 3.0]), np.ones(3))
    array([3., 3., 3.])
    """
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        out_plus, out_minus = _at_plus_minus(lambda v: np.array(f(v), copy=True), x, ix, h)
        grad[ix] = np.sum((out_plus - out_minus) * df) / (2 * h)
    return grad


def grad_check_sparse(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic_grad: np.ndarray,
    num_checks: int = 10,
    h: float = 1e-5,
    seed: int | None = None,
) -> list[float]:
    """Compare ``num_checks`` random entries of analytic_grad with centered differences of f.

    Parameters
    ----------
    f : callable
        x -> float.
    x : ndarray
        The point (restored after every step).
    analytic_grad : ndarray
        The gradient to check, x's shape.
    num_checks : int
        How many random entries.
    h : float
        The step.
    seed : int, optional
        Makes the sampled indices reproducible.

    Returns
    -------
    list of float
        The relative errors ``|num - ana| / (|num| + |ana|)`` (0 when both are 0); one line
        ``numerical: ... analytic: ..., relative error: ...`` is printed per check.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool.gradient_check import grad_check_sparse
    >>> x = np.array([1.0, 2.0, 3.0])
    >>> errors = grad_check_sparse(lambda v: np.sum(v**2), x, 2 * x, num_checks=1, seed=0)  # doctest: +ELLIPSIS
    numerical: 6.000000 analytic: 6.000000, relative error: ...
    >>> max(errors) < 1e-9
    True
    """
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(size)) for size in x.shape)
        f_plus, f_minus = _at_plus_minus(f, x, ix, h)
        numeric = (f_plus - f_minus) / (2 * h)
        analytic = analytic_grad[ix]
        total = abs(numeric) + abs(analytic)
        error = abs(numeric - analytic) / total if total > 0 else 0.0
        print(f"numerical: {numeric:f} analytic: {analytic:f}, relative error: {error:e}")
        errors.append(float(error))
    return errors


def _at_plus_minus(f: Callable[[NDArray[Any]], Any], x: NDArray[Any], ix: tuple, h: float) -> tuple[Any, Any]:
    """``(f(x + h e_ix), f(x - h e_ix))``, stepping x in place; x[ix] is restored even if f raises."""
    saved = x[ix]
    try:
        x[ix] = saved + h
        f_plus = f(x)
        x[ix] = saved - h
        return f_plus, f(x)
    finally:
        x[ix] = saved


def rel_error(x: ArrayLike, y: ArrayLike) -> float:
    """CS231n's relative error: ``max(|x - y| / max(1e-8, |x| + |y|))`` over all elements.

    Parameters
    ----------
    x, y : array_like
        Arrays of one shape (compared in float64).

    Returns
    -------
    float

    Examples
    --------
    >>> from cs231n_pool.gradient_check import rel_error
    >>> round(rel_error([1.0, 2.0], [1.0, 2.001]), 6)
    0.00025
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


# --------------------------------------------------------------------------- layer check


class GradientCheckError(AssertionError):
    """A layer's analytic gradient disagrees with finite differences."""


class GradCheckReport(NamedTuple):
    """Result of :func:`check_layer` (see the module docstring for how to read it).

    worst_index is an index tuple into x (None when nothing was checked);
    analytic/numeric are the two gradients there. kinks are index tuples of
    elements excluded from pass/fail. checked counts the elements that were.
    """

    layer: str
    shape: tuple
    dtype: str
    h: float
    threshold: float
    max_rel_error: float
    worst_index: tuple | None
    analytic: float
    numeric: float
    kinks: list
    checked: int
    passed: bool

    def __str__(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        lines = [
            f"gradient check of {self.layer} on x{list(self.shape)} {self.dtype}: {verdict}",
            f"  max relative error {self.max_rel_error:.3e} (threshold {self.threshold:.0e}, h = {self.h:.0e})",
        ]
        if self.worst_index is not None:
            lines.append(
                f"  worst element x{list(self.worst_index)}: analytic {self.analytic:.8g}, numeric {self.numeric:.8g}"
            )
        lines.append(f"  checked {self.checked} elements, {len(self.kinks)} kink(s) excluded")
        if self.kinks:
            shown = ", ".join(str(list(ix)) for ix in self.kinks[:5])
            more = f" and {len(self.kinks) - 5} more" if len(self.kinks) > 5 else ""
            lines.append(f"  kinks (a +-h step crosses a kink, e.g. the argmax changes; not failures): {shown}{more}")
        if self.checked == 0:
            lines.append("  nothing was checked: every element sits on a kink; use inputs spaced further apart than h")
        return "\n".join(lines)

    def assert_passed(self) -> GradCheckReport:
        """Return self if the check passed.

        Returns
        -------
        GradCheckReport
            self.

        Raises
        ------
        GradientCheckError
            With the summary, if it did not pass.
        """
        if not self.passed:
            raise GradientCheckError(str(self))
        return self


def check_layer(
    layer: Any,
    x: np.ndarray,
    dout: np.ndarray | None = None,
    h: float | None = None,
    seed: int = 0,
    threshold: float | None = None,
    raise_on_fail: bool = False,
    args: tuple = (),
) -> GradCheckReport:
    """Check ``layer.backward`` against centered finite differences of ``<layer.forward(x), dout>``.

    Parameters
    ----------
    layer : object
        Anything with ``forward(x) -> out`` and ``backward(dout) -> dx``.
    x : ndarray
        float32 or float64, any shape the layer accepts (not modified).
    dout : ndarray, optional
        Upstream gradient of out's shape; standard normal (from ``seed``) when None.
    h, threshold : float, optional
        Step and pass threshold; by default per dtype (module docstring table).
    seed : int
        Seed of the default dout.
    raise_on_fail : bool
        Raise :class:`GradientCheckError` when the check fails.
    args : tuple
        Extra positional arguments of forward after x, held fixed (e.g. MaxUnpool's indices:
        ``check_layer(unpool, x, args=(indices,))``).

    Returns
    -------
    GradCheckReport
        ``passed``, ``max_rel_error``, the worst element, and the kinks left out.

    Raises
    ------
    TypeError, ValueError
        A bad x, h, threshold or dout.
    GradientCheckError
        backward returned the wrong shape, or (with raise_on_fail) the check failed.

    Notes
    -----
    Every element of x is stepped by +-h (the step actually taken after rounding to x's dtype is
    used); the differences of the outputs are formed in float64. Elements where the two one-sided
    differences disagree are kinks, left out of pass/fail. At the end ``layer.forward(x)`` runs
    again, so that the layer's state belongs to the original input.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import Maxpool, check_layer
    >>> x = np.random.default_rng(0).permutation(2 * 3 * 6 * 6).reshape(2, 3, 6, 6) * 0.05
    >>> report = check_layer(Maxpool(2), x)
    >>> report.passed, report.checked, report.kinks
    (True, 216, [])
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy.ndarray, got {type(x).__name__}")
    if x.dtype not in DEFAULT_STEP:
        raise TypeError(f"x must have dtype float32 or float64, got x.dtype={x.dtype}")
    h = DEFAULT_STEP[x.dtype] if h is None else _real(h, "h")
    if not h > 0:
        raise ValueError(f"h must be > 0, got h={h!r}")
    threshold = DEFAULT_THRESHOLD[x.dtype] if threshold is None else _real(threshold, "threshold")

    out0 = _forward64(layer, x, args)
    if dout is None:
        dout = np.random.default_rng(seed).standard_normal(out0.shape).astype(x.dtype)
    dout64 = np.asarray(dout, dtype=np.float64)
    if dout64.shape != out0.shape:
        raise ValueError(f"dout must have the forward output's shape {out0.shape}, got dout.shape={dout64.shape}")
    analytic = np.asarray(layer.backward(np.asarray(dout, dtype=x.dtype)), dtype=np.float64)
    if analytic.shape != x.shape:
        raise GradientCheckError(f"{_name(layer)}.backward returned shape {analytic.shape}, expected x.shape {x.shape}")

    forward_diff, backward_diff, numeric = _one_sided_and_centered(layer, x, args, out0, dout64, h)
    layer.forward(x, *args)

    floor = max(1e-8, FLOOR_FRACTION * float(np.max(np.abs(analytic) + np.abs(numeric), initial=0.0)))
    errors = _relative(analytic, numeric, floor)
    is_kink = _relative(forward_diff, backward_diff, floor) > KINK_TOLERANCE[x.dtype]
    kinks = [tuple(int(i) for i in ix) for ix in np.argwhere(is_kink)]
    checked = int(x.size - is_kink.sum())

    if checked:
        masked = np.where(is_kink, -np.inf, errors)
        # NaN anywhere in the checked errors must be the worst element, not be skipped by argmax.
        flat = int(np.argmax(np.where(np.isnan(masked), np.inf, masked)))
        worst = tuple(int(i) for i in np.unravel_index(flat, x.shape))
        max_error = float(errors[worst])
        report = GradCheckReport(
            _name(layer),
            x.shape,
            str(x.dtype),
            h,
            threshold,
            max_error,
            worst,
            float(analytic[worst]),
            float(numeric[worst]),
            kinks,
            checked,
            bool(max_error <= threshold),
        )
    else:
        report = GradCheckReport(
            _name(layer),
            x.shape,
            str(x.dtype),
            h,
            threshold,
            float("nan"),
            None,
            float("nan"),
            float("nan"),
            kinks,
            0,
            False,
        )
    if raise_on_fail:
        report.assert_passed()
    return report


def _real(value: Any, name: str) -> float:
    """A real number (int, float or numpy scalar, not bool or str) as a float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {name}={value!r} of type {type(value).__name__}")
    return float(value)


def _relative(a: np.ndarray, b: np.ndarray, floor: float) -> np.ndarray:
    """Elementwise ``|a - b| / max(|a| + |b|, floor)``; NaN stays NaN."""
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)


def _forward64(layer: Any, x: NDArray[Any], args: tuple) -> NDArray[np.float64]:
    # A copy: the layer may hand back (and later overwrite) an internal buffer.
    return np.array(layer.forward(x, *args), dtype=np.float64, copy=True)


def _one_sided_and_centered(layer, x, args, out0, dout64, h):
    """Per element of x: (L(x+h)-L(x))/h, (L(x)-L(x-h))/h and the centered difference, in float64."""
    work = x.copy()
    forward_diff = np.empty(x.shape)
    backward_diff = np.empty(x.shape)
    centered = np.empty(x.shape)
    for ix in np.ndindex(x.shape):
        saved = work[ix]
        work[ix] = saved + h
        step_up = float(work[ix]) - float(saved)  # the step after rounding to x's dtype
        up = np.sum((_forward64(layer, work, args) - out0) * dout64)
        work[ix] = saved - h
        step_down = float(saved) - float(work[ix])
        down = np.sum((out0 - _forward64(layer, work, args)) * dout64)
        work[ix] = saved
        forward_diff[ix] = up / step_up
        backward_diff[ix] = down / step_down
        centered[ix] = (up + down) / (step_up + step_down)
    return forward_diff, backward_diff, centered


def _name(layer: Any) -> str:
    return repr(layer) if type(layer).__repr__ is not object.__repr__ else type(layer).__name__
