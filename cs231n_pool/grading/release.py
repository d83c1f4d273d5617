"""`cs231n-pool release ASSIGNMENT --out DIR`: write the student bundle and check it.

The bundle::

    DIR/<student_file>       every ### BEGIN SOLUTION ... ### END SOLUTION block replaced by a
                             TODO comment and `raise NotImplementedError`, at the block's indent
    DIR/assignment.toml      so the grading plugin finds the limits and forbidden imports
    DIR/pytest.ini           `pytest` at the bundle root runs tests/
    DIR/tests/conftest.py, DIR/tests/public/...   the public tests only
    DIR/*.ipynb              the notebooks, outputs cleared, solution blocks replaced the same way
    DIR/README.md            the student README (from README_student.md in the assignment folder)

The command then verifies its own result and exits non-zero with the reason when any check
fails: the stub imports; pytest at the bundle root scores 0 on the stub and full marks with
the solution; no solution marker and no hidden test is left in DIR.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from ..cli_args import UsageError, assignment_folder, output_folder
from .config import load_config
from .grade import SKIP_DIRS

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
MARKER_TEXT = ("BEGIN SOLUTION", "END SOLUTION")
SCORE_LINE = re.compile(r"^Score: (\S+)/(\S+)$", re.MULTILINE)
BUNDLE_PYTEST_INI = "[pytest]\ntestpaths = tests\n"


class ReleaseError(RuntimeError):
    """The bundle could not be written or failed one of its checks."""


# --- stubbing ----------------------------------------------------------------------------------

def _enclosing_name(lines, index, indent):
    """Qualified name of the def (and class) that holds line `index`, for the TODO message."""
    name, depth = None, indent
    for line in reversed(lines[:index]):
        stripped = line.lstrip()
        here = len(line) - len(stripped)
        if stripped and here < depth:
            match = re.match(r"(?:async\s+)?(def|class)\s+(\w+)", stripped)
            if match:
                name = match.group(2) if name is None else f"{match.group(2)}.{name}"
                if match.group(1) == "class":
                    return name
            depth = here
            if here == 0:
                break
    return name


def stub_source(source, where="source"):
    """Replace each solution block by a TODO comment and `raise NotImplementedError(...)`."""
    lines = source.splitlines(keepends=True)
    out, index = [], 0
    while index < len(lines):
        line = lines[index]
        if line.strip() == END:
            raise ReleaseError(f"{where}, line {index + 1}: {END} without {BEGIN}")
        if line.strip() != BEGIN:
            if any(text in line for text in MARKER_TEXT):
                raise ReleaseError(f"{where}, line {index + 1}: a solution marker must be alone on its line")
            out.append(line)
            index += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        end = next((j for j in range(index + 1, len(lines)) if lines[j].strip() in (BEGIN, END)), None)
        if end is None or lines[end].strip() != END:
            raise ReleaseError(f"{where}, line {index + 1}: {BEGIN} without a matching {END}")
        name = _enclosing_name(lines, index, len(indent))
        what = f"{name}" if name else "this part"
        out.append(f"{indent}# TODO: implement {what} (see the docstring above).\n")
        out.append(f'{indent}raise NotImplementedError("{what}: your code here")\n')
        index = end + 1
    return "".join(out)


def stub_notebook(text, where):
    """Notebook JSON with outputs cleared and solution blocks of code cells stubbed."""
    nb = json.loads(text)
    for number, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        cell["source"] = stub_source(source, f"{where}, cell {number}").splitlines(keepends=True)
        cell["outputs"] = []
        cell["execution_count"] = None
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


# --- writing -----------------------------------------------------------------------------------

def _readme(cfg, total_points):
    template_path = os.path.join(cfg.root, "README_student.md")
    if os.path.isfile(template_path):
        with open(template_path, encoding="utf-8") as f:
            template = f.read()
    else:
        template = ("# {title}\n\nImplement `{student_file}`, then run `pytest` in this folder: its last line is "
                    "your score on the public tests, `Score: 0/{points}` until you start.\n"
                    "The tests need the cs231n_pool kit installed (the copy your instructor gives you).\n")
    return template.format(title=cfg.title, name=cfg.name, student_file=cfg.student_file,
                           points=total_points, forbidden=", ".join(f"`{m}`" for m in cfg.forbidden))


def _copy_tree(src, dest):
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(*SKIP_DIRS))


def write_bundle(cfg, out_dir):
    """Write the bundle files into out_dir (which must be empty or absent)."""
    if os.path.exists(out_dir) and (not os.path.isdir(out_dir) or os.listdir(out_dir)):
        raise UsageError(f"--out {str(out_dir)!r} exists and is not an empty folder; choose a new one")
    os.makedirs(out_dir, exist_ok=True)
    with open(cfg.solution_path, encoding="utf-8") as f:
        stub = stub_source(f.read(), cfg.student_file)
    with open(os.path.join(out_dir, cfg.student_file), "w", encoding="utf-8") as f:
        f.write(stub)
    shutil.copyfile(os.path.join(cfg.root, "assignment.toml"), os.path.join(out_dir, "assignment.toml"))
    with open(os.path.join(out_dir, "pytest.ini"), "w") as f:
        f.write(BUNDLE_PYTEST_INI)
    os.makedirs(os.path.join(out_dir, "tests"))
    shutil.copyfile(os.path.join(cfg.tests_dir, "conftest.py"), os.path.join(out_dir, "tests", "conftest.py"))
    _copy_tree(os.path.join(cfg.tests_dir, "public"), os.path.join(out_dir, "tests", "public"))
    notebooks = []
    if cfg.notebooks and os.path.isdir(cfg.notebooks):
        for name in sorted(os.listdir(cfg.notebooks)):
            if name.endswith(".ipynb"):
                with open(os.path.join(cfg.notebooks, name), encoding="utf-8") as f:
                    text = stub_notebook(f.read(), name)
                with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
                    f.write(text)
                notebooks.append(name)
    return notebooks


# --- checking ----------------------------------------------------------------------------------

def _run_bundle_pytest(out_dir, submission_dir=None):
    """pytest at the bundle root (as a student runs it); returns (score, total, output)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k != "CS231N_POOL_SUBMISSION"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if submission_dir is not None:
        env["CS231N_POOL_SUBMISSION"] = submission_dir
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--color=no"],
                          cwd=out_dir, env=env, capture_output=True, text=True, timeout=1800)
    scores = SCORE_LINE.findall(proc.stdout)
    if not scores:
        raise ReleaseError(f"pytest at the bundle root printed no Score line (status {proc.returncode}):\n"
                           f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    score, total = (float(v) for v in scores[-1])
    return score, total, proc.stdout


def check_contents(cfg, out_dir):
    """No solution marker anywhere in the bundle, and no hidden test."""
    hidden_bytes = set()
    for folder, _, names in os.walk(os.path.join(cfg.tests_dir, "hidden")):
        for name in names:
            with open(os.path.join(folder, name), "rb") as f:
                hidden_bytes.add(f.read())
    for folder, dirs, names in os.walk(out_dir):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in names:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, out_dir)
            with open(path, "rb") as f:
                data = f.read()
            for text in MARKER_TEXT:
                if text.encode() in data:
                    raise ReleaseError(f"{rel} still contains {text!r}")
            if data in hidden_bytes or "hidden" in rel.split(os.sep)[:-1]:
                raise ReleaseError(f"{rel} is a hidden test")


