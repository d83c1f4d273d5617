"""The graded exercises of the notebooks: their code, taken out of your notebooks and tested.

A notebook exercise is a function you write in a notebook cell tagged ``your-code`` (for
example ``output_size`` in 01_pooling_forward.ipynb). ``assignment.toml`` lists the graded
ones under ``[notebook_exercises]``, with the notebook each lives in and the points of its
public and hidden test. To test one, :func:`exercise_source` builds a Python file from the
notebook: the imports of numpy and the standard library, the function, and the functions and
classes it uses that the notebook defines, in notebook order; nothing else of the notebook
runs (no check cell, no plot, no training). That file runs in a separate process, like your
pooling_layers.py.

Loaded as a pytest plugin, this module gives a graded test marked
``@pytest.mark.notebook_exercise("NAME")`` its points from ``assignment.toml`` and provides
the ``exercise`` fixture: ``exercise.session()`` starts a process running the exercise file.
"""

import ast
import json
import os
import sys

import pytest

from .config import CONFIG_NAME, assignment_root, read_config

YOUR_CODE = "your-code"
SECTION = "notebook_exercises"
MAX_NOTEBOOK_BYTES = 20 << 20  # a notebook larger than this is not read
ALLOWED_IMPORTS = frozenset(sys.stdlib_module_names) | {"numpy"}


class ExerciseNotFoundError(AssertionError):
    """The notebook, or the exercise's function in it, is not in the submission."""


def _cells(path):
    """[(number, source)] of the code cells of a notebook, and the numbers of the your-code ones."""
    if not os.path.isfile(path):
        raise ExerciseNotFoundError(f"the submission has no {os.path.basename(path)}")
    if os.path.getsize(path) > MAX_NOTEBOOK_BYTES:
        raise ExerciseNotFoundError(f"{os.path.basename(path)} is larger than {MAX_NOTEBOOK_BYTES >> 20} MB")
    try:
        with open(path, encoding="utf-8") as f:
            cells = json.load(f)["cells"]
        code, tagged = [], set()
        for number, cell in enumerate(cells):
            if cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            code.append((number, "".join(source) if isinstance(source, list) else str(source)))
            if YOUR_CODE in (cell.get("metadata", {}).get("tags") or []):
                tagged.add(number)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ExerciseNotFoundError(f"{os.path.basename(path)} is not a readable notebook ({exc})") from None
    return code, tagged


def _parse(source):
    """The module of a cell's source (IPython magics and shell lines left out), or None."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # a cell nested too deep is not code
        return None


def _importable(node):
    """An import of numpy or the standard library (the only modules the exercise file may use)."""
    if isinstance(node, ast.ImportFrom):
        if node.level:
            return False
        names = [node.module or ""]
    else:
        names = [alias.name for alias in node.names]
    return all(n.partition(".")[0] in ALLOWED_IMPORTS for n in names)


def _used_names(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def exercise_source(path, name):
    """Python source of the exercise ``name`` of the notebook at ``path``; ExerciseNotFoundError when absent.

    ``name`` must be defined (``def name``) in a ``your-code`` cell; the file holds the imports
    of numpy and the standard library of every cell, then the last definition of ``name`` and
    of each function or class it uses, directly or not, in notebook order."""
    notebook = os.path.basename(path)
    code, tagged = _cells(path)
    imports, defined = [], {}  # defined: name -> (cell number, position, node)
    position = 0
    for number, source in code:
        tree = _parse(source)
        for node in tree.body if tree is not None else []:
            position += 1
            if isinstance(node, (ast.Import, ast.ImportFrom)) and _importable(node):
                imports.append(node)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                if node.name == name and number not in tagged:
                    continue  # only a your-code cell holds the exercise
                defined[node.name] = (number, position, node)
    if name not in defined:
        raise ExerciseNotFoundError(f"{notebook} defines no function {name} in a cell tagged {YOUR_CODE!r}")
    wanted, frontier = set(), {name}
    while frontier:
        wanted |= frontier
        frontier = {used for n in frontier for used in _used_names(defined[n][2]) if used in defined} - wanted
    parts = [f'"""The exercise {name} of {notebook}, as the grader runs it."""']
    parts += [ast.unparse(node) for node in imports]
    for number, _, node in sorted((defined[n] for n in wanted), key=lambda item: item[1]):
        parts.append(f"\n\n# {notebook}, cell {number + 1}\n" + ast.unparse(node))
    return "\n".join(parts) + "\n"


# --- the pytest plugin ------------------------------------------------------------------------------


def graded_exercises(root):
    """{name: {"notebook", "public", "hidden"}} from the [notebook_exercises] of root/assignment.toml."""
    table = read_config(root).get(SECTION, {})
    exercises = {}
    for name, entry in table.items():
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("notebook"), str)
            and all(isinstance(entry.get(k), (int, float)) and entry[k] > 0 for k in ("public", "hidden"))
        ):
            raise pytest.UsageError(
                f"{root}/{CONFIG_NAME}: [{SECTION}] {name} = {entry!r} needs notebook = "
                f'"NAME.ipynb" and positive public and hidden points'
            )
        exercises[name] = entry
    return exercises


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "notebook_exercise(name): tests the notebook exercise `name` of assignment.toml; its points come from there",
    )


def _hidden(item):
    return "hidden" in os.path.relpath(str(item.path), assignment_root(item.path)).split(os.sep)[:-1]


def pytest_collection_modifyitems(items):
    """Give each notebook-exercise test the points assignment.toml sets for it."""
    for item in items:
        marker = item.get_closest_marker("notebook_exercise")
        if marker is None:
            continue
        exercises = graded_exercises(assignment_root(item.path))
        name = marker.args[0]
        if name not in exercises:
            raise pytest.UsageError(f"{item.nodeid}: {name!r} is not listed under [{SECTION}] in {CONFIG_NAME}")
        item.add_marker(pytest.mark.points(exercises[name]["hidden" if _hidden(item) else "public"]))


class Exercise:
    """One notebook exercise of the submission; ``session()`` runs its file in a separate process."""

    def __init__(self, submission, folder, name, notebook, tmp_dir):
        self.submission, self.folder, self.name, self.notebook, self.tmp_dir = (
            submission,
            folder,
            name,
            notebook,
            tmp_dir,
        )

    def session(self, append=""):
        """A session on the exercise file, with the grader's code ``append`` at its end (a function
        defined there replaces the notebook's function of that name)."""
        __tracebackhide__ = True
        try:
            source = exercise_source(os.path.join(self.folder, self.notebook), self.name)
        except ExerciseNotFoundError as exc:  # a plain AssertionError: the message is all the student needs
            raise AssertionError(
                f"notebook exercise {self.name}: {exc}; it scores 0. Hand in the notebooks "
                f"with your pooling_layers.py (python submit.py puts them in submission.zip)"
            ) from None
        if append:
            source += "\n\n# added by the grader\n" + append
        path = os.path.join(self.tmp_dir, os.path.splitext(self.notebook)[0].replace("-", "_") + ".py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        sub = self.submission
        return type(sub)(path, sub.limits, sub.forbidden).session()


@pytest.fixture
def exercise(request, submission, tmp_path):
    """The notebook exercise named by the test's notebook_exercise marker, in the submission's folder."""
    name = request.node.get_closest_marker("notebook_exercise").args[0]
    folder = os.path.dirname(getattr(submission, "student_file", None) or submission.path)
    notebook = graded_exercises(assignment_root(request.path))[name]["notebook"]
    return Exercise(submission, folder, name, notebook, str(tmp_path))
