"""The pooling assignment's graded tests catch the bugs students really write.

Each mutant in tests/mutants/pooling_mutants.py is a small textual edit of the solution
(assignments/pooling/pooling_layers.py). Every mutant is graded by the real grading plugin
(sandboxed child per call, reference computed in the parent) on the tests that target it:
each of those tests must score 0, and at least one must name the mutant's own likely cause
(cs231n_pool.grading.diagnosis), with never more than one `Likely cause:` line per test. The
unmodified solution must score full marks with `grade_submission`; a file returning the
right shapes and dtypes with random values scores 0 on every test and gets no likely cause;
one mutant goes through the `cs231n-pool grade` command end to end.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cs231n_pool.grading.diagnosis import PREFIX, causes
from cs231n_pool.grading.grade import grade_submission

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = ROOT / "assignments" / "pooling"
SOLUTION = (ASSIGNMENT / "pooling_layers.py").read_text(encoding="utf-8")
SEED = "20261121"  # fixed so a failure can be replayed; the solution passes for any seed
WRONG_VALUES = ROOT / "tests" / "fixtures" / "wrong_values.py"
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
import wrong_values_notebooks  # noqa: E402


def _load_mutants():
    spec = importlib.util.spec_from_file_location("pooling_mutants", ROOT / "tests" / "mutants" / "pooling_mutants.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MUTANTS


MUTANTS = _load_mutants()

# The bugs the issue lists; each must have at least one mutant.
REQUIRED = {
    "output_size_missing_plus_one",
    "rectangular_window_swapped",
    "max_pool_pads_with_zeros",
    "max_backward_assigns_instead_of_adding",
    "max_backward_to_every_tied_max",
    "avg_backward_divides_by_padded_area",
    "im2col_square_field_only",
    "col2im_overwrites_overlaps",
    "maxpool_stride_defaults_to_1",
    "maxpool_stale_indices",
    "max_forward_upcasts_float32",
    "max_forward_ignores_nan",
    "max_forward_returns_no_cache",
}


def likely_causes(output):
    return [line for line in output.splitlines() if line.startswith(PREFIX)]


def mutate(mutant):
    assert SOLUTION.count(mutant.old) == 1, f"{mutant.name}: its snippet must occur exactly once in the solution"
    source = SOLUTION.replace(mutant.old, mutant.new)
    compile(source, f"{mutant.name}/pooling_layers.py", "exec")  # a mutant must be a real program, not a syntax error
    return source


def write_submission(folder, source, notebooks=()):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pooling_layers.py").write_text(source, encoding="utf-8")
    for path in notebooks:
        (folder / path.name).write_bytes(path.read_bytes())
    return folder


def grade_only(tmp_path, source, names):
    """Run the grading plugin on the named graded tests only; returns {name: record}."""
    submission = write_submission(tmp_path / "submission", source)
    results = tmp_path / "results.json"
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(CS231N_POOL_SUBMISSION=str(submission), CS231N_POOL_SEED=SEED, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    node_ids = [f"tests/{name}" for name in names]
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "cs231n_pool.grading.pytest_plugin",
        "-c",
        str(ini),
        "--rootdir",
        str(ASSIGNMENT),
        "--grading-results",
        str(results),
        *node_ids,
    ]
    proc = subprocess.run(cmd, cwd=ASSIGNMENT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), f"pytest exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    records = {t["name"]: t for t in json.loads(results.read_text(encoding="utf-8"))["tests"]}
    assert sorted(records) == sorted(names), f"graded {sorted(records)}, asked for {sorted(names)}"
    return records


def test_mutant_list_is_sound():
    names = [m.name for m in MUTANTS]
    assert len(names) == len(set(names)), "mutant names must be unique"
    assert set(names) >= REQUIRED, f"missing mutants for: {sorted(REQUIRED - set(names))}"
    for mutant in MUTANTS:
        assert mutant.targets, f"{mutant.name} targets no test"
        for target in mutant.targets:
            rel, _, test = target.partition("::")
            path = ASSIGNMENT / "tests" / rel
            assert path.is_file(), f"{mutant.name}: no test file {rel}"
            assert f"def {test}(" in path.read_text(encoding="utf-8"), f"{mutant.name}: no test {target}"
        mutate(mutant)


def test_solution_scores_full_marks(tmp_path):
    solved = write_submission(tmp_path / "solution", SOLUTION, NOTEBOOKS.glob("*.ipynb"))
    results = grade_submission(str(ASSIGNMENT), str(solved), seed=int(SEED))
    failed = {t["name"]: t["output"][:500] for t in results["tests"] if t["score"] != t["max_score"]}
    assert not failed, failed
    assert not [t["name"] for t in results["tests"] if likely_causes(t["output"])]
    total = sum(t["max_score"] for t in results["tests"])
    assert results["score"] == total == 108
    targeted = {target for mutant in MUTANTS for target in mutant.targets}
    assert targeted <= {t["name"] for t in results["tests"]}


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_loses_its_targeted_tests(mutant, tmp_path):
    records = grade_only(tmp_path, mutate(mutant), list(mutant.targets))
    for name in mutant.targets:
        record = records[name]
        assert record["score"] == 0 and record["status"] == "failed", (
            f"{mutant.name} ({mutant.why}) was not caught by {name}: {record}"
        )
        assert len(likely_causes(record["output"])) <= 1, record["output"]
    named = [line for record in records.values() for line in likely_causes(record["output"])]
    assert causes()[mutant.name] in named, f"{mutant.name}: its likely cause is not named; got {named}"


def test_right_shapes_with_wrong_values_score_nothing(tmp_path):
    """Every test pays only for right values; random numbers match no misconception."""
    folder = write_submission(tmp_path / "wrong", WRONG_VALUES.read_text())
    wrong_values_notebooks.write(folder)
    results = grade_submission(str(ASSIGNMENT), str(folder), seed=int(SEED))
    assert {t["name"]: t["score"] for t in results["tests"] if t["score"]} == {}
    assert results["score"] == 0 and len(results["tests"]) == 47
    assert [t["name"] for t in results["tests"] if likely_causes(t["output"])] == []
    other = {t["name"]: t["output"][:300] for t in results["tests"] if " differ" not in t["output"]}
    assert other == {}, "these tests failed on something other than the values"


def test_cli_grades_a_mutant(tmp_path):
    """`cs231n-pool grade ... --format json` on one mutant: exit 0, only the Maxpool stride tests lose points."""
    mutant = next(m for m in MUTANTS if m.name == "maxpool_stride_defaults_to_1")
    submission = write_submission(tmp_path / "student", mutate(mutant), NOTEBOOKS.glob("*.ipynb"))
    out = tmp_path / "results.json"
    cmd = [
        sys.executable,
        "-m",
        "cs231n_pool.cli",
        "grade",
        str(ASSIGNMENT),
        str(submission),
        "--format",
        "json",
        "--out",
        str(out),
        "--seed",
        SEED,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text(encoding="utf-8"))
    lost = {t["name"] for t in results["tests"] if t["score"] < t["max_score"]}
    assert lost == set(mutant.targets)
    assert results["score"] == results["max_score"] - sum(t["max_score"] for t in results["tests"] if t["name"] in lost)
