"""The files every autograder bundle carries, whatever the platform.

- the assignment's ``assignment.toml`` and ``tests/`` (public and hidden; never the solution);
- the installer: ``install_kit.sh`` and the pinned ``requirements.txt`` (templates/);
- the kit: a copy of the importable ``cs231n_pool`` package (its ``.py``, ``.pyx`` and ``.h`` files, no
  build products) with its own build recipe (templates/kit/), so a bundle can be built from a
  wheel install of the kit as well as from a source checkout.

Templates are real files under templates/; ``@NAME@`` marks a value filled in here.
"""

import importlib.metadata
import json
import os
import re
import sys
import zipfile

from ..cli_args import UsageError
from .grade import SKIP_DIRS, grading_files, snapshot_tree

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KIT_SKIP_SUFFIXES = (".so", ".pyd", ".o", ".c", ".html", ".pyc")
PLACEHOLDER = re.compile(r"@[A-Z_]+@")
EXTRA_MARKER = re.compile(r"\bextra\s*==")
EXECUTABLE = 0o755


class BundleError(RuntimeError):
    """The bundle cannot be built in this environment."""


def template(name, **values):
    """The text of templates/`name` with each ``@KEY@`` replaced by ``values[KEY]``."""
    with open(os.path.join(TEMPLATES, name), encoding="utf-8") as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace(f"@{key}@", str(value))
    left = PLACEHOLDER.search(text)
    if left:
        raise ValueError(f"template {name!r} still has {left.group()} after filling in {sorted(values)}")
    return text


def assignment_files(cfg):
    """{relative path: bytes} of assignment.toml and tests/ (conftest, public and hidden)."""
    files = grading_files(snapshot_tree(cfg.root))
    if not any(rel.split(os.sep)[:2] == ["tests", "hidden"] for rel in files):
        print(f"cs231n-pool autograder: note: {cfg.tests_dir} has no hidden tests", file=sys.stderr)
    return {rel.replace(os.sep, "/"): data for rel, data in files.items()}


def _kit_dependencies():
    """The kit's own requirements (no extras), read from its installed metadata."""
    requires = importlib.metadata.requires("cs231n_pool") or []
    return [r for r in requires if not EXTRA_MARKER.search(r)]


def kit_files():
    """{path inside kit/: bytes}: the importable cs231n_pool package and the kit's build recipe."""
    try:
        version = importlib.metadata.version("cs231n_pool")
        dependencies = _kit_dependencies()
    except importlib.metadata.PackageNotFoundError:
        raise BundleError(
            "cs231n_pool is not installed (no package metadata); install the kit with pip to build an autograder"
        ) from None
    files = {}
    for folder, dirs, names in os.walk(PACKAGE_DIR):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(names):
            if name.endswith(KIT_SKIP_SUFFIXES):
                continue
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                files["cs231n_pool/" + os.path.relpath(path, PACKAGE_DIR).replace(os.sep, "/")] = f.read()
    files["pyproject.toml"] = template(
        "kit/pyproject.toml.in", VERSION=version, DEPENDENCIES=json.dumps(dependencies)
    ).encode()
    files["setup.py"] = template("kit/setup.py").encode()
    return files


def installer_files():
    """{path: (bytes, mode)}: install_kit.sh, requirements.txt and kit/, as install_kit.sh expects them."""
    files = {
        "install_kit.sh": (template("install_kit.sh").encode(), EXECUTABLE),
        "requirements.txt": (template("requirements.txt").encode(), 0o644),
    }
    files.update({"kit/" + rel: (data, 0o644) for rel, data in kit_files().items()})
    return files


def write_zip(path, files):
    """Write {name: (bytes, mode)} as a zip with fixed timestamps (the same input gives the same zip)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, (data, mode) in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100000 | mode) << 16
            zf.writestr(info, data)


def write_folder(root, files):
    """Write {relative path: (bytes, mode)} under root, which must be new or empty."""
    if os.path.exists(root) and (not os.path.isdir(root) or os.listdir(root)):
        raise UsageError(f"--out {root!r} exists and is not an empty folder; choose a new one")
    for rel, (data, mode) in sorted(files.items()):
        path = os.path.join(root, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
