"""A registry that describes every op for the checks around it, in the spirit of PyTorch's OpInfo.

One :class:`OpInfo` per entry point of the functional API says how to call the op, its
layer and its torch counterpart, which inputs it must handle (:class:`Sample`), which bad
calls it must refuse and with what message (:class:`ErrorInput`), which configurations the
gradient-check table runs (:class:`GradCheck`) and, for max and average pooling, which
benchmark rows time its layer. The consumers are:

* ``tests/test_functional_parity.py``: every sample against torch (forward, indices, and the
  layer's backward against autograd);
* ``tests/test_errors.py``: every error input on the functional op and on the layer;
* :mod:`cs231n_pool.gradcheck_table` (``cs231n-pool gradcheck``): every GradCheck row;
* :mod:`cs231n_pool.benchmark`: the layer rows of the ops with a ``bench`` name.

So covering a new op is one entry in :data:`OPINFOS` (see docs/adding-an-op.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from . import direct, functional, layers, naive
from .geometry import PoolGeometry, avg_divisors

Kwargs = dict[str, Any]
Timed = Callable[[Any], Any]


class Sample(NamedTuple):
    """An input the op must handle like torch: x's shape and the functional op's keyword arguments."""

    shape: tuple[int, ...]
    kwargs: Kwargs


class ErrorInput(NamedTuple):
    """A bad call: keyword arguments, x's shape and dtype, the exception and the fragments its
    message must contain (each literally)."""

    kwargs: Kwargs
    error: type[Exception]
    words: tuple[str, ...]
    shape: tuple[int, ...] = (2, 3, 6, 5)
    dtype: str = "float64"


class GradCheck(NamedTuple):
    """One row of the gradient-check table: a label and the functional op's keyword arguments
    (the table checks the layer they build)."""

    config: str
    kwargs: Kwargs
    unbatched: bool = False


class Bench(NamedTuple):
    """How ``cs231n-pool bench`` times an op besides its layer (which it builds from the entry).

    pool: the name of its rows ("max", "avg"). naive: the CS231n loops' (forward, backward).
    direct: (direction, x, dout, geometry, threads) -> the timed call of the fused kernels (its
    untimed set-up, such as the forward's indices for a backward, runs before it returns);
    direction "values" (ops with indices) is the forward without them.
    torch_kwargs: extra arguments of the torch op (max pooling is timed with its indices).
    onnx_op: the ONNX operator of the ONNX Runtime peer; jax_reducer: the ``lax`` reduction of
    the JAX peer's ``reduce_window`` ("max", or "add" divided by the window's cell count).
    """

    pool: str
    naive: tuple[Callable[..., Any], Callable[..., Any]]
    direct: Callable[[str, np.ndarray, np.ndarray, PoolGeometry, int], Timed]
    torch_kwargs: Kwargs
    onnx_op: str
    jax_reducer: str


def _max_direct(direction: str, x: np.ndarray, dout: np.ndarray, geom: PoolGeometry, threads: int) -> Timed:
    if direction == "forward":
        return lambda _: direct.max_pool_forward_direct(x, geom, threads)
    if direction == "values":
        return lambda _: direct.max_pool_values_direct(x, geom, threads)
    idx = direct.max_pool_forward_direct(x, geom, threads)[1]
    return lambda _: direct.max_pool_backward_direct(dout, idx, x.shape, threads)


def _avg_direct(direction: str, x: np.ndarray, dout: np.ndarray, geom: PoolGeometry, threads: int) -> Timed:
    divisors = avg_divisors(geom)
    if direction == "forward":
        return lambda _: direct.avg_pool_forward_direct(x, geom, divisors, threads)
    return lambda _: direct.avg_pool_backward_direct(dout, geom, divisors, x.shape, threads)


class OpInfo(NamedTuple):
    """Everything the checks need to know about one op.

    name: the functional op (``cs231n_pool.functional.<name>``); layer: its layer class;
    split: functional kwargs -> (layer constructor kwargs, layer forward kwargs); torch_name and
    torch_kwargs: the ``torch.nn.functional`` op and its kwargs; inputs: x and the kwargs ->
    the op's leading array arguments (x alone, or max_unpool2d's pooled values and indices);
    given: the same for an x that may be bad, passed on as it is (the error tests' form);
    indices: whether ``return_indices=True`` also returns the flat argmax; bench: how the
    benchmark times it, or None.
    """

    name: str
    layer: type
    split: Callable[[Kwargs], tuple[Kwargs, Kwargs]]
    torch_name: str
    samples: tuple[Sample, ...]
    errors: tuple[ErrorInput, ...] = ()
    gradcheck: tuple[GradCheck, ...] = ()
    torch_kwargs: Callable[[Kwargs], Kwargs] = dict
    inputs: Callable[[np.ndarray, Kwargs], tuple[np.ndarray, ...]] = lambda x, kwargs: (x,)
    given: Callable[[Any], tuple[Any, ...]] = lambda x: (x,)
    indices: bool = False
    bench: Bench | None = None

    def functional(self, *arrays: np.ndarray, **kwargs: Any) -> Any:
        """Call the functional op."""
        return getattr(functional, self.name)(*arrays, **kwargs)

    def make_layer(self, kwargs: Kwargs) -> tuple[Any, Kwargs]:
        """(a layer built from the functional kwargs, the kwargs its forward takes)."""
        init, forward = self.split(kwargs)
        return self.layer(**init), forward


def _rename(**names: str) -> Callable[[Kwargs], tuple[Kwargs, Kwargs]]:
    """A split that renames functional kwargs for the layer constructor (kernel_size -> size)."""
    return lambda kwargs: ({names.get(k, k): v for k, v in kwargs.items()}, {})


def _unpool_split(kwargs: Kwargs) -> tuple[Kwargs, Kwargs]:
    init = {("size" if k == "kernel_size" else k): v for k, v in kwargs.items() if k != "output_size"}
    return init, {"output_size": kwargs["output_size"]} if "output_size" in kwargs else {}


def _unpool_inputs(x: np.ndarray, kwargs: Kwargs) -> tuple[np.ndarray, ...]:
    """max_unpool2d's inputs: x max-pooled with the same windows, and its indices."""
    pooled, idx = functional.max_pool2d(
        x, kwargs["kernel_size"], kwargs.get("stride"), kwargs.get("padding", 0), return_indices=True
    )
    return pooled, idx


SHAPE = (2, 3, 7, 6)


def _bad_ndim(**kwargs: Any) -> ErrorInput:
    return ErrorInput(kwargs, ValueError, ("x", "ndim=2"), (6, 5))


OPINFOS: tuple[OpInfo, ...] = (
    OpInfo(
        "max_pool2d",
        layers.Maxpool,
        _rename(kernel_size="size"),
        "max_pool2d",
        samples=(
            Sample(SHAPE, dict(kernel_size=2)),
            Sample(SHAPE, dict(kernel_size=3, stride=2, padding=1)),
            Sample(SHAPE, dict(kernel_size=(3, 2), stride=(2, 1), padding=1, dilation=2, ceil_mode=True)),
            Sample(SHAPE[1:], dict(kernel_size=(3,), stride=(1,), padding=(1,))),
            Sample((0, 3, 7, 6), dict(kernel_size=2)),
        ),
        errors=(
            _bad_ndim(kernel_size=2),
            ErrorInput(dict(kernel_size=0), ValueError, ("must be > 0", "0")),
            ErrorInput(dict(kernel_size=2, stride=(1, -2)), ValueError, ("stride=(1, -2)",)),
            ErrorInput(dict(kernel_size=2, padding=2), ValueError, ("padding=2", "at most half")),
            ErrorInput(dict(kernel_size=2, dilation=0), ValueError, ("dilation=0",)),
            ErrorInput(dict(kernel_size=7, stride=1), ValueError, ("output size is too small", "kernel_size=7")),
            ErrorInput(dict(kernel_size=2, method="fast"), ValueError, ("method='fast'", "im2col")),
        ),
        gradcheck=(
            GradCheck("k=2", dict(kernel_size=2)),
            GradCheck("k=3 s=2 p=1", dict(kernel_size=3, stride=2, padding=1)),
            GradCheck(
                "k=(3,2) s=(2,1) p=1 d=2 ceil",
                dict(kernel_size=(3, 2), stride=(2, 1), padding=1, dilation=2, ceil_mode=True),
            ),
            GradCheck("k=3 s=2 'same'", dict(kernel_size=3, stride=2, padding="same")),
            GradCheck("k=2 s=1 (C,H,W) input", dict(kernel_size=2, stride=1), unbatched=True),
        ),
        indices=True,
        bench=Bench(
            "max",
            (naive.max_pool_forward_naive, naive.max_pool_backward_naive),
            _max_direct,
            dict(return_indices=True),
            "MaxPool",
            "max",
        ),
    ),
    OpInfo(
        "avg_pool2d",
        layers.Avgpool,
        _rename(kernel_size="size"),
        "avg_pool2d",
        samples=(
            Sample(SHAPE, dict(kernel_size=2)),
            Sample(SHAPE, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
            Sample(SHAPE, dict(kernel_size=(3, 2), stride=(2, 1), padding=1, divisor_override=-3)),
            Sample(SHAPE[1:], dict(kernel_size=(3,), stride=(), padding=(1,))),
            Sample((0, 3, 7, 6), dict(kernel_size=2)),
        ),
        errors=(
            _bad_ndim(kernel_size=2),
            ErrorInput(dict(kernel_size=2, padding=-1), ValueError, ("padding", "-1")),
            ErrorInput(dict(kernel_size=2, divisor_override=0), ValueError, ("divisor_override=0",)),
            ErrorInput(dict(kernel_size=2, count_include_pad=None), TypeError, ("count_include_pad", "None")),
            ErrorInput(dict(kernel_size=2, ceil_mode="yes"), TypeError, ("ceil_mode", "'yes'")),
        ),
        gradcheck=(
            GradCheck("k=2", dict(kernel_size=2)),
            GradCheck("k=3 s=2 p=1", dict(kernel_size=3, stride=2, padding=1)),
            GradCheck(
                "k=3 s=2 p=1 count_include_pad=False", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)
            ),
            GradCheck("k=3 s=2 p=1 ceil", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
            GradCheck(
                "k=(3,2) s=(2,1) p=1 ceil count_include_pad=False",
                dict(kernel_size=(3, 2), stride=(2, 1), padding=1, ceil_mode=True, count_include_pad=False),
            ),
            GradCheck("k=2 divisor_override=3", dict(kernel_size=2, divisor_override=3)),
            GradCheck("k=3 s=2 'same'", dict(kernel_size=3, stride=2, padding="same")),
        ),
        bench=Bench(
            "avg",
            (naive.avg_pool_forward_naive, naive.avg_pool_backward_naive),
            _avg_direct,
            {},
            "AveragePool",
            "add",
        ),
    ),
    OpInfo(
        "max_unpool2d",
        layers.MaxUnpool,
        _unpool_split,
        "max_unpool2d",
        samples=(
            Sample(SHAPE, dict(kernel_size=2)),
            Sample(SHAPE, dict(kernel_size=2, stride=2, output_size=(7, 6))),
            Sample(SHAPE, dict(kernel_size=3, stride=2, padding=1, output_size=(7, 6))),
        ),
        errors=(
            ErrorInput(dict(kernel_size=2, output_size=(4, 6)), ValueError, ("output_size", "(4, 6)", "between")),
            ErrorInput(dict(kernel_size=2, output_size=(5,)), ValueError, ("output_size", "(5,)")),
        ),
        gradcheck=(
            GradCheck("k=2", dict(kernel_size=2)),
            GradCheck("k=2 output_size=(7,7)", dict(kernel_size=2, output_size=(7, 7))),
        ),
        inputs=_unpool_inputs,
        given=lambda x: (x, np.zeros(np.shape(x), dtype=np.int64)),  # indices that fit any x
    ),
    OpInfo(
        "adaptive_max_pool2d",
        layers.AdaptiveMaxpool,
        _rename(),
        "adaptive_max_pool2d",
        samples=(
            Sample(SHAPE, dict(output_size=(3, 4))),
            Sample(SHAPE, dict(output_size=(9, 8))),
            Sample(SHAPE[1:], dict(output_size=(None, 4))),
            Sample((0, 7, 6), dict(output_size=2)),
        ),
        errors=(
            _bad_ndim(output_size=2),
            ErrorInput(dict(output_size=(3, 0)), ValueError, ("output_size=(3, 0)",)),
            ErrorInput(dict(output_size=(3,)), ValueError, ("output_size", "(3,)")),
        ),
        gradcheck=(
            GradCheck("out=(3,4)", dict(output_size=(3, 4))),
            GradCheck("out=(9,8) (> input)", dict(output_size=(9, 8))),
        ),
        indices=True,
    ),
    OpInfo(
        "adaptive_avg_pool2d",
        layers.AdaptiveAvgpool,
        _rename(),
        "adaptive_avg_pool2d",
        samples=(
            Sample(SHAPE, dict(output_size=(3, 4))),
            Sample(SHAPE, dict(output_size=(9, 8))),
            Sample(SHAPE[1:], dict(output_size=(3, None))),
            Sample((0, 7, 6), dict(output_size=(2, 3))),
        ),
        errors=(_bad_ndim(output_size=2), ErrorInput(dict(output_size=0), ValueError, ("output_size=0",))),
        gradcheck=(
            GradCheck("out=(3,4)", dict(output_size=(3, 4))),
            GradCheck("out=(9,8) (> input)", dict(output_size=(9, 8))),
        ),
    ),
    OpInfo(
        "global_max_pool2d",
        layers.GlobalMaxpool,
        _rename(),
        "adaptive_max_pool2d",
        samples=(Sample(SHAPE, {}), Sample(SHAPE[1:], {}), Sample((0, 7, 6), {})),
        errors=(_bad_ndim(), ErrorInput({}, ValueError, ("non-empty", "shape=(2, 0, 4, 4)"), (2, 0, 4, 4))),
        gradcheck=(GradCheck("1x1", {}),),
        torch_kwargs=lambda kwargs: dict(output_size=1),
        indices=True,
    ),
    OpInfo(
        "global_avg_pool2d",
        layers.GlobalAvgpool,
        _rename(),
        "adaptive_avg_pool2d",
        samples=(Sample(SHAPE, {}), Sample(SHAPE[1:], {}), Sample((0, 7, 6), {})),
        errors=(_bad_ndim(), ErrorInput({}, TypeError, ("dtype", "int64"), (2, 3, 4, 4), "int64")),
        gradcheck=(GradCheck("1x1", {}),),
        torch_kwargs=lambda kwargs: dict(output_size=1),
    ),
)
"""The registry, in the order the gradient-check table lists the layers."""

BY_NAME: dict[str, OpInfo] = {info.name: info for info in OPINFOS}
