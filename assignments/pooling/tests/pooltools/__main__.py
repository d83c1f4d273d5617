"""``python -m pooltools gradcheck``: check the backward passes of your pooling_layers.py numerically.

Each row runs :func:`pooltools.check_layer` on one of your functions or on your Maxpool, for
one configuration, over a (2, 2, 7, 6) input of values 0.05 apart (further apart than twice
the step h, so no step changes an argmax: no kinks), and prints the largest relative error,
the kinks found and PASS/FAIL. The last row uses an input with tied values on purpose: its
kinks are listed and left out of the verdict. A function that still raises
NotImplementedError shows as TODO. Exit status 0 when every row passes.
"""

import argparse
import importlib.util
import os
import sys

import numpy as np

from .gradient_check import STEP, THRESHOLD, check_layer
from .inputs import distinct, pool_param

SHAPE = (2, 2, 7, 6)
SPACING = 0.05


class _Functions:
    """forward/backward over your {kind}_pool_*_naive functions with a fixed pool_param."""

    def __init__(self, module, kind, param):
        self.forward_fn = getattr(module, f"{kind}_pool_forward_naive")
        self.backward_fn = getattr(module, f"{kind}_pool_backward_naive")
        self.param = param

    def forward(self, x):
        out, self.cache = self.forward_fn(x, self.param)
        return out

    def backward(self, dout):
        return self.backward_fn(dout, self.cache)


def _rows(module):
    """(what, config, dtype, make_layer, input) for every row of the table."""
    cases = []
    for kind in ("max", "avg"):
        what = f"{kind}_pool_backward_naive"
        for config, param in (
            ("k=2 s=2", pool_param(2, 2, 2)),
            ("k=3 s=2 p=1", pool_param(3, 3, 2, 1)),
            ("k=(2,3) s=1", pool_param(2, 3, 1)),
        ):
            cases.append((what, config, np.float64, lambda k=kind, p=param: _Functions(module, k, p)))
        cases.append((what, "k=2 s=2", np.float32, lambda k=kind: _Functions(module, k, pool_param(2, 2, 2))))
    for config, args in (("k=2", (2,)), ("k=3 s=2 p=1", (3, 2, 1)), ("k=3 s=1", (3, 1))):
        cases.append(("Maxpool", config, np.float64, lambda a=args: module.Maxpool(*a)))
    cases.append(("Maxpool", "k=2", np.float32, lambda: module.Maxpool(2)))
    rows = []
    for what, config, dtype, make in cases:
        x = distinct(SHAPE) * SPACING
        rows.append((what, config, make, (x - x.mean()).astype(dtype)))
    # Each value twice, side by side: every 2x2 window holds its maximum twice (a tie, so kinks).
    tied = np.repeat(distinct(SHAPE[:3] + (SHAPE[3] // 2,)) * SPACING, 2, axis=3)
    rows.append(("Maxpool", "k=2, tied values", lambda: module.Maxpool(2), tied))
    return rows


def gradcheck(module, seed=0):
    """Print the table for the student module; returns True when every row passed."""
    header = ("what", "config", "dtype", "max rel error", "kinks", "result")
    cells, notes, passed = [header], [], 0
    rows = _rows(module)
    for what, config, make, x in rows:
        try:
            report = check_layer(make(), x, seed=seed)
        except NotImplementedError:
            cells.append((what, config, str(x.dtype), "-", "-", "TODO"))
            continue
        except Exception as exc:  # a broken function is a row of the table, the others still run
            cells.append((what, config, str(x.dtype), "-", "-", "ERROR"))
            notes.append(f"ERROR {what} {config} {x.dtype}: {type(exc).__name__}: {exc}")
            continue
        passed += report.passed
        cells.append(
            (
                what,
                config,
                str(x.dtype),
                f"{report.max_rel_error:.2e}",
                str(len(report.kinks)),
                "PASS" if report.passed else "FAIL",
            )
        )
        if not report.passed or report.kinks:
            notes.append(f"{what} {config}:\n{report}")
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=False)).rstrip() for line in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    f64, f32 = np.dtype(np.float64), np.dtype(np.float32)
    print("Gradient check of your backward passes (centred differences of <forward(x), dout>)")
    print("\n".join(lines))
    print(
        f"\n{passed}/{len(rows)} checks passed. Thresholds: float64 {THRESHOLD[f64]:.0e} (h={STEP[f64]:.0e}), "
        f"float32 {THRESHOLD[f32]:.0e} (h={STEP[f32]:.0e}); kinks are excluded from pass/fail."
    )
    for note in notes:
        print(note)
    return passed == len(rows)


def load_student_file(path):
    """Import the student's file as a module."""
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m pooltools", description="helpers of the pooling assignment")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("gradcheck", help="numerically check the backward passes of your file")
    check.add_argument("--file", default="pooling_layers.py", help="your file (default: ./pooling_layers.py)")
    check.add_argument("--seed", type=int, default=0, help="seed of the upstream gradients")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.file):
        parser.error(f"--file {args.file!r} does not exist; run this in the assignment folder")
    return 0 if gradcheck(load_student_file(args.file), args.seed) else 1


if __name__ == "__main__":
    sys.exit(main())
