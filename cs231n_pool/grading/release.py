"""`cs231n-pool release ASSIGNMENT --out DIR`: write the student bundle and check it.

The bundle::

    DIR/<student_file>       every ### BEGIN SOLUTION ... ### END SOLUTION block replaced by a
                             TODO comment and `raise NotImplementedError`, at the block's indent
    DIR/assignment.toml      limits and forbidden imports, read by the bundle's test plugin
    DIR/tests/public/...     the public tests only
    DIR/<package>/           every package folder of the assignment's tests/ (a folder with an
                             __init__.py, e.g. tests/pooltools: the helpers its tests and
                             notebooks import), at the bundle root so notebooks import it too
    DIR/...                  the assignment's bundle/ folder copied over the top (e.g. the
                             bundle's own tests/conftest.py and pytest.ini, requirements.txt,
                             submit.py); without one, tests/conftest.py and a pytest.ini that
                             runs tests/
    DIR/pooltools/expected.npz   when the bundle has a pooltools package: the expected value of
                             every call its public tests and notebook checks make, computed by
                             the library now (cs231n_pool.grading.checks)
    DIR/*.ipynb              the notebooks, outputs cleared, solution blocks replaced the same way
    DIR/README.md            the student README (from README_student.md in the assignment folder)

The configured notebooks folder must exist and hold at least one notebook (a missing folder
is an error, not a bundle without notebooks).

The command then verifies its own result and exits non-zero with the reason when any check
fails: the stub imports; pytest at the bundle root scores 0 on the stub and full marks with
the solution (with the solved notebooks, whose exercises have public tests too); no solution
marker, no line of a solution block, no hidden test and nothing of the grader's diagnosis
(cs231n_pool.grading.diagnosis) is left in DIR; no file but the stub defines a function, class
or name the stub asks the student to write.
"""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from ..cli_args import CONFIG_NAME, UsageError, assignment_folder, output_folder
from .config import load_config
from .grade import SKIP_DIRS

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
MARKER_TEXT = ("BEGIN SOLUTION", "END SOLUTION")
SCORE_LINE = re.compile(r"^Score: (\S+)/(\S+)$", re.MULTILINE)
BUNDLE_PYTEST_INI = "[pytest]\ntestpaths = tests\n"
OVERLAY_DIR = "bundle"  # copied over the bundle's root
EXPECTED_PACKAGE = "pooltools"  # a bundled package of this name gets expected.npz
EXPECTED_FILE = "expected.npz"
MIN_SOLUTION_LINE = 30  # solution lines at least this long must not appear in the bundle


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
        template = (
            "# {title}\n\nImplement `{student_file}`, then run `pytest` in this folder: its last line is "
            "your score on the public tests, `Score: 0/{points}` until you start.\n"
            "The tests need the cs231n_pool kit installed (the copy your instructor gives you).\n"
        )
    return template.format(
        title=cfg.title,
        name=cfg.name,
        student_file=cfg.student_file,
        points=total_points,
        forbidden=", ".join(f"`{m}`" for m in cfg.forbidden),
    )


def _copy_tree(src, dest):
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(*SKIP_DIRS))


def _notebook_paths(cfg):
    """The notebooks to ship, sorted; ReleaseError when a configured folder is missing or empty."""
    if not cfg.notebooks:
        return []
    if not os.path.isdir(cfg.notebooks):
        raise ReleaseError(f"the notebooks folder {cfg.notebooks!r} set in {cfg.root}/assignment.toml does not exist")
    names = sorted(name for name in os.listdir(cfg.notebooks) if name.endswith(".ipynb"))
    if not names:
        raise ReleaseError(f"the notebooks folder {cfg.notebooks!r} set in {cfg.root}/assignment.toml holds no .ipynb")
    return [os.path.join(cfg.notebooks, name) for name in names]


def helper_packages(cfg):
    """Names of the package folders (holding __init__.py) directly in the assignment's tests/."""
    return sorted(
        name for name in os.listdir(cfg.tests_dir) if os.path.isfile(os.path.join(cfg.tests_dir, name, "__init__.py"))
    )


