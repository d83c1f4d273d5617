"""The assignment folder and its `assignment.toml`.

Layout of an assignment folder::

    assignment.toml           names, limits, forbidden imports (this module reads it)
    <student_file>            the solution, with ### BEGIN SOLUTION / ### END SOLUTION blocks
    tests/conftest.py         pytest_plugins = ["cs231n_pool.grading.pytest_plugin"]
    tests/public/test_*.py    shipped to students
    tests/hidden/test_*.py    never shipped
"""

import os
import sys
from dataclasses import dataclass, field

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

from ..cli_args import CONFIG_NAME, UsageError
from .sandbox import Limits


class ConfigError(UsageError):
    """The assignment folder or its config is not usable."""


@dataclass(frozen=True)
class AssignmentConfig:
    root: str  # absolute path of the assignment folder
    name: str
    title: str
    student_file: str  # file name, relative to the assignment / submission folder
    notebooks: str | None  # absolute path of the notebooks folder (may not exist)
    limits: Limits
    forbidden: tuple = field(default_factory=tuple)
    graded_notebooks: tuple = ()  # the notebooks of [notebook_exercises], whose exercises are graded

    @property
    def tests_dir(self):
        return os.path.join(self.root, "tests")

    @property
    def solution_path(self):
        return os.path.join(self.root, self.student_file)


def find_assignment_root(start):
    """The nearest folder at or above `start` that holds an assignment.toml, or None."""
    path = os.path.abspath(start)
    if os.path.isfile(path):
        path = os.path.dirname(path)
    while True:
        if os.path.isfile(os.path.join(path, CONFIG_NAME)):
            return path
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def load_config(assignment_dir):
    """Read `assignment_dir/assignment.toml`; raises ConfigError with the reason."""
    root = os.path.abspath(assignment_dir)
    path = os.path.join(root, CONFIG_NAME)
    if not os.path.isfile(path):
        raise ConfigError(f"assignment_dir={assignment_dir!r} has no {CONFIG_NAME}")
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    section = data.get("assignment", {})
    limits = data.get("limits", {})
    name = section.get("name") or os.path.basename(root)
    student_file = section.get("student_file")
    if not isinstance(student_file, str) or os.path.basename(student_file) != student_file:
        raise ConfigError(f"{path}: [assignment] student_file={student_file!r} must be a plain file name")
    notebooks = section.get("notebooks")
    defaults = Limits()
    try:
        parsed_limits = Limits(
            timeout=float(limits.get("timeout", defaults.timeout)),
            memory_mb=int(limits.get("memory_mb", defaults.memory_mb)),
            output_bytes=int(limits.get("output_bytes", defaults.output_bytes)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: bad [limits] value: {exc}") from None
    if parsed_limits.timeout <= 0 or parsed_limits.memory_mb <= 0 or parsed_limits.output_bytes <= 0:
        raise ConfigError(f"{path}: [limits] must be positive, got {limits!r}")
    exercises = data.get("notebook_exercises", {})
    if not isinstance(exercises, dict) or not all(
        isinstance(e, dict) and isinstance(e.get("notebook"), str) for e in exercises.values()
    ):
        raise ConfigError(f'{path}: [notebook_exercises] must map each exercise to {{ notebook = "NAME.ipynb", ... }}')
    forbidden = data.get("imports", {}).get("forbidden", [])
    if not isinstance(forbidden, list) or not all(isinstance(m, str) for m in forbidden):
        raise ConfigError(f"{path}: [imports] forbidden={forbidden!r} must be a list of module names")
    return AssignmentConfig(
        root=root,
        name=name,
        title=section.get("title", name),
        student_file=student_file,
        notebooks=os.path.normpath(os.path.join(root, notebooks)) if notebooks else None,
        limits=parsed_limits,
        forbidden=tuple(forbidden),
        graded_notebooks=tuple(sorted({e["notebook"] for e in exercises.values()})),
    )
