"""Which kernels are in use: the compiled Cython extensions, or the numpy fallback.

Importing the package never fails for lack of the extensions: im2col falls back
to the pure-numpy kernels, method="direct" becomes unavailable, and a warning
says so once. Set CS231N_POOL_REQUIRE_EXTENSION=1 (CI does) to make a missing
extension an ImportError instead.
"""

import importlib
import os
import warnings

from . import im2col_numpy


def _load(name):
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
im2col_kernels = _load("_im2col")
HAVE_EXTENSION = im2col_kernels is not None and direct_kernels is not None
if not HAVE_EXTENSION:
    consequences = ([] if im2col_kernels else ["im2col runs on the slower pure-numpy kernels"]) + (
        [] if direct_kernels else ["method='direct' is unavailable"]
    )
    warnings.warn(
        f"cs231n_pool: compiled kernels not found, so {' and '.join(consequences)} "
        f"(run `make build` or `pip install -e .` to build them)",
        RuntimeWarning,
        stacklevel=2,
    )
if im2col_kernels is None:
    im2col_kernels = im2col_numpy

BACKEND = "cython" if im2col_kernels is not im2col_numpy else "numpy"