def check_scores(cfg, out_dir):
    """The stub imports and scores 0; the solution scores full marks. Returns the public total."""
    module = os.path.splitext(cfg.student_file)[0]
    proc = subprocess.run([sys.executable, "-B", "-c", f"import {module}"],
                          cwd=out_dir, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise ReleaseError(f"the stub {cfg.student_file} does not import:\n{proc.stderr[-3000:]}")
    score, total, output = _run_bundle_pytest(out_dir)
    if total <= 0:
        raise ReleaseError(f"the bundle has no graded public tests:\n{output[-3000:]}")
    if score != 0:
        raise ReleaseError(f"the stub scores {score:g}/{total:g}, expected 0:\n{output[-3000:]}")
    with tempfile.TemporaryDirectory() as solved:
        shutil.copyfile(cfg.solution_path, os.path.join(solved, cfg.student_file))
        score, total_solved, output = _run_bundle_pytest(out_dir, solved)
    if score != total_solved or total_solved != total:
        raise ReleaseError(f"the solution scores {score:g}/{total_solved:g} on the public tests, expected "
                           f"{total:g}/{total:g}:\n{output[-3000:]}")
    return total


def release(assignment_dir, out_dir):
    """Write and check the student bundle; returns a summary dict. Raises ReleaseError/ConfigError."""
    cfg = load_config(assignment_dir)
    out_dir = os.path.abspath(out_dir)
    notebooks = write_bundle(cfg, out_dir)
    total = check_scores(cfg, out_dir)
    with open(os.path.join(out_dir, "README.md"), "w", encoding="utf-8") as f:
        f.write(_readme(cfg, f"{total:g}"))
    check_contents(cfg, out_dir)
    return {"out": out_dir, "notebooks": notebooks, "public_points": total}


def add_arguments(parser):
    parser.add_argument("assignment", type=assignment_folder, help="assignment folder (holds assignment.toml)")
    parser.add_argument("--out", required=True, type=output_folder, metavar="DIR", help="new (or empty) folder for the student bundle")


def run(args):
    try:
        summary = release(args.assignment, args.out)
    except (ReleaseError, OSError) as exc:
        print(f"cs231n-pool release: {exc}", file=sys.stderr)
        return 1
    print(f"Released {args.assignment} to {summary['out']}: the stub scores 0/{summary['public_points']:g} "
          f"and the solution {summary['public_points']:g}/{summary['public_points']:g} on the public tests; "
          f"{len(summary['notebooks'])} notebook(s); no solution text or hidden test in the bundle.")
    return 0
