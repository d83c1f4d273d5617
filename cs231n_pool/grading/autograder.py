"""`cs231n-pool autograder ASSIGNMENT`: the autograder of an assignment, for Gradescope or PrairieLearn.

- ``--target gradescope`` (default) ``--out autograder.zip``: the zip to upload (gradescope.py);
- ``--target prairielearn --out DIR``: a question, its serverFilesCourse entrypoint and the
  grading image's Dockerfile (prairielearn.py);
- ``--simulate-gradescope SUBMISSION ...``: build the zip, then run it as Gradescope would in a
  throwaway /autograder-like tree (``--simulate-tree DIR`` keeps it) and print each results.json.

Works from a wheel install of the kit as well as from a checkout (see bundle.py).
"""

import argparse
import json
import sys

from ..cli_args import UsageError, assignment_folder, existing_path, output_file, output_folder
from . import gradescope, prairielearn
from .bundle import BundleError
from .config import load_config
from .results import text_table

TARGETS = ("gradescope", "prairielearn")
DEFAULT_OUT = {"gradescope": "autograder.zip", "prairielearn": "prairielearn"}
OUT_TYPES = {"gradescope": output_file, "prairielearn": output_folder}
DEFAULT_IMAGE = "cs231n-pool-grader:latest"


def is_test_module(path):
    """A pytest test file (helpers such as conftest.py or a package of checks do not count)."""
    name = path.rsplit("/", 1)[-1]
    return name.startswith("test_") and name.endswith(".py")


def add_arguments(parser):
    parser.add_argument("assignment", type=assignment_folder, help="assignment folder (holds assignment.toml)")
    parser.add_argument(
        "--target", choices=TARGETS, default="gradescope", help="platform to build for (default: gradescope)"
    )
    parser.add_argument(
        "--out",
        metavar="PATH",
        help="gradescope: the zip (default autograder.zip); prairielearn: a new folder (default prairielearn)",
    )
    parser.add_argument(
        "--image",
        default=DEFAULT_IMAGE,
        metavar="NAME",
        help=f"prairielearn: the grading image named in info.json (default {DEFAULT_IMAGE})",
    )
    parser.add_argument(
        "--simulate-gradescope",
        nargs="+",
        type=existing_path,
        metavar="SUBMISSION",
        help="after building the zip, run it locally on each submission (folder, .zip or file)",
    )
    parser.add_argument(
        "--simulate-tree",
        type=output_folder,
        metavar="DIR",
        help="run the simulation in this new folder and keep it (default: a throwaway one)",
    )


def _out_path(args):
    """--out checked for the target (a zip file, or a folder); raises UsageError."""
    text = args.out or DEFAULT_OUT[args.target]
    try:
        return str(OUT_TYPES[args.target](text))
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"argument --out: {exc}") from None


def _check_options(args):
    if args.simulate_gradescope and args.target != "gradescope":
        raise UsageError(f"--simulate-gradescope runs the Gradescope zip; it cannot go with --target {args.target}")
    if args.simulate_tree and not args.simulate_gradescope:
        raise UsageError("--simulate-tree is where --simulate-gradescope runs; give --simulate-gradescope too")
    tree = args.simulate_tree
    if tree and tree.exists() and any(tree.iterdir()):
        raise UsageError(f"--simulate-tree {str(tree)!r} exists and is not an empty folder; choose a new one")
    if args.target == "prairielearn" and (not args.image or any(c.isspace() for c in args.image)):
        raise UsageError(f"argument --image: must be a Docker image name, got {args.image!r}")


def _simulate(out, submissions, tree):
    outcomes = gradescope.simulate(
        out, [str(s) for s in submissions], tree and str(tree), report=lambda text: print(text, file=sys.stderr)
    )
    for submission, results, data in outcomes:
        print(text_table(results, f"== Gradescope results for {submission}"))
        print(json.dumps(data, indent=2))
    return 0


def run(args):
    _check_options(args)
    out = _out_path(args)
    cfg = load_config(args.assignment)
    try:
        if args.target == "prairielearn":
            paths = prairielearn.build(cfg, out, args.image)
            tests = sum(1 for p in paths if "/tests/" in p and is_test_module(p))
            print(
                f"Wrote {out}: questions/{cfg.name}/ (info.json, question.html, {tests} test files), "
                f"serverFilesCourse/{cfg.name}/run.sh and image/ (Dockerfile, the kit). "
                f"Build the image with `docker build -t {args.image} {out}/image`."
            )
            return 0
        names = gradescope.build(cfg, out)
        tests = sum(1 for n in names if n.startswith("assignment/tests/") and is_test_module(n))
        print(
            f"Wrote {out}: setup.sh, run_autograder, install_kit.sh, requirements.txt, {tests} test files, "
            f"the cs231n_pool kit ({sum(1 for n in names if n.startswith('kit/'))} files). "
            f"Upload it to Gradescope as the autograder.",
            file=sys.stderr if args.simulate_gradescope else sys.stdout,
        )
        return _simulate(out, args.simulate_gradescope, args.simulate_tree) if args.simulate_gradescope else 0
    except (OSError, BundleError, gradescope.SimulationError) as exc:
        print(f"cs231n-pool autograder: {exc}", file=sys.stderr)
        return 1