def write_bundle(cfg, out_dir):
    """Write the bundle files into out_dir (which must be empty or absent); returns the notebook names."""
    if os.path.exists(out_dir) and (not os.path.isdir(out_dir) or os.listdir(out_dir)):
        raise UsageError(f"--out {str(out_dir)!r} exists and is not an empty folder; choose a new one")
    notebook_paths = _notebook_paths(cfg)
    os.makedirs(out_dir, exist_ok=True)
    with open(cfg.solution_path, encoding="utf-8") as f:
        stub = stub_source(f.read(), cfg.student_file)
    with open(os.path.join(out_dir, cfg.student_file), "w", encoding="utf-8") as f:
        f.write(stub)
    shutil.copyfile(os.path.join(cfg.root, CONFIG_NAME), os.path.join(out_dir, CONFIG_NAME))
    os.makedirs(os.path.join(out_dir, "tests"))
    _copy_tree(os.path.join(cfg.tests_dir, "public"), os.path.join(out_dir, "tests", "public"))
    for name in helper_packages(cfg):
        _copy_tree(os.path.join(cfg.tests_dir, name), os.path.join(out_dir, name))
    overlay = os.path.join(cfg.root, OVERLAY_DIR)
    if os.path.isdir(overlay):
        shutil.copytree(overlay, out_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*SKIP_DIRS))
    else:
        shutil.copyfile(os.path.join(cfg.tests_dir, "conftest.py"), os.path.join(out_dir, "tests", "conftest.py"))
        with open(os.path.join(out_dir, "pytest.ini"), "w") as f:
            f.write(BUNDLE_PYTEST_INI)
    for path in notebook_paths:
        name = os.path.basename(path)
        with open(path, encoding="utf-8") as f:
            text = stub_notebook(f.read(), name)
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            f.write(text)
    return [os.path.basename(path) for path in notebook_paths]


# --- checking ----------------------------------------------------------------------------------


def _bundle_env(submission_dir=None):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTEST_") and k not in ("CS231N_POOL_SUBMISSION", "POOLTOOLS_SUBMISSION")
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if submission_dir is not None:  # the kit's plugin and the bundle's own plugin
        env["CS231N_POOL_SUBMISSION"] = env["POOLTOOLS_SUBMISSION"] = submission_dir
    return env


def _run_bundle_pytest(out_dir, submission_dir=None, extra=()):
    """pytest at the bundle root (as a student runs it); returns (score, total, output)."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--color=no", *extra],
        cwd=out_dir,
        env=_bundle_env(submission_dir),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    scores = SCORE_LINE.findall(proc.stdout)
    if not scores:
        raise ReleaseError(
            f"pytest at the bundle root printed no Score line (status {proc.returncode}):\n"
            f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        )
    score, total = (float(v) for v in scores[-1])
    return score, total, proc.stdout


def _solution_folder(cfg, tmp):
    """tmp holding the solution file and the solved notebooks (their exercises are graded too)."""
    shutil.copyfile(cfg.solution_path, os.path.join(tmp, cfg.student_file))
    for path in _notebook_paths(cfg):
        shutil.copyfile(path, os.path.join(tmp, os.path.basename(path)))
    return tmp


def write_expected(cfg, out_dir):
    """Compute expected.npz of the bundle's pooltools: run its public tests on the solution, recording."""
    package = os.path.join(out_dir, EXPECTED_PACKAGE)
    if not os.path.isdir(package):
        return None
    path = os.path.join(package, EXPECTED_FILE)
    with tempfile.TemporaryDirectory() as solved:
        score, total, output = _run_bundle_pytest(
            out_dir, _solution_folder(cfg, solved), ("-p", "cs231n_pool.grading.checks", "--record-expected", path)
        )
    if score != total or not os.path.isfile(path):
        raise ReleaseError(f"recording the expected values: the solution scores {score:g}/{total:g}:\n{output[-3000:]}")
    with np.load(path, allow_pickle=False) as data:
        return len(data.files)


