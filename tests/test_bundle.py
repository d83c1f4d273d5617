"""The student bundle in a fresh venv that holds only its requirements.txt (no kit, no compiler).

Checked through the real entry points: `cs231n-pool release`, `pytest` at the bundle root,
`python -m pooltools gradcheck`, `python submit.py` and `cs231n-pool grade`.
"""

import json
import re
import subprocess
import zipfile

import pytest
from bundle_venv import POOLING, SOLUTION, bundle_env, fresh_venv, kit_command, release, solved_copy

RESULT_LINE = re.compile(r"^(PASS|FAIL|SKIP) +\S+  (\S+?): ", re.MULTILINE)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return release(tmp_path_factory.mktemp("release") / "pooling")


@pytest.fixture(scope="module")
def python(tmp_path_factory, bundle):
    return fresh_venv(tmp_path_factory.mktemp("venv") / "venv", bundle)


def run(python, cwd, *args, timeout=600):
    return subprocess.run(
        [str(python), *args], cwd=cwd, env=bundle_env(), capture_output=True, text=True, timeout=timeout
    )


def student_pytest(python, folder):
    """(score line, {test name: PASS/FAIL}) of `pytest` at the bundle root."""
    result = run(python, folder, "-m", "pytest", "-p", "no:cacheprovider")
    lines = result.stdout.strip().splitlines()
    assert lines and lines[-1].startswith("Score: "), result.stdout[-3000:] + result.stderr[-3000:]
    return lines[-1], {name: verdict for verdict, name in RESULT_LINE.findall(result.stdout)}


def test_the_kit_is_not_installed(python):
    result = run(python, "/", "-c", "import cs231n_pool")
    assert result.returncode == 1 and "ModuleNotFoundError: No module named 'cs231n_pool'" in result.stderr


def test_bundle_files_name_no_kit_module(bundle):
    offenders = [str(p.relative_to(bundle)) for p in bundle.rglob("*.py") if "cs231n_pool" in p.read_text()]
    assert offenders == []


def test_stub_scores_zero_with_one_line_per_test(python, bundle):
    score, verdicts = student_pytest(python, bundle)
    assert score == "Score: 0/44"
    assert len(verdicts) == 24 and set(verdicts.values()) == {"FAIL"}


def test_solution_scores_full_marks(python, bundle, tmp_path):
    score, verdicts = student_pytest(python, solved_copy(bundle, tmp_path / "solved"))
    assert score == "Score: 44/44"
    assert len(verdicts) == 24 and set(verdicts.values()) == {"PASS"}


