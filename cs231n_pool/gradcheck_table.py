"""`cs231n-pool gradcheck`: numerically check every layer's backward and print a table.

Each row runs :func:`cs231n_pool.gradient_check.check_layer` on one layer and
configuration over a (2, 2, 7, 6) input (one row uses an unbatched (2, 7, 6) input).
Inputs are shuffled ``arange`` values 0.05 apart, centred on 0: further apart than
twice the step h of either dtype, so no finite-difference step changes an argmax
(no kinks) and windows of negative values meet the padding. The upstream gradient
is standard normal. ``--dtype all`` (the default) checks every configuration in
float64 and the first configuration of each layer in float32.

Use :func:`gradcheck_rows` and :func:`format_table` to embed the table elsewhere
(``cs231n-pool demo`` does).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import DTypeLike, NDArray

from ._backend import BACKEND
from .gradient_check import DEFAULT_STEP, DEFAULT_THRESHOLD, GradCheckReport, check_layer
from .opinfo import OPINFOS, Kwargs, OpInfo

INPUT_SHAPE = (2, 2, 7, 6)
SPACING = 0.05
DTYPE_CHOICES = ("all", "float64", "float32")


class Case(NamedTuple):
    """One layer configuration. prepare(x) -> (layer, input to check, extra forward args)."""

    layer: str
    config: str
    prepare: Callable[[np.ndarray], tuple]
    unbatched: bool = False


class Row(NamedTuple):
    """One line of the table: the check's report, or the error that stopped it."""

    layer: str
    config: str
    dtype: str
    report: GradCheckReport | None
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.report is not None and self.report.passed


def _prepare(info: OpInfo, kwargs: Kwargs) -> Callable[[np.ndarray], tuple]:
    """x -> (the layer the registry builds, its checked input, its other forward arguments)."""

    def prepare(x: np.ndarray) -> tuple:
        layer, forward = info.make_layer(kwargs)
        arrays = info.inputs(x, kwargs)  # max_unpool2d: x max-pooled, and its indices
        return layer, arrays[0], arrays[1:] + tuple(forward.values())

    return prepare


CASES = tuple(
    Case(info.layer.__name__, check.config, _prepare(info, check.kwargs), check.unbatched)
    for info in OPINFOS
    for check in info.gradcheck
)
"""Every gradient-check row of the registry (cs231n_pool.opinfo), in its order."""


def spaced_input(shape: tuple[int, ...], dtype: DTypeLike, rng: np.random.Generator) -> NDArray[np.floating[Any]]:
    """A shuffled arange, SPACING apart and centred on 0, so no two values are within 2h."""
    values = rng.permutation(int(np.prod(shape))) * SPACING
    return (values - values.mean()).reshape(shape).astype(dtype)


def selected_cases(dtype: str = "all") -> list[tuple[Case, np.dtype[Any]]]:
    """(case, dtype) pairs: every case in float64 and/or float32; 'all' adds float32 once per layer."""
    if dtype not in DTYPE_CHOICES:
        raise ValueError(f"dtype must be one of {DTYPE_CHOICES}, got dtype={dtype!r}")
    if dtype != "all":
        return [(case, np.dtype(dtype)) for case in CASES]
    pairs: list[tuple[Case, np.dtype[Any]]] = []
    seen = set()
    for case in CASES:
        pairs.append((case, np.dtype(np.float64)))
        if case.layer not in seen:
            seen.add(case.layer)
            pairs.append((case, np.dtype(np.float32)))
    return pairs


def gradcheck_rows(seed: int = 0, dtype: str = "all") -> list[Row]:
    """Run check_layer on every selected case; an exception becomes an ERROR row, not a crash."""
    rows = []
    for case, dt in selected_cases(dtype):
        rng = np.random.default_rng(seed)
        x = spaced_input(INPUT_SHAPE[1:] if case.unbatched else INPUT_SHAPE, dt, rng)
        try:
            layer, checked_input, args = case.prepare(x)
            report = check_layer(layer, checked_input, seed=seed, args=args)
        except Exception as exc:  # a broken layer is a table row, so the other rows still run
            rows.append(Row(case.layer, case.config, dt.name, None, f"{type(exc).__name__}: {exc}"))
            continue
        rows.append(Row(case.layer, case.config, dt.name, report))
    return rows


def format_table(rows: list[Row]) -> str:
    """An aligned text table (layer, config, dtype, max rel error, kinks, result) plus a summary."""
    header = ("layer", "config", "dtype", "max rel error", "kinks", "result")
    cells = [header]
    for row in rows:
        if row.report is None:
            cells.append((row.layer, row.config, row.dtype, "-", "-", "ERROR"))
        else:
            cells.append(
                (
                    row.layer,
                    row.config,
                    row.dtype,
                    f"{row.report.max_rel_error:.2e}",
                    str(len(row.report.kinks)),
                    "PASS" if row.passed else "FAIL",
                )
            )
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    passed = sum(row.passed for row in rows)
    f64, f32 = np.dtype(np.float64), np.dtype(np.float32)
    lines.append("")
    lines.append(
        f"{passed}/{len(rows)} checks passed. Thresholds: float64 {DEFAULT_THRESHOLD[f64]:.0e} "
        f"(h={DEFAULT_STEP[f64]:.0e}), float32 {DEFAULT_THRESHOLD[f32]:.0e} (h={DEFAULT_STEP[f32]:.0e}); "
        f"kinks are excluded from pass/fail."
    )
    for row in rows:
        if row.report is None:
            lines.append(f"ERROR {row.layer} {row.config} {row.dtype}: {row.error}")
        elif not row.passed:
            lines.append(f"{row.config} {row.dtype}: {row.report}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="seed for the shuffled inputs and upstream gradients")
    parser.add_argument(
        "--dtype",
        choices=DTYPE_CHOICES,
        default="all",
        help="float64 or float32 for every configuration; 'all' (default) checks every "
        "configuration in float64 and one per layer in float32",
    )


def run(args: argparse.Namespace) -> int:
    rows = gradcheck_rows(seed=args.seed, dtype=args.dtype)
    print(f"Gradient check of every layer (centred differences of <forward(x), dout>, kernels: {BACKEND})")
    print(format_table(rows))
    return 0 if all(row.passed for row in rows) else 1