def graded_names(cfg):
    """Top-level functions and classes of the solution file: what the student writes."""
    with open(cfg.solution_path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def _defined_names(source):
    """Names a Python source defines anywhere: def, class, assignment targets and import aliases."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]  # IPython magics
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
    return names


def _bundle_sources(out_dir, student_file):
    """(relative path, Python source) of every .py file and notebook code cell, the stub excepted."""
    for folder, dirs, names in os.walk(out_dir):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in sorted(names):
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, out_dir)
            if name.endswith(".py") and rel != student_file:
                with open(path, encoding="utf-8") as f:
                    yield rel, f.read()
            elif name.endswith(".ipynb"):
                with open(path, encoding="utf-8") as f:
                    cells = json.load(f).get("cells", [])
                for number, cell in enumerate(cells):
                    if cell.get("cell_type") == "code":
                        source = cell.get("source", "")
                        yield f"{rel}, cell {number}", "".join(source) if isinstance(source, list) else source


def _solution_lines(cfg):
    """The longer lines inside the solution blocks of the solution file and the notebooks, stripped.

    A line that the instructor's sources also show outside every solution block (e.g. a formula
    used in a notebook's demo code) is not secret, and is left out."""
    sources = []
    with open(cfg.solution_path, encoding="utf-8") as f:
        sources.append(f.read())
    for path in _notebook_paths(cfg):
        with open(path, encoding="utf-8") as f:
            for cell in json.load(f).get("cells", []):
                if cell.get("cell_type") == "code":
                    source = cell.get("source", "")
                    sources.append("".join(source) if isinstance(source, list) else source)
    inside_lines, outside_lines = set(), set()
    for source in sources:
        inside = False
        for line in source.splitlines():
            text = line.strip()
            if text in (BEGIN, END):
                inside = text == BEGIN
            elif len(text) >= MIN_SOLUTION_LINE and not text.startswith("#"):
                (inside_lines if inside else outside_lines).add(text)
    return sorted(inside_lines - outside_lines)


def _diagnosis_texts():
    """What the grader's diagnosis module would leave behind if it were shipped: its name, the
    ``Likely cause:`` prefix and the start of each cause it names."""
    from . import diagnosis

    return [diagnosis.PREFIX.strip(), "grading.diagnosis"] + sorted(
        {line[len(diagnosis.PREFIX) :][:40] for line in diagnosis.causes().values()}
    )


def check_contents(cfg, out_dir):
    """No solution marker or solution line in the bundle, no hidden test, nothing of the grader's
    diagnosis, no graded name defined but in the stub."""
    diagnosis_texts = [text.encode() for text in _diagnosis_texts()]
    hidden_bytes = set()
    for folder, _, names in os.walk(os.path.join(cfg.tests_dir, "hidden")):
        for name in names:
            with open(os.path.join(folder, name), "rb") as f:
                hidden_bytes.add(f.read())
    solution_lines = [line.encode() for line in _solution_lines(cfg)]
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
            leaked = next((line for line in solution_lines if line in data), None)
            if leaked is not None:
                raise ReleaseError(f"{rel} contains a line of the solution: {leaked.decode()!r}")
            leaked = next((text for text in diagnosis_texts if text in data), None)
            if leaked is not None or name == "diagnosis.py":
                raise ReleaseError(
                    f"{rel} contains the grader's diagnosis of failed checks: {(leaked or name.encode()).decode()!r}"
                )
    graded = graded_names(cfg)
    for where, source in _bundle_sources(out_dir, cfg.student_file):
        defined = sorted(_defined_names(source) & graded)
        if defined:
            raise ReleaseError(f"{where} defines {', '.join(defined)}, which the student is asked to write")
    return sorted(graded)


def check_scores(cfg, out_dir):
    """The stub imports and scores 0; the solution scores full marks. Returns the public total."""
    module = os.path.splitext(cfg.student_file)[0]
    proc = subprocess.run(
        [sys.executable, "-B", "-c", f"import {module}"], cwd=out_dir, capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0:
        raise ReleaseError(f"the stub {cfg.student_file} does not import:\n{proc.stderr[-3000:]}")
    score, total, output = _run_bundle_pytest(out_dir)
    if total <= 0:
        raise ReleaseError(f"the bundle has no graded public tests:\n{output[-3000:]}")
    if score != 0:
        raise ReleaseError(f"the stub scores {score:g}/{total:g}, expected 0:\n{output[-3000:]}")
    with tempfile.TemporaryDirectory() as solved:
        score, total_solved, output = _run_bundle_pytest(out_dir, _solution_folder(cfg, solved))
    if score != total_solved or total_solved != total:
        raise ReleaseError(
            f"the solution scores {score:g}/{total_solved:g} on the public tests, expected "
            f"{total:g}/{total:g}:\n{output[-3000:]}"
        )
    return total


def release(assignment_dir, out_dir):
    """Write and check the student bundle; returns a summary dict. Raises ReleaseError/ConfigError."""
    cfg = load_config(assignment_dir)
    out_dir = os.path.abspath(out_dir)
    notebooks = write_bundle(cfg, out_dir)
    expected_values = write_expected(cfg, out_dir)
    total = check_scores(cfg, out_dir)
    with open(os.path.join(out_dir, "README.md"), "w", encoding="utf-8") as f:
        f.write(_readme(cfg, f"{total:g}"))
    graded = check_contents(cfg, out_dir)
    return {
        "out": out_dir,
        "notebooks": notebooks,
        "public_points": total,
        "expected_values": expected_values,
        "graded": graded,
        "student_file": cfg.student_file,
    }


def add_arguments(parser):
    parser.add_argument("assignment", type=assignment_folder, help="assignment folder (holds assignment.toml)")
    parser.add_argument(
        "--out", required=True, type=output_folder, metavar="DIR", help="new (or empty) folder for the student bundle"
    )


def run(args):
    try:
        summary = release(args.assignment, args.out)
    except (ReleaseError, OSError) as exc:
        print(f"cs231n-pool release: {exc}", file=sys.stderr)
        return 1
    stored = "" if summary["expected_values"] is None else f"{summary['expected_values']} expected values stored; "
    print(
        f"Released {args.assignment} to {summary['out']}: the stub scores 0/{summary['public_points']:g} "
        f"and the solution {summary['public_points']:g}/{summary['public_points']:g} on the public tests; "
        f"{len(summary['notebooks'])} notebook(s); {stored}no solution text, hidden test or diagnosis in the bundle, "
        f"and no file but {summary['student_file']} defines {', '.join(summary['graded'])}."
    )
    return 0
