"""`cs231n-pool demo`: the kit's main job on built-in data.

1. the gradient-check table of every layer;
2. a worked pooling example (d2l's 4x4 input and the ceil-mode average example);
3. the pooling assignment released into a temporary folder, and three built-in
   submissions graded: the reference solution, the untouched stub and a mutant
   that pads max pooling with zeros.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from .cli_args import CONFIG_NAME, UsageError, assignment_folder
from .functional import avg_pool2d, max_pool2d

NEXT_STEPS = """
== Where to go next ==
  students:    work through notebooks/ in order (make lab opens them on a released bundle)
  instructors: cs231n-pool release assignments/pooling --out DIR       the student bundle
               cs231n-pool grade assignments/pooling SUBMISSION        one submission
               cs231n-pool grade-all assignments/pooling SUBMISSIONS/ --out OUT   a class
               cs231n-pool autograder assignments/pooling              the Gradescope upload
  everyone:    cs231n-pool --help, README.md and docs/"""

# The classic bug: max pooling padded with zeros instead of -inf.
ZERO_PAD_MUTANT = ("constant_values=-np.inf", "constant_values=0")


# The pooling assignment of a source checkout; a wheel install does not carry it.
CHECKOUT_ASSIGNMENT = Path(__file__).resolve().parents[1] / "assignments" / "pooling"


def add_arguments(parser) -> None:
    parser.add_argument(
        "--assignment",
        type=assignment_folder,
        metavar="DIR",
        help="assignment folder to release and grade (default: the checkout's assignments/pooling)",
    )
    parser.add_argument("--skip-grading", action="store_true", help="only the gradient checks and the worked example")


def worked_example() -> str:
    """Pooling a 4x4 arange, as in d2l's chapter on pooling, with indices and a ceil-mode average."""
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    out, idx = max_pool2d(x, 3, stride=2, padding=1, return_indices=True)
    lines = [
        "x = arange(16).reshape(4, 4):",
        _indent(x[0, 0]),
        "max_pool2d(x, 3, stride=2, padding=1) -> (padding is -inf, ties go to the first maximum)",
        _indent(out[0, 0]),
        "indices (flat ih*W + iw in the unpadded plane):",
        _indent(idx[0, 0]),
    ]
    y = np.arange(1, 17, dtype=np.float64).reshape(1, 1, 4, 4)
    for include in (True, False):
        avg = avg_pool2d(y, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=include)
        lines += [
            f"avg_pool2d(1..16, 3, stride=2, padding=1, ceil_mode=True, count_include_pad={include}):",
            _indent(np.round(avg[0, 0], 3)),
        ]
    return "\n".join(lines)


def _indent(array: np.ndarray) -> str:
    return "\n".join("    " + line for line in str(array).splitlines())


def grading_demo(assignment: Path) -> int:
    """Release the assignment and grade the solution, the stub and one mutant; print their scores."""
    from .grading.config import load_config
    from .grading.grade import grade_submission
    from .grading.release import release

    workdir = Path(tempfile.mkdtemp(prefix="cs231n_pool_demo_"))
    try:
        bundle = workdir / "bundle"
        release(assignment, bundle)
        print(f"Released the student bundle into {bundle}")
        solution = (assignment / "pooling_layers.py").read_text()
        if solution.count(ZERO_PAD_MUTANT[0]) < 1:
            raise RuntimeError(f"the zero-padding mutant no longer applies to {assignment / 'pooling_layers.py'}")
        solved = Path(load_config(assignment).notebooks)
        submissions = {  # each with the notebooks, whose exercises are graded too
            "solution": (solution, solved),
            "stub": ((bundle / "pooling_layers.py").read_text(), bundle),
            "mutant (max pooling padded with zeros)": (solution.replace(*ZERO_PAD_MUTANT), solved),
        }
        for name, (source, notebooks) in submissions.items():
            folder = workdir / name.split()[0]
            folder.mkdir()
            (folder / "pooling_layers.py").write_text(source)
            for notebook in notebooks.glob("*.ipynb"):
                shutil.copy(notebook, folder / notebook.name)
            results = grade_submission(assignment, folder)
            lost = [t["name"] for t in results["tests"] if t["score"] < t["max_score"]]
            total = sum(t["max_score"] for t in results["tests"])
            print(
                f"  {name:<40} {results['score']:g}/{total:g}" + (f"   ({len(lost)} tests lost points)" if lost else "")
            )
            if 0 < len(lost) < len(results["tests"]):  # which skills a single bug costs
                print("".join(f"      lost: {test}\n" for test in lost), end="")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def run(args) -> int:
    from .gradcheck_table import format_table, gradcheck_rows

    assignment = None if args.skip_grading else args.assignment or checkout_assignment()
    if assignment is not None:
        from .grading.config import load_config

        load_config(assignment)  # a broken assignment.toml is a usage mistake, found before any work
    print("== 1. Gradient check of every layer ==")
    rows = gradcheck_rows()
    print(format_table(rows))
    print("\n== 2. A worked pooling example ==")
    print(worked_example())
    status = 0 if all(row.passed for row in rows) else 1
    if assignment is not None:
        print("\n== 3. Release the assignment and grade three submissions ==")
        status |= grading_demo(assignment)
    print(NEXT_STEPS)
    return status


def checkout_assignment() -> Path:
    if not (CHECKOUT_ASSIGNMENT / CONFIG_NAME).is_file():
        raise UsageError(
            f"this install has no pooling assignment ({str(CHECKOUT_ASSIGNMENT)!r} is missing); "
            "pass --assignment DIR or --skip-grading"
        )
    return CHECKOUT_ASSIGNMENT
