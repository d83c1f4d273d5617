"""The PrairieLearn external grader: build the course files with the real command, then run the
entrypoint (run.sh) on a /grade-like tree, as PrairieLearn's container would, through
CS231N_POOL_GRADE_ROOT and with this environment's interpreter (CS231N_POOL_PYTHON).

The image's own venv (install_kit.sh, also used by the Dockerfile) grades in
tests/test_platforms_fresh_venv.py.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from platform_schemas import check_info_json, check_prairielearn

from cs231n_pool.grading.release import stub_source
from cs231n_pool.grading.results import GRADER_FAILED, HIDDEN_OUTPUT

REPO = Path(__file__).resolve().parents[1]
POOLING = REPO / "assignments" / "pooling"
SOLUTION = POOLING / "pooling_layers.py"
ISOLATION_LEVELS = ("full", "uid", "none")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    out = tmp_path_factory.mktemp("pl") / "course"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cs231n_pool.cli",
            "autograder",
            str(POOLING),
            "--target",
            "prairielearn",
            "--out",
            str(out),
            "--image",
            "example/pooling-grader:1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"Wrote {out}: questions/pooling/ (info.json, question.html, 12 test files), "
        f"serverFilesCourse/pooling/run.sh and image/ (Dockerfile, the kit). "
        f"Build the image with `docker build -t example/pooling-grader:1 {out}/image`.\n"
    )
    return out


def grade_tree(tmp_path, course, files):
    """A /grade-like tree: tests/ and serverFilesCourse/ as PrairieLearn copies them, student/ with `files`."""
    root = tmp_path / "grade"
    shutil.copytree(course / "questions" / "pooling" / "tests", root / "tests")
    shutil.copytree(course / "serverFilesCourse", root / "serverFilesCourse")
    (root / "student").mkdir()
    for name, text in files.items():
        (root / "student" / name).write_text(text)
    return root


def run_entrypoint(root, python=sys.executable):
    env = dict(os.environ, CS231N_POOL_GRADE_ROOT=str(root), CS231N_POOL_PYTHON=str(python))
    result = subprocess.run(
        [str(root / "serverFilesCourse" / "pooling" / "run.sh")],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    check_prairielearn(data)
    return data


def test_question_folder(course):
    question = course / "questions" / "pooling"
    info = json.loads((question / "info.json").read_text())
    check_info_json(info)
    options = info["externalGradingOptions"]
    assert options == {
        "enabled": True,
        "image": "example/pooling-grader:1",
        "entrypoint": "/grade/serverFilesCourse/pooling/run.sh",
        "serverFilesCourse": ["pooling/"],
        "timeout": 600,
        "enableNetworking": False,
    }
    # The entrypoint is where PrairieLearn mounts serverFilesCourse/pooling/, and is executable.
    entrypoint = course / "serverFilesCourse" / options["entrypoint"].removeprefix("/grade/serverFilesCourse/")
    assert entrypoint.is_file() and os.access(entrypoint, os.X_OK)
    html = (question / "question.html").read_text()
    assert (
        '<pl-file-upload file-names="pooling_layers.py" optional-file-names="01_pooling_forward.ipynb, '
        '02_im2col.ipynb, 04_avg_pooling.ipynb"></pl-file-upload>'
    ) in html
    assert "<pl-external-grader-results></pl-external-grader-results>" in html
    tests = sorted(str(p.relative_to(question / "tests")) for p in (question / "tests").rglob("*") if p.is_file())
    assert tests[:2] == ["assignment.toml", "conftest.py"]
    assert {t.split("/")[0] for t in tests[2:]} == {"hidden", "public", "pooltools"}
    assert sum(t.split("/")[-1].startswith("test_") for t in tests) == 12
    assert not any("BEGIN SOLUTION" in p.read_text() for p in question.rglob("*") if p.is_file())


def test_the_image_installs_the_kit_with_install_kit(course):
    image = course / "image"
    assert {p.name for p in image.iterdir()} == {"Dockerfile", "install_kit.sh", "requirements.txt", "kit"}
    dockerfile = (image / "Dockerfile").read_text()
    assert dockerfile.splitlines()[3] == "FROM python:3.12-slim-bookworm"
    assert "RUN bash /opt/cs231n-pool-src/install_kit.sh python3 /opt/cs231n-pool/venv" in dockerfile
    run_sh = (course / "serverFilesCourse" / "pooling" / "run.sh").read_text()
    assert 'PYTHON="${CS231N_POOL_PYTHON:-/opt/cs231n-pool/venv/bin/python}"' in run_sh
    assert subprocess.run(["bash", "-n", str(course / "serverFilesCourse" / "pooling" / "run.sh")]).returncode == 0


def test_the_solution_scores_one(course, tmp_path):
    files = {"pooling_layers.py": SOLUTION.read_text()}  # and the solved notebooks: their exercises are graded
    files.update({p.name: p.read_text() for p in (SOLUTION.parents[2] / "notebooks").glob("*.ipynb")})
    data = run_entrypoint(grade_tree(tmp_path, course, files))
    assert (data["gradable"], data["score"], data["message"]) == (True, 1.0, "108/108 points")
    assert len(data["tests"]) == 47 and all(t["points"] == t["max_points"] > 0 for t in data["tests"])
    assert {t["description"] for t in data["tests"]} == {"public test", "hidden test"}
    (image,) = data["images"]
    svg = base64.b64decode(image["url"].removeprefix("data:image/svg+xml;base64,")).decode()
    assert image["label"] == "Points per test file" and svg.count("<text") == 2 * 12  # 12 test files


def test_the_stub_scores_zero(course, tmp_path):
    stub = stub_source(SOLUTION.read_text())
    data = run_entrypoint(grade_tree(tmp_path, course, {"pooling_layers.py": stub}))
    assert (data["gradable"], data["score"], data["message"]) == (True, 0.0, "0/108 points")
    public = [t for t in data["tests"] if t["description"] == "public test"]
    hidden = [t for t in data["tests"] if t["description"] == "hidden test"]
    notebook = [t for t in public if "notebook_exercises" in t["name"]]
    assert all(t["points"] == 0 and "NotImplementedError" in t["message"] for t in public if t not in notebook)
    assert notebook and all(t["points"] == 0 and "the submission has no" in t["message"] for t in notebook)
    assert public and hidden and all(t["output"] == HIDDEN_OUTPUT and t["message"] == "failed" for t in hidden)


@pytest.mark.parametrize(
    ("files", "error"),
    [
        (
            {"pooling_layers.py": "import numpy as np\n\ndef f(:\n    pass\n"},
            "pooling_layers.py, line 3: invalid syntax: def f(:",
        ),
        ({"notes.txt": "no code"}, "the submission has no pooling_layers.py"),
        (
            {"pooling_layers.py": "import numpy as np\nTABLE = undefined_name\n"},
            "pooling_layers.py does not import: NameError: name 'undefined_name' is not defined",
        ),
    ],
)
def test_a_file_that_cannot_be_graded_is_not_gradable(course, tmp_path, files, error):
    data = run_entrypoint(grade_tree(tmp_path, course, files))
    output = ""
    if "isolation" in data:  # only a run that reached the sandbox reports its level, and why it stopped
        assert data.pop("isolation") in ISOLATION_LEVELS
        output = data["output"]
        assert output.startswith(
            "pooling_layers.py does not import, so none of its tests could run:\n"
            "importing pooling_layers.py raised NameError: name 'undefined_name' is not defined"
        )
    assert data == {"gradable": False, "format_errors": [error], "message": error, "output": output}


def test_broken_tests_are_a_grader_failure_that_costs_no_attempt(course, tmp_path):
    root = grade_tree(tmp_path, course, {"pooling_layers.py": SOLUTION.read_text()})
    (root / "tests" / "assignment.toml").unlink()
    data = run_entrypoint(root)
    expected = (
        f"{GRADER_FAILED}\nWhat failed: the question's tests/ folder is not usable: {root}/tests has no assignment.toml"
    )
    assert data == {"gradable": False, "format_errors": [expected], "message": expected, "output": ""}


def test_a_missing_grading_interpreter_still_writes_results(course, tmp_path):
    root = grade_tree(tmp_path, course, {"pooling_layers.py": SOLUTION.read_text()})
    data = run_entrypoint(root, python=tmp_path / "missing" / "python")
    assert data["gradable"] is False
    expected = (
        f"{GRADER_FAILED} What failed: the grading interpreter {tmp_path}/missing/python "
        f"is missing (is the question's image the cs231n_pool one?)."
    )
    assert data["format_errors"] == [expected] and data["message"] == GRADER_FAILED


def test_out_must_be_a_new_folder(course):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cs231n_pool.cli",
            "autograder",
            str(POOLING),
            "--target",
            "prairielearn",
            "--out",
            str(course),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"cs231n-pool autograder: error: --out {str(course)!r} exists and is not an empty "
        f"folder; choose a new one (see cs231n-pool autograder --help)\n"
    )
