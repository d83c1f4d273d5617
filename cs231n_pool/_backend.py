"""The backend seam: which kernels run, and the one resolver of ``method``.

Backends: the naive loops (:mod:`cs231n_pool.naive`, called directly), im2col on the
pure-numpy kernels, im2col on the compiled Cython kernels, the fused direct kernels, and
the fused adaptive kernels (``adaptive_kernels``; the adaptive ops fall back to numpy).
The ops' ``method`` argument picks im2col or direct (:func:`check_method`); which kernels
the im2col path runs on is :func:`kernels`, the compiled ones when they are built, or
another set inside ``with use_kernels(...)`` (the benchmark's ``im2col-numpy`` row).

Importing the package never fails for lack of the extensions: im2col falls back
to the pure-numpy kernels, method="direct" becomes unavailable, and a warning
says so once. Set CS231N_POOL_REQUIRE_EXTENSION=1 (CI does) to make a missing
extension an ImportError instead.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import os
import warnings
from collections.abc import Iterator
from types import ModuleType

from . import im2col_numpy


def _load(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"{__package__}.{name}")
    except ImportError as exc:  # not built
        if os.environ.get("CS231N_POOL_REQUIRE_EXTENSION") == "1":
            raise ImportError(
                f"cs231n_pool: the compiled extension {name} is required "
                f"(CS231N_POOL_REQUIRE_EXTENSION=1) but could not be imported; run `make build`"
            ) from exc
        return None


direct_kernels = _load("_direct")
_compiled_im2col = _load("_im2col")
adaptive_kernels = _load("_adaptive")
"""The fused adaptive pooling kernels, or None: the adaptive ops then run on numpy (same results)."""
HAVE_EXTENSION = _compiled_im2col is not None and direct_kernels is not None and adaptive_kernels is not None
if not HAVE_EXTENSION:
    consequences = (
        ([] if _compiled_im2col else ["im2col runs on the slower pure-numpy kernels"])
        + ([] if direct_kernels else ["method='direct' is unavailable"])
        + ([] if adaptive_kernels else ["adaptive pooling runs on numpy"])
    )
    warnings.warn(
        f"cs231n_pool: compiled kernels not found, so {' and '.join(consequences)} "
        f"(run `make build` or `pip install -e .` to build them)",
        RuntimeWarning,
        stacklevel=2,
    )
im2col_kernels: ModuleType = im2col_numpy if _compiled_im2col is None else _compiled_im2col
"""The im2col kernels used by default: the compiled ones, or the numpy fallback."""
BACKEND = "cython" if im2col_kernels is not im2col_numpy else "numpy"
KERNEL_SETS: dict[str, ModuleType] = {"numpy": im2col_numpy}
if _compiled_im2col is not None:
    KERNEL_SETS["cython"] = _compiled_im2col
METHODS = ("im2col", "direct")

_kernels_in_use: contextvars.ContextVar[ModuleType] = contextvars.ContextVar("im2col_kernels", default=im2col_kernels)


def kernels() -> ModuleType:
    """The im2col/col2im/column kernels the im2col path runs on now."""
    return _kernels_in_use.get()


@contextlib.contextmanager
def use_kernels(name: str) -> Iterator[ModuleType]:
    """Run the im2col path on the kernel set ``name`` ("numpy", or "cython" when built) inside the block.

    The choice is a context variable, so it holds for this thread (or task) only and ends with the block.
    """
    if name not in KERNEL_SETS:
        raise ValueError(f"kernels must be one of {tuple(KERNEL_SETS)}, got kernels={name!r}")
    token = _kernels_in_use.set(KERNEL_SETS[name])
    try:
        yield KERNEL_SETS[name]
    finally:
        _kernels_in_use.reset(token)


def direct_available() -> bool:
    """Whether method="direct" can run (direct.AVAILABLE: the extension is built)."""
    from . import direct  # direct imports this module for its kernels

    return direct.AVAILABLE


def available_methods() -> tuple[str, ...]:
    """The ``method`` values that run here: "im2col", and "direct" when its kernels are built."""
    return METHODS if direct_available() else METHODS[:1]


def check_method(method: str | None) -> str:
    """Resolve ``method``: "im2col", "direct", or None for the fastest path that is built."""
    if method is None:
        return "direct" if direct_available() else "im2col"
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got method={method!r}")
    return method
