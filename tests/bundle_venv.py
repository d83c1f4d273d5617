"""Helpers for the tests of the student bundle: a released bundle and a fresh venv holding only
the bundle's requirements.txt (pip's cache makes the second one fast)."""

import shutil
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
POOLING = REPO / "assignments" / "pooling"
SOLUTION = POOLING / "pooling_layers.py"


def kit_command(*args):
    """`cs231n-pool ARGS` with this interpreter's kit."""
    script = Path(sys.executable).with_name("cs231n-pool")
    return ([str(script)] if script.exists() else [sys.executable, "-m", "cs231n_pool.cli"]) + [str(a) for a in args]


def release(out: Path) -> Path:
    result = subprocess.run(
        kit_command("release", POOLING, "--out", out), cwd=REPO, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, f"release failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return out


def solved_copy(bundle: Path, dest: Path, notebooks: bool = True) -> Path:
    """The bundle with the solution as the student file and, unless notebooks is False, the solved
    notebooks (their exercises are graded too)."""
    shutil.copytree(bundle, dest)
    shutil.copy(SOLUTION, dest / "pooling_layers.py")
    for path in (REPO / "notebooks").glob("*.ipynb") if notebooks else ():
        shutil.copy(path, dest / path.name)
    return dest


def fresh_venv(folder: Path, bundle: Path) -> Path:
    """A new venv with `pip install -r requirements.txt` of the bundle; returns its python."""
    venv.create(folder, with_pip=True)
    python = folder / "bin" / "python"
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(bundle / "requirements.txt")],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, f"pip install -r requirements.txt failed:\n{result.stdout}\n{result.stderr}"
    return python


def bundle_env():
    """Environment for running the bundle: nothing of the kit's test run leaks in."""
    import os

    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "CS231N_POOL", "POOLTOOLS")) and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
