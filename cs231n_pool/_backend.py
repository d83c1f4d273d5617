"""Which kernels are in use: the compiled Cython extension, or the numpy fallback.

Importing the package never fails for lack of the extension: it falls back to
the pure-numpy kernels and warns once. Set CS231N_POOL_REQUIRE_EXTENSION=1 (CI
does) to make a missing extension an ImportError instead.
"""
import os
import warnings

try:
    from . import _im2col as im2col_kernels
    HAVE_EXTENSION = True
except ImportError as exc:  # the extension was not built
    if os.environ.get("CS231N_POOL_REQUIRE_EXTENSION") == "1":
        raise ImportError("cs231n_pool: the compiled extension is required (CS231N_POOL_REQUIRE_EXTENSION=1) "
                          "but could not be imported; run `make build`") from exc
    from . import im2col_numpy as im2col_kernels
    HAVE_EXTENSION = False
    warnings.warn("cs231n_pool: compiled kernels not found, using the slower pure-numpy fallback "
                  "(run `make build` or `pip install -e .` to build them)", RuntimeWarning, stacklevel=2)

BACKEND = "cython" if HAVE_EXTENSION else "numpy"
