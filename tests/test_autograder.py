"""The Gradescope bundle: build it, unpack it into a fake /autograder tree, run run_autograder.

setup.sh (pip installs) is not executed here, only checked with `bash -n`; the kit is already
installed in this environment, which run_autograder uses through AUTOGRADER_PYTHON.
"""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
POOLING = REPO / "assignments" / "pooling"
SOLUTION = POOLING / "pooling_layers.py"


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("autograder") / "autograder.zip"
    result = subprocess.run([sys.executable, "-m", "cs231n_pool.cli", "autograder", str(POOLING), "--out", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return out


def fake_autograder_root(tmp_path, autograder_zip, submission_source):
    root = tmp_path / "autograder"
    source = root / "source"
    with zipfile.ZipFile(autograder_zip) as zf:
        zf.extractall(source)
    (root / "submission").mkdir()
    (root / "submission" / "pooling_layers.py").write_text(submission_source)
    return root


def run_autograder(root):
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable)
    return subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, cwd=root,
                          capture_output=True, text=True, timeout=900)


def test_bundle_layout(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as zf:
        names = zf.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in zf.infolist()}
        contents = {name: zf.read(name) for name in names}
    assert {"setup.sh", "run_autograder", "requirements.txt", "assignment/assignment.toml",
            "assignment/tests/conftest.py", "kit/pyproject.toml", "kit/setup.py",
            "kit/cs231n_pool/grading/sandbox.py"} <= set(names)
    assert any(n.startswith("assignment/tests/hidden/test_") for n in names)
    assert any(n.startswith("assignment/tests/public/test_") for n in names)
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert not any(n.endswith((".so", ".c")) or "__pycache__" in n for n in names)
    # The instructor's solution is not in the bundle.
    assert not any(b"BEGIN SOLUTION" in data for name, data in contents.items() if not name.startswith("kit/"))
    assert "assignment/pooling_layers.py" not in names


def test_scripts_are_valid_bash(autograder_zip, tmp_path):
    with zipfile.ZipFile(autograder_zip) as zf:
        zf.extractall(tmp_path)
    for script in ("setup.sh", "run_autograder"):
        result = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


def test_run_autograder_grades_the_solution(autograder_zip, tmp_path):
    root = fake_autograder_root(tmp_path, autograder_zip, SOLUTION.read_text())
    result = run_autograder(root)
    assert result.returncode == 0, result.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    total = sum(t["max_score"] for t in results["tests"])
    assert total > 0 and results["score"] == total
    assert {t["visibility"] for t in results["tests"]} == {"visible", "after_published"}
    assert all(t["status"] == "passed" for t in results["tests"])


def test_run_autograder_when_the_assignment_is_broken(autograder_zip, tmp_path):
    root = fake_autograder_root(tmp_path, autograder_zip, "")
    (root / "source" / "assignment" / "assignment.toml").unlink()
    result = run_autograder(root)
    assert result.returncode == 0
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and "contact the course staff" in results["output"]
