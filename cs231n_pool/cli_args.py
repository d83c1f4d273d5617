"""Argument types and the one error convention of the `cs231n-pool` command.

Every mistake in how a subcommand was called (a missing or wrong path, a folder
without ``assignment.toml``, an output path of the wrong kind, a bad option
value) is reported as one line naming the argument and the value, with exit
status 2. The types below raise ``argparse.ArgumentTypeError`` while parsing;
a subcommand that finds such a mistake later raises ``UsageError``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

CONFIG_NAME = "assignment.toml"

EXIT_STATUSES = """exit status:
  0  the job completed (a graded submission exits 0 whatever its score)
  1  the job ran and found a failure (a gradient check or a release self-check
     failed, or some submission could not be graded)
  2  a usage mistake: a missing or wrong path, a folder without assignment.toml,
     an output path of the wrong kind, or a bad option value"""


class UsageError(ValueError):
    """The command was called wrongly; the message names the argument and its value."""


def assignment_folder(text: str) -> Path:
    """An existing folder that holds ``assignment.toml``."""
    path = existing_folder(text)
    if not (path / CONFIG_NAME).is_file():
        raise argparse.ArgumentTypeError(f"{text!r} has no {CONFIG_NAME}")
    return path


def existing_folder(text: str) -> Path:
    path = existing_path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is not a folder")
    return path


def existing_path(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text!r} does not exist")
    return path


def output_file(text: str) -> Path:
    """A file to write: not a folder, and its folder exists."""
    path = Path(text)
    if text.endswith(os.sep) or path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file name")
    if not path.resolve().parent.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: the folder {str(path.parent)!r} does not exist")
    return path


def output_folder(text: str) -> Path:
    """A folder to write into: not an existing file."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a folder")
    return path


def require(module: str, extra: str, what: str) -> None:
    """Import `module` now, or say in one line which extra installs it (before any work is done)."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        raise UsageError(f"{what} needs {module}: pip install 'cs231n_pool[{extra}]'") from None


def positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    """A number of type `kind` (int or float) that must be > 0."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be a positive {kind.__name__}, got {text!r}")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse
