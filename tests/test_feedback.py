"""Notebook exercises and what one submission's feedback says.

- `pooltools.exercises.exercise_source` takes an exercise out of a notebook with the helpers it
  uses and nothing that runs;
- graded end to end (`grade_submission`, the real sandbox): the solution with the solved
  notebooks scores full marks, with the stubbed notebooks of the bundle it loses exactly the
  notebook points, without notebooks the same, with a message;
- a file that does not import, or is missing, is said once at the top, not in every test.
"""

import json
import shutil
import sys

import pytest
from bundle_venv import POOLING, REPO, SOLUTION

from cs231n_pool.grading.grade import grade_submission
from cs231n_pool.grading.release import stub_notebook

sys.path.insert(0, str(POOLING / "tests"))
from pooltools.exercises import ExerciseNotFoundError, exercise_source, graded_exercises  # noqa: E402

NOTEBOOKS = REPO / "notebooks"
SEED = 20261121
EXERCISES = graded_exercises(str(POOLING))
NOTEBOOK_POINTS = sum(e["public"] + e["hidden"] for e in EXERCISES.values())


def test_an_exercise_comes_with_the_helpers_it_uses_and_nothing_that_runs():
    source = exercise_source(str(NOTEBOOKS / "04_avg_pooling.ipynb"), "avg_pool_as_conv")
    compile(source, "exercise", "exec")
    assert "import numpy as np" in source
    assert "def conv_single_filter(" in source and "def avg_pool_as_conv(" in source
    assert "check." not in source and "pooling_layers" not in source and "matplotlib" not in source
    relu_max = exercise_source(str(NOTEBOOKS / "04_avg_pooling.ipynb"), "relu_max")
    assert "def relu(" in relu_max and "def max_pool_via_relu(" not in relu_max


def test_the_exercises_of_assignment_toml_are_in_the_notebooks():
    assert sorted(EXERCISES) == ["avg_pool_as_conv", "index_arrays", "output_size", "relu_max"]
    for name, entry in EXERCISES.items():
        assert f"def {name}(" in exercise_source(str(NOTEBOOKS / entry["notebook"]), name)


def test_an_exercise_outside_a_your_code_cell_is_not_found(tmp_path):
    nb = json.loads((NOTEBOOKS / "01_pooling_forward.ipynb").read_text())
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("tags", None)
    path = tmp_path / "01_pooling_forward.ipynb"
    path.write_text(json.dumps(nb))
    with pytest.raises(ExerciseNotFoundError) as info:
        exercise_source(str(path), "output_size")
    assert str(info.value) == "01_pooling_forward.ipynb defines no function output_size in a cell tagged 'your-code'"
    with pytest.raises(ExerciseNotFoundError) as info:
        exercise_source(str(tmp_path / "02_im2col.ipynb"), "index_arrays")
    assert str(info.value) == "the submission has no 02_im2col.ipynb"
    (tmp_path / "broken.ipynb").write_text("{")
    with pytest.raises(ExerciseNotFoundError) as info:
        exercise_source(str(tmp_path / "broken.ipynb"), "index_arrays")
    assert str(info.value).startswith("broken.ipynb is not a readable notebook (")


def _submission(folder, source=None, notebooks="solved"):
    folder.mkdir(parents=True)
    if source is not False:
        (folder / "pooling_layers.py").write_text(source if source is not None else SOLUTION.read_text())
    for path in NOTEBOOKS.glob("*.ipynb") if notebooks else ():
        text = path.read_text(encoding="utf-8")
        (folder / path.name).write_text(text if notebooks == "solved" else stub_notebook(text, path.name))
    return folder


def _notebook_test(name):
    return "notebook_exercises" in name


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{case: results} of the solution with solved, stubbed and no notebooks."""
    root = tmp_path_factory.mktemp("graded")
    return {
        case: grade_submission(str(POOLING), str(_submission(root / case, notebooks=notebooks)), seed=SEED)
        for case, notebooks in (("solved", "solved"), ("stubbed", "stubbed"), ("none", None))
    }


def test_the_solution_with_solved_notebooks_scores_full_marks(graded):
    results = graded["solved"]
    total = sum(t["max_score"] for t in results["tests"])
    assert results["score"] == total == 100 + NOTEBOOK_POINTS
    assert sum(1 for t in results["tests"] if _notebook_test(t["name"])) == 2 * len(EXERCISES)


def test_stubbed_notebooks_lose_exactly_the_notebook_points(graded):
    results = graded["stubbed"]
    assert results["score"] == 100
    lost = {t["name"] for t in results["tests"] if t["score"] < t["max_score"]}
    assert lost == {t["name"] for t in results["tests"] if _notebook_test(t["name"])}
    output = next(t["output"] for t in results["tests"] if t["name"].endswith("::test_relu_max"))
    assert output.startswith("relu_max() raised NotImplementedError: relu_max: your code here")


def test_without_notebooks_the_same_points_go_with_a_message(graded):
    results = graded["none"]
    assert results["score"] == 100
    outputs = {t["name"]: t["output"] for t in results["tests"] if t["score"] < t["max_score"]}
    assert sorted(outputs) == sorted(t["name"] for t in results["tests"] if _notebook_test(t["name"]))
    assert outputs["public/test_notebook_exercises.py::test_output_size"] == (
        "AssertionError: notebook exercise output_size: the submission has no 01_pooling_forward.ipynb; it scores 0. "
        "Hand in the notebooks with your pooling_layers.py (python submit.py puts them in submission.zip)"
    )


def test_the_notebooks_of_a_zip_are_graded(tmp_path):
    folder = _submission(tmp_path / "student")
    archive = shutil.make_archive(str(tmp_path / "submission"), "zip", folder)
    results = grade_submission(str(POOLING), archive, seed=SEED)
    assert results["score"] == sum(t["max_score"] for t in results["tests"])


@pytest.mark.parametrize(
    "case, source, status, head",
    [
        (
            "syntax error",
            "def max_pool_forward_naive(x, pool_param:\n    pass\n",
            "does not import",
            "pooling_layers.py does not import, so none of its tests could run:\nimporting pooling_layers.py raised "
            "SyntaxError: ",
        ),
        (
            "exception at import",
            "import numpy as np\nraise RuntimeError('half-written file')\n",
            "does not import",
            "pooling_layers.py does not import, so none of its tests could run:\nimporting pooling_layers.py raised "
            "RuntimeError: half-written file",
        ),
        ("missing file", False, "no file", "the submission has no pooling_layers.py, so none of its tests could run."),
    ],
)
def test_a_file_that_cannot_run_is_said_once(tmp_path, case, source, status, head):
    results = grade_submission(str(POOLING), str(_submission(tmp_path / "s", source)), seed=SEED)
    assert results["status"] == status
    assert results["output"].startswith(head), results["output"]
    file_tests = [t for t in results["tests"] if not _notebook_test(t["name"])]
    assert {t["output"] for t in file_tests} == {
        "not run: pooling_layers.py does not import (see the message above)"
        if status == "does not import"
        else "not run: the submission has no pooling_layers.py"
    }
    assert all(t["score"] == t["max_score"] for t in results["tests"] if _notebook_test(t["name"]))
    assert results["score"] == NOTEBOOK_POINTS
