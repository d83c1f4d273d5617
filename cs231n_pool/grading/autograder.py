"""`cs231n-pool autograder ASSIGNMENT --out autograder.zip`: a Gradescope autograder bundle.

The zip (upload it as a Gradescope "zip file upload" autograder) holds::

    setup.sh           installs requirements.txt and the bundled kit (Gradescope runs it once)
    run_autograder     grades $ROOT/submission into $ROOT/results/results.json
    requirements.txt   numpy, pytest (and tomli on Python 3.10)
    assignment/        assignment.toml and tests/ (conftest, public and hidden): no solution
    kit/               a source copy of cs231n_pool (pyproject.toml, setup.py, the package)

$ROOT is /autograder, or $AUTOGRADER_ROOT when set (the tests point it at a fake tree);
$AUTOGRADER_PYTHON picks the interpreter (default python3).
"""
import os
import sys
import zipfile

from ..cli_args import assignment_folder, output_file
from .config import ConfigError, load_config
from .grade import SKIP_DIRS, snapshot_tree

REQUIREMENTS = """\
numpy>=2
pytest>=8
tomli>=2; python_version < "3.11"
"""

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (from /autograder/source).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${AUTOGRADER_PYTHON:-python3}"
"$PYTHON" -m pip install --upgrade pip
"$PYTHON" -m pip install -r requirements.txt
# The kit builds its Cython kernels here (needs a C compiler, present on Gradescope's images).
"$PYTHON" -m pip install ./kit
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission: /autograder/submission -> /autograder/results/results.json.
# Student code runs only in the sandboxed child processes of `cs231n-pool grade`.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-python3}"
mkdir -p "$ROOT/results"
RESULTS="$ROOT/results/results.json"
if ! "$PYTHON" -m cs231n_pool.cli grade "$ROOT/source/assignment" "$ROOT/submission" \\
        --format gradescope --out "$RESULTS" 2> "$ROOT/results/grader_errors.txt"; then
    # The assignment itself could not be graded: tell the student to contact the staff.
    cat "$ROOT/results/grader_errors.txt" >&2
    printf '%s\\n' '{"score": 0, "output": "The autograder failed on its side, not because of your code. Please contact the course staff.", "tests": []}' > "$RESULTS"
fi
"""

KIT_SKIP_SUFFIXES = (".so", ".pyd", ".o", ".c", ".html")
README_FALLBACK = "# cs231n_pool\n\nThe pooling assignment kit (bundled with the autograder).\n"


def _kit_files():
    """{path inside kit/: bytes} of the cs231n_pool source tree (no build products)."""
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    project_dir = os.path.dirname(package_dir)
    if not os.path.isfile(os.path.join(project_dir, "pyproject.toml")):
        raise ConfigError(f"the cs231n_pool source tree (pyproject.toml next to {package_dir}) is needed to "
                          f"build the autograder; run it from a checkout or an editable install")
    files = {}
    for folder, dirs, names in os.walk(package_dir):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(names):
            if name.endswith(KIT_SKIP_SUFFIXES):
                continue
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                files[os.path.join("cs231n_pool", os.path.relpath(path, package_dir))] = f.read()
    for name in ("pyproject.toml", "setup.py", "README.md", "LICENSE"):
        path = os.path.join(project_dir, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                files[name] = f.read()
    files.setdefault("README.md", README_FALLBACK.encode())
    return files


def _add(zf, name, data, executable=False):
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    zf.writestr(info, data)


def build_autograder(assignment_dir, out_path):
    """Write the Gradescope bundle; returns the list of names in the zip."""
    cfg = load_config(assignment_dir)
    assignment = {rel: data for rel, data in snapshot_tree(cfg.root).items()
                  if rel == "assignment.toml" or rel.split(os.sep)[0] == "tests"}
    if not any(rel.split(os.sep)[:2] == ["tests", "hidden"] for rel in assignment):
        print(f"cs231n-pool autograder: note: {cfg.tests_dir} has no hidden tests", file=sys.stderr)
    names = []
    with zipfile.ZipFile(out_path, "w") as zf:
        _add(zf, "setup.sh", SETUP_SH, executable=True)
        _add(zf, "run_autograder", RUN_AUTOGRADER, executable=True)
        _add(zf, "requirements.txt", REQUIREMENTS)
        for rel, data in sorted(assignment.items()):
            _add(zf, "assignment/" + rel.replace(os.sep, "/"), data)
        for rel, data in sorted(_kit_files().items()):
            _add(zf, "kit/" + rel.replace(os.sep, "/"), data)
        names = zf.namelist()
    return names


def add_arguments(parser):
    parser.add_argument("assignment", type=assignment_folder, help="assignment folder (holds assignment.toml)")
    parser.add_argument("--out", default="autograder.zip", type=output_file, metavar="ZIP", help="output zip (default autograder.zip)")


def run(args):
    try:
        names = build_autograder(args.assignment, args.out)
    except OSError as exc:
        print(f"cs231n-pool autograder: {exc}", file=sys.stderr)
        return 1
    tests = sum(1 for n in names if n.startswith("assignment/tests/") and n.endswith(".py"))
    print(f"Wrote {args.out}: setup.sh, run_autograder, requirements.txt, {tests} test files, "
          f"the cs231n_pool kit ({sum(1 for n in names if n.startswith('kit/'))} files). "
          f"Upload it to Gradescope as the autograder.")
    return 0
