"""`cs231n-pool grade-all` on a small class: grades.csv, pass_rates.png and one feedback.md each.

The class: the solution with solved notebooks (a folder), the solution with the bundle's
stubbed notebooks (a zip), a mutant (zero padding in max pooling), a syntax error, an
exception at import, and a folder without the student file. Run through the real command,
with --seed, twice: the second run must give the same grades.
"""

import csv
import importlib.util
import shutil
import subprocess

import pytest
from bundle_venv import POOLING, REPO, SOLUTION, kit_command

from cs231n_pool.grading.class_report import skill_pass_rates
from cs231n_pool.grading.diagnosis import causes
from cs231n_pool.grading.release import stub_notebook

NOTEBOOKS = REPO / "notebooks"
SEED = "4242"


def _mutant(name):
    spec = importlib.util.spec_from_file_location("pooling_mutants", REPO / "tests" / "mutants" / "pooling_mutants.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mutant = next(m for m in module.MUTANTS if m.name == name)
    return SOLUTION.read_text().replace(mutant.old, mutant.new)


def _student(folder, source, notebooks):
    folder.mkdir(parents=True)
    if source is not None:
        (folder / "pooling_layers.py").write_text(source)
    for path in NOTEBOOKS.glob("*.ipynb") if notebooks else ():
        text = path.read_text(encoding="utf-8")
        (folder / path.name).write_text(text if notebooks == "solved" else stub_notebook(text, path.name))
    return folder


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    subs = root / "submissions"
    _student(subs / "ada", SOLUTION.read_text(), "solved")
    shutil.make_archive(str(subs / "bob"), "zip", _student(root / "bob", SOLUTION.read_text(), "stubbed"))
    _student(subs / "cyd", _mutant("max_pool_pads_with_zeros"), "solved")
    _student(subs / "dee", "def max_pool_forward_naive(x:\n", "solved")
    _student(subs / "eve", "raise ImportError('no such thing')\n", None)
    _student(subs / "fay", None, "solved")
    out = root / "out"
    result = subprocess.run(
        kit_command("grade-all", POOLING, subs, "--out", out, "--jobs", "2", "--seed", SEED),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with open(out / "grades.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    return out, rows, subs, result


def test_grades_csv_has_a_status_and_skill_totals(report):
    out, rows, _, _ = report
    assert {s: rows[s]["status"] for s in rows} == {
        "ada": "graded",
        "bob": "graded",
        "cyd": "graded",
        "dee": "does not import",
        "eve": "does not import",
        "fay": "no file",
    }
    assert (rows["ada"]["score"], rows["ada"]["max_score"]) == ("108", "108")
    assert rows["bob"]["score"] == "100"  # the stubbed notebooks cost exactly their 8 points
    assert rows["dee"]["score"] == rows["fay"]["score"] == "8"  # only the notebook exercises ran
    assert rows["eve"]["score"] == "0"
    skills = [c for c in rows["ada"] if c.startswith("skill:")]
    assert "skill:max_forward_padding_is_minus_inf" in skills and "skill:notebook:output_size" in skills
    for row in rows.values():
        assert sum(float(row[c]) for c in skills) == float(row["score"])
    assert rows["cyd"]["skill:max_forward_padding_is_minus_inf"] == "0"
    assert rows["ada"]["skill:max_forward_padding_is_minus_inf"] == "6"  # public 2 + hidden 4
    assert rows["bob"]["skill:notebook:relu_max"] == "0"
    assert rows["ada"]["written_answers (ungraded)"] == "ungraded: 0"


def test_the_chart_is_written(report):
    out, _, _, _ = report
    assert (out / "pass_rates.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_skill_rates_put_the_least_passed_first():
    def results(passed):
        return {
            "score": 0,
            "tests": [
                {
                    "name": f"{kind}/test_x.py::test_{skill}",
                    "score": 0,
                    "max_score": 1,
                    "output": "",
                    "status": "passed" if skill in passed else "failed",
                    "visibility": "visible" if kind == "public" else "after_published",
                }
                for skill in ("a", "b", "c")
                for kind in ("public", "hidden")
            ],
        }

    outcomes = {"s1": results({"a", "b"}), "s2": results({"a"}), "s3": None}
    assert skill_pass_rates(outcomes) == [("c", 0.0, 0.0), ("b", 0.5, 0.5), ("a", 1.0, 1.0)]


def test_one_feedback_per_student(report):
    out, _, _, _ = report
    for student in ("ada", "bob", "cyd", "dee", "eve", "fay"):
        assert (out / student / "feedback.md").is_file(), student
    cyd = (out / "cyd" / "feedback.md").read_text()
    assert cyd.startswith("# Feedback for cyd")
    assert "## Score per skill" in cyd and "| max_forward_padding_is_minus_inf | 0/6 | failed | failed |" in cyd
    assert "### public/test_max_pool.py::test_max_forward_padding_is_minus_inf (public, 0/2)" in cyd
    assert causes()["max_pool_pads_with_zeros"] in cyd
    assert "## Written questions (ungraded here: for the course staff to grade)" in cyd
    assert "### 01_pooling_forward.ipynb" in cyd and "(no answer written)" in cyd
    dee = (out / "dee" / "feedback.md").read_text()
    assert dee.count("'(' was never closed") == 2  # said once (its line and the traceback's), not per test
    assert "<frozen" not in dee  # the student's frames only
    assert "pooling_layers.py does not import, so none of its tests could run:" in dee
    ada = (out / "ada" / "feedback.md").read_text()
    assert "**Score: 108/108** (graded)" in ada and "None: every test passed." in ada


def test_the_seed_makes_a_class_run_reproducible(report, tmp_path):
    out, rows, subs, _ = report
    again = tmp_path / "again"
    small = tmp_path / "subs"
    shutil.copytree(subs / "cyd", small / "cyd")
    result = subprocess.run(
        kit_command("grade-all", POOLING, small, "--out", again, "--seed", SEED),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr
    first = (out / "cyd" / "results.json").read_text()
    second = (again / "cyd" / "results.json").read_text()
    assert f"CS231N_POOL_SEED={SEED}" in first
    strip = [line for line in first.splitlines() if "execution_time" not in line]
    assert strip == [line for line in second.splitlines() if "execution_time" not in line]
