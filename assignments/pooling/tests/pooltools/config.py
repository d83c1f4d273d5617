"""The assignment's settings file: finding it above a test, and reading it."""

import os
import sys

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

CONFIG_NAME = "assignment.toml"


def assignment_root(path):
    """The nearest folder at or above `path`'s folder that holds assignment.toml."""
    folder = os.path.dirname(os.path.abspath(str(path)))
    while not os.path.isfile(os.path.join(folder, CONFIG_NAME)):
        parent = os.path.dirname(folder)
        if parent == folder:
            raise pytest.UsageError(f"no {CONFIG_NAME} above {path}")
        folder = parent
    return folder


def read_config(root):
    """The parsed assignment.toml of the assignment folder `root`."""
    with open(os.path.join(root, CONFIG_NAME), "rb") as f:
        return tomllib.load(f)
