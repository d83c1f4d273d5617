"""The Gradescope autograder: build the zip with the real command, unpack it into a fake
/autograder tree, and run run_autograder there.

setup.sh itself (a fresh venv from PyPI) runs in tests/test_platforms_fresh_venv.py; here
run_autograder grades with this environment's interpreter, through AUTOGRADER_PYTHON.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from platform_schemas import check_gradescope

from cs231n_pool.grading.bundle import template
from cs231n_pool.grading.release import stub_source
from cs231n_pool.grading.results import GRADER_FAILED

REPO = Path(__file__).resolve().parents[1]
POOLING = REPO / "assignments" / "pooling"
SOLUTION = POOLING / "pooling_layers.py"


def cli(*args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "cs231n_pool.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs,
    )


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("autograder") / "autograder.zip"
    result = cli("autograder", POOLING, "--out", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        f"Wrote {out}: setup.sh, run_autograder, install_kit.sh, requirements.txt, 12 test files, the cs231n_pool kit ("
    )
    return out


def fake_autograder_root(tmp_path, autograder_zip, submission_source):
    root = tmp_path / "autograder"
    with zipfile.ZipFile(autograder_zip) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir()
    if submission_source is not None:
        (root / "submission" / "pooling_layers.py").write_text(submission_source)
    return root


def run_autograder(root, python=sys.executable):
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=str(python))
    return subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
    )


def read_results(root):
    data = json.loads((root / "results" / "results.json").read_text())
    check_gradescope(data)
    return data


def test_bundle_layout(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as zf:
        names = zf.namelist()
        modes = {info.filename: info.external_attr >> 16 & 0o777 for info in zf.infolist()}
        contents = {name: zf.read(name) for name in names}
    assert {
        "setup.sh",
        "run_autograder",
        "install_kit.sh",
        "requirements.txt",
        "assignment/assignment.toml",
        "assignment/tests/conftest.py",
        "kit/pyproject.toml",
        "kit/setup.py",
        "kit/cs231n_pool/grading/sandbox.py",
        "kit/cs231n_pool/_im2col.pyx",
    } <= set(names)
    assert any(n.startswith("assignment/tests/hidden/test_") for n in names)
    assert any(n.startswith("assignment/tests/public/test_") for n in names)
    assert {n for n, mode in modes.items() if mode == 0o755} == {"setup.sh", "run_autograder", "install_kit.sh"}
    assert not any(n.endswith((".so", ".c", ".pyc")) or "__pycache__" in n for n in names)
    # The instructor's solution is not in the bundle.
    assert not any(b"BEGIN SOLUTION" in data for name, data in contents.items() if not name.startswith("kit/"))
    assert "assignment/pooling_layers.py" not in names
    # The kit's recipe names the installed version; every requirement is pinned.
    assert b'version = "0.1.0"' in contents["kit/pyproject.toml"]
    requirements = [
        line for line in contents["requirements.txt"].decode().splitlines() if line.strip() and not line.startswith("#")
    ]
    assert requirements and all("==" in line for line in requirements)


def test_setup_installs_system_packages_with_apt_get_into_its_own_venv(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as zf:
        setup = zf.read("setup.sh").decode()
        install = zf.read("install_kit.sh").decode()
    assert "apt-get install -y --no-install-recommends python3 python3-venv" in setup
    assert "apt-get install -y --no-install-recommends gcc libc6-dev python3-dev ||" in setup
    assert 'bash ./install_kit.sh "${CS231N_POOL_BASE_PYTHON:-python3}" "$ROOT/venv"' in setup
    # Only the venv's pip is used: the system Python is never upgraded or installed into.
    assert '"$BASE_PYTHON" -m venv "$VENV"' in install
    assert [line.split()[0] for line in install.splitlines() if " -m pip " in line] == ['"$PY"', '"$PY"']


def test_scripts_are_valid_bash(autograder_zip, tmp_path):
    with zipfile.ZipFile(autograder_zip) as zf:
        zf.extractall(tmp_path)
    for script in ("setup.sh", "run_autograder", "install_kit.sh"):
        result = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


def test_run_autograder_grades_the_solution_full_marks(autograder_zip, tmp_path):
    root = fake_autograder_root(tmp_path, autograder_zip, SOLUTION.read_text())
    for notebook in (SOLUTION.parents[2] / "notebooks").glob("*.ipynb"):  # their exercises are graded too
        shutil.copy(notebook, root / "submission" / notebook.name)
    result = run_autograder(root)
    assert result.returncode == 0, result.stderr
    results = read_results(root)
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) == 108
    assert {t["visibility"] for t in results["tests"]} == {"visible", "after_published"}
    assert all(t["status"] == "passed" for t in results["tests"])
    assert result.stdout.endswith("Score: 108/108\n")  # Gradescope keeps this for the staff


def test_run_autograder_grades_the_stub_zero(autograder_zip, tmp_path):
    root = fake_autograder_root(tmp_path, autograder_zip, stub_source(SOLUTION.read_text()))
    assert run_autograder(root).returncode == 0
    results = read_results(root)
    assert results["score"] == 0 and len(results["tests"]) == 47
    notebook = [t for t in results["tests"] if "notebook_exercises" in t["name"]]  # no notebook was uploaded
    assert notebook and all("the submission has no" in t["output"] for t in notebook)
    assert all(
        t["status"] == "failed" and "NotImplementedError" in t["output"] for t in results["tests"] if t not in notebook
    )


def test_run_autograder_when_the_assignment_is_broken(autograder_zip, tmp_path):
    root = fake_autograder_root(tmp_path, autograder_zip, "")
    (root / "source" / "assignment" / "assignment.toml").unlink()
    result = run_autograder(root)
    assert result.returncode == 0
    results = read_results(root)
    assert results["score"] == 0 and results["tests"] == []
    assert results["output"].startswith(GRADER_FAILED + "\nWhat failed: cs231n-pool grade: ")
    assert "/source/assignment' has no assignment.toml" in results["output"]


def test_run_autograder_without_its_venv_still_writes_results(autograder_zip, tmp_path):
    root = fake_autograder_root(tmp_path, autograder_zip, SOLUTION.read_text())
    result = run_autograder(root, python=tmp_path / "no-venv" / "bin" / "python")
    assert result.returncode == 0
    results = read_results(root)
    assert results == {
        "score": 0,
        "tests": [],
        "output": f"{GRADER_FAILED}\nWhat failed: the grading interpreter is missing (setup.sh did not complete).",
    }
    assert "wrote a zero score" in result.stderr


def test_a_template_with_a_placeholder_left_is_refused():
    with pytest.raises(ValueError) as excinfo:
        template("gradescope/setup.sh")
    assert str(excinfo.value) == "template 'gradescope/setup.sh' still has @VENV@ after filling in []"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--target", "prairielearn", "--simulate-gradescope", "{sol}"],
            "--simulate-gradescope runs the Gradescope zip; it cannot go with --target prairielearn",
        ),
        (
            ["--simulate-tree", "{tmp}/tree"],
            "--simulate-tree is where --simulate-gradescope runs; give --simulate-gradescope too",
        ),
        (
            ["--target", "prairielearn", "--image", "bad name"],
            "argument --image: must be a Docker image name, got 'bad name'",
        ),
        (["--out", "{tmp}/"], "argument --out: '{tmp}/' is a folder; give a file name"),
        (["--target", "prairielearn", "--out", "{sol}"], "argument --out: '{sol}' is a file, not a folder"),
        (["--simulate-gradescope", "{tmp}/missing"], "argument --simulate-gradescope: '{tmp}/missing' does not exist"),
        (
            ["--out", "{tmp}/ag.zip", "--simulate-gradescope", "{sol}", "--simulate-tree", "{tmp}/full"],
            "--simulate-tree '{tmp}/full' exists and is not an empty folder; choose a new one",
        ),
    ],
)
def test_misused_options_are_one_line_usage_errors(tmp_path, args, message):
    fill = {"tmp": tmp_path, "sol": SOLUTION}
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "file").write_text("x")
    result = cli("autograder", POOLING, *[a.format(**fill) for a in args], cwd=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr
        == f"cs231n-pool autograder: error: {message.format(**fill)} (see cs231n-pool autograder --help)\n"
    )


def test_a_failed_setup_stops_the_simulation_with_the_end_of_its_log(tmp_path):
    env = dict(os.environ, CS231N_POOL_BASE_PYTHON=str(tmp_path / "no-python"))
    result = cli(
        "autograder",
        POOLING,
        "--out",
        tmp_path / "ag.zip",
        "--simulate-gradescope",
        SOLUTION,
        "--simulate-tree",
        tmp_path / "tree",
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-3:] == [
        "cs231n-pool autograder: setup.sh failed with status 1; the end of its log:",
        "setup.sh: CS231N_POOL_SKIP_APT=1: installing no system packages",
        f"install_kit.sh: ERROR: there is no Python '{tmp_path}/no-python' to make the venv from",
    ]
