"""Helpers for the pooling assignment: gradient checks, the checks its tests and notebooks use,
a small runner that calls your code in a separate process, and data and plotting helpers.

Nothing here implements a function you are asked to write: expected values come from
``expected.npz`` (computed by the course staff when this folder was made), never from code.

Most used::

    from pooltools import rel_error, check_layer, eval_numerical_gradient_array
    python -m pooltools gradcheck      # check the backward passes of your pooling_layers.py
"""

from .gradient_check import (
    GradCheckReport,
    check_layer,
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)

__all__ = [
    "GradCheckReport",
    "check_layer",
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "grad_check_sparse",
    "rel_error",
]