def _grade(submission, tmp_path, name):
    out = tmp_path / f"{name}.json"
    result = subprocess.run(
        kit_command("grade", POOLING, submission, "--seed", "7", "--format", "json", "--out", out),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


MUTANTS = {
    "zero padding in max pooling": (
        "constant_values=-np.inf)\n    out = np.empty",
        "constant_values=0)\n    out = np.empty",
    ),
    "average divides by the real cells": (
        "share = dout[:, :, i, j] / (ph * pw)",
        "share = dout[:, :, i, j] / (ph * pw + 1)",
    ),
    "im2col without the stride": (
        "patch = x_pad[:, :, i:i + stride * out_h:stride, j:j + stride * out_w:stride]",
        "patch = x_pad[:, :, i:i + out_h, j:j + out_w]",
    ),
}


@pytest.mark.parametrize("mutant", MUTANTS)
def test_public_verdicts_are_the_graders(python, bundle, tmp_path, mutant):
    old, new = MUTANTS[mutant]
    source = SOLUTION.read_text()
    assert old in source
    folder = solved_copy(bundle, tmp_path / "mutant")
    (folder / "pooling_layers.py").write_text(source.replace(old, new, 1))
    _, student = student_pytest(python, folder)
    grader = {
        t["name"].split("/", 1)[1]: "PASS" if t["status"] == "passed" else "FAIL"
        for t in _grade(folder, tmp_path, "mutant")["tests"]
        if t["name"].startswith("public/")
    }
    assert "FAIL" in student.values() and "PASS" in student.values()
    assert student == grader


def test_gradcheck_command(python, bundle, tmp_path):
    result = run(python, bundle, "-m", "pooltools", "gradcheck")
    assert result.returncode == 1 and result.stdout.count("TODO") == 13
    result = run(python, solved_copy(bundle, tmp_path / "solved"), "-m", "pooltools", "gradcheck")
    assert result.returncode == 0, result.stdout
    assert "13/13 checks passed" in result.stdout
    tied = next(line for line in result.stdout.splitlines() if "k=2, tied values" in line and "PASS" in line)
    assert int(tied.split()[-2]) > 0  # the kinks column
    assert "kinks (a +-h step changes the argmax; not failures)" in result.stdout


def test_submit_zip_is_graded_like_the_folder(python, bundle, tmp_path):
    folder = solved_copy(bundle, tmp_path / "solved")
    result = run(python, folder, "submit.py")
    assert result.returncode == 0, result.stderr
    assert "public tests: 44/44" in result.stdout
    assert "code cell(s) were not run" in result.stdout  # the notebooks were not run here
    with zipfile.ZipFile(folder / "submission.zip") as zf:
        names = sorted(zf.namelist())
    assert names == sorted(["pooling_layers.py"] + [p.name for p in folder.glob("*.ipynb")])
    zipped = _grade(folder / "submission.zip", tmp_path, "zip")
    as_folder = _grade(folder, tmp_path, "folder")
    assert zipped["score"] == as_folder["score"] == zipped["max_score"]
    assert [(t["name"], t["score"]) for t in zipped["tests"]] == [(t["name"], t["score"]) for t in as_folder["tests"]]


def test_submit_warns_about_todos(python, bundle, tmp_path):
    folder = solved_copy(bundle, tmp_path / "stub", notebooks=False)
    (folder / "pooling_layers.py").write_text((bundle / "pooling_layers.py").read_text())
    result = run(python, folder, "submit.py", "--skip-tests")
    assert result.returncode == 0
    assert (
        "warning: pooling_layers.py still raises NotImplementedError in: max_pool_forward_naive, "
        "max_pool_backward_naive, avg_pool_forward_naive, avg_pool_backward_naive, im2col_indices, "
        "col2im_indices, __init__, forward, backward"
    ) in result.stdout
    assert "warning: 01_pooling_forward.ipynb: cell" in result.stdout and "still has a TODO" in result.stdout


LIMIT_CASES = {
    "time": (
        "    while True:\n        pass\n",
        "max_pool_forward_naive() did not finish within the time limit (2 s per test); it was stopped",
    ),
    "memory": (
        "    big = np.ones(1 << 31)\n",
        "max_pool_forward_naive() raised MemoryError: Unable to allocate 16.0 GiB",
    ),
    "forbidden import at run time": (
        "    __import__('skl' + 'earn')\n",
        "max_pool_forward_naive(): your code imports 'sklearn', which this assignment forbids",
    ),
    "forbidden import in the source": (
        "    import sklearn\n",
        "your file imports modules this assignment forbids (line 31: sklearn); remove them",
    ),
    "print and raise": (
        "    print('hello from the student')\n    raise ValueError('bad shape')\n",
        "max_pool_forward_naive() raised ValueError: bad shape",
    ),
}


@pytest.mark.parametrize("case", LIMIT_CASES)
def test_student_code_runs_apart_under_limits(python, bundle, tmp_path, case):
    body, message = LIMIT_CASES[case]
    folder = solved_copy(bundle, tmp_path / "limits")
    toml = folder / "assignment.toml"
    toml.write_text(toml.read_text().replace("timeout = 10 ", "timeout = 2 "))
    source = SOLUTION.read_text()
    head = "def max_pool_forward_naive(x, pool_param):\n"
    (folder / "pooling_layers.py").write_text(source.replace(head, head + body, 1))
    result = run(
        python, folder, "-m", "pytest", "-p", "no:cacheprovider", "-k", "test_max_forward_worked_example", timeout=120
    )
    assert message in result.stdout, result.stdout[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "Score: 0/2"  # only the selected test counts
    if case == "print and raise":
        assert "- printed by your code -" in result.stdout and "\nhello from the student\n" in result.stdout


def test_pooltools_is_a_forbidden_import_so_its_stored_answers_are_no_oracle(python, bundle, tmp_path):
    # The stored expected values would answer the public tests; a file that reaches for them is refused.
    folder = solved_copy(bundle, tmp_path / "oracle", notebooks=False)
    (folder / "pooling_layers.py").write_text(
        "import os\nimport sys\n\nsys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n"
        "from pooltools import expected  # noqa: E402\n\n\n"
        "def max_pool_forward_naive(x, pool_param):\n    return expected\n"
    )
    score, verdicts = student_pytest(python, folder)
    assert score == "Score: 0/44" and set(verdicts.values()) == {"FAIL"}
    result = run(python, folder, "-m", "pytest", "-p", "no:cacheprovider")
    assert "pooltools" in result.stdout and "forbid" in result.stdout


def test_submit_zips_a_notebook_it_cannot_read_and_says_so(python, bundle, tmp_path):
    folder = solved_copy(bundle, tmp_path / "broken_nb", notebooks=False)
    (folder / "01_pooling_forward.ipynb").write_text('{"cells": [')
    result = run(python, folder, "submit.py", "--skip-tests")
    assert result.returncode == 0, result.stderr
    assert "01_pooling_forward.ipynb: it cannot be read as a notebook (JSONDecodeError" in result.stdout
    with zipfile.ZipFile(folder / "submission.zip") as zf:
        assert "01_pooling_forward.ipynb" in zf.namelist()
