"""Attacks on the grader: each costs the submission exactly the affected tests, nothing else.

Every test builds a malicious submission (the assignment's solution with one snippet from
tests/malicious/ appended), grades it with the real `cs231n-pool grade` command against a
small assignment (the pooling solution, six graded tests worth 10 points: four public,
two hidden), asserts exactly which tests lost points, and then grades the plain solution
right after and asserts full marks.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOLUTION = REPO / "assignments" / "pooling" / "pooling_layers.py"
MALICIOUS = Path(__file__).resolve().parent / "malicious"

CONFIG = """\
[assignment]
name = "mini"
title = "Pooling, six graded tests"
student_file = "pooling_layers.py"

[limits]
timeout = 10
memory_mb = 2048
output_bytes = 2000

[imports]
forbidden = ["cs231n_pool", "torch", "tensorflow", "jax", "scipy", "sklearn", "skimage"]
"""

COMMON = """\
import numpy as np
import pytest

from cs231n_pool import naive

PARAM = {"pool_height": 2, "pool_width": 3, "stride": 1, "pad": 1}


def check(actual, expected):
    assert isinstance(actual, np.ndarray), f"expected an ndarray, got {actual!r}"
    assert actual.dtype == expected.dtype and actual.shape == expected.shape, (actual.dtype, actual.shape)
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-12)


def distinct(rng, shape):
    return rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64)
"""

PUBLIC = (
    COMMON
    + """

@pytest.mark.points(2)
def test_max_forward(submission, rng):
    x = rng.standard_normal((2, 3, 5, 6))
    out, _ = submission.call("max_pool_forward_naive", x, PARAM)
    check(out, naive.max_pool_forward_naive(x, PARAM)[0])


@pytest.mark.points(2)
def test_max_backward(submission, rng):
    x = distinct(rng, (2, 3, 5, 6))
    ref_out, ref_cache = naive.max_pool_forward_naive(x, PARAM)
    dout = rng.standard_normal(ref_out.shape)
    with submission.session() as s:
        _, cache = s.call("max_pool_forward_naive", x, PARAM)
        dx = s.call("max_pool_backward_naive", dout, cache)
    check(dx, naive.max_pool_backward_naive(dout, ref_cache))


@pytest.mark.points(1)
def test_avg_forward(submission, rng):
    x = rng.standard_normal((2, 3, 5, 6))
    out, _ = submission.call("avg_pool_forward_naive", x, PARAM)
    check(out, naive.avg_pool_forward_naive(x, PARAM)[0])


@pytest.mark.points(1)
def test_avg_backward(submission, rng):
    x = rng.standard_normal((2, 3, 5, 6))
    ref_out, ref_cache = naive.avg_pool_forward_naive(x, PARAM)
    dout = rng.standard_normal(ref_out.shape)
    with submission.session() as s:
        _, cache = s.call("avg_pool_forward_naive", x, PARAM)
        dx = s.call("avg_pool_backward_naive", dout, cache)
    check(dx, naive.avg_pool_backward_naive(dout, ref_cache))
"""
)

HIDDEN = (
    COMMON
    + """
from cs231n_pool.im2col import im2col_indices


@pytest.mark.points(2)
def test_im2col(submission, rng):
    x = rng.standard_normal((2, 3, 5, 6))
    cols = submission.call("im2col_indices", x, 2, 3, padding=1, stride=1)
    check(cols, im2col_indices(x, 2, 3, padding=1, stride=1))


@pytest.mark.points(2)
def test_maxpool_layer(submission, rng):
    x = distinct(rng, (2, 3, 6, 4))
    param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    ref_out, ref_cache = naive.max_pool_forward_naive(x, param)
    dout = rng.standard_normal(ref_out.shape)
    with submission.session() as s:
        pool = s.call("Maxpool", 2)
        out = s.call_method(pool, "forward", x)
        dx = s.call_method(pool, "backward", dout)
    check(out, ref_out)
    check(dx, naive.max_pool_backward_naive(dout, ref_cache))
"""
)

ALL_TESTS = {
    "test_max_forward": 2,
    "test_max_backward": 2,
    "test_avg_forward": 1,
    "test_avg_backward": 1,
    "test_im2col": 2,
    "test_maxpool_layer": 2,
}


def write_mini_assignment(root, hidden_header=""):
    """The small assignment at root: config, solution, conftest, public and hidden tests (the
    hidden file starting with hidden_header)."""
    (root / "tests" / "public").mkdir(parents=True)
    (root / "tests" / "hidden").mkdir()
    (root / "assignment.toml").write_text(CONFIG)
    (root / "pooling_layers.py").write_bytes(SOLUTION.read_bytes())
    (root / "tests" / "conftest.py").write_text('pytest_plugins = ["cs231n_pool.grading.pytest_plugin"]\n')
    (root / "tests" / "public" / "test_mini.py").write_text(PUBLIC)
    (root / "tests" / "hidden" / "test_mini_hidden.py").write_text(hidden_header + HIDDEN)
    return root


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    """The small assignment: config, solution, conftest, public and hidden tests."""
    return write_mini_assignment(tmp_path_factory.mktemp("grading") / "mini")


def grade(assignment, submission, workdir, *extra):
    """Run `cs231n-pool grade` in a subprocess (cwd=workdir); returns the parsed results."""
    out = workdir / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "cs231n_pool.cli", "grade", str(assignment), str(submission), "--out", str(out), *extra],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())


def by_name(results):
    return {t["name"].split("::")[-1]: t for t in results["tests"]}


def malicious_submission(workdir, attack):
    folder = workdir / attack
    folder.mkdir()
    source = SOLUTION.read_text() + "\n\n# ---- attack: " + attack + "\n" + (MALICIOUS / f"{attack}.py").read_text()
    (folder / "pooling_layers.py").write_text(source)
    return folder


def check_attack(mini, tmp_path, attack, lost, *extra):
    """Grade the attack; exactly `lost` tests fail, the others score; then the solution scores 10/10."""
    work = tmp_path / "work"
    work.mkdir()
    results = grade(mini, malicious_submission(tmp_path, attack), work, *extra)
    tests = by_name(results)
    assert set(tests) == set(ALL_TESTS)
    assert {name for name, t in tests.items() if t["status"] == "failed"} == set(lost), results
    for name, t in tests.items():
        assert t["max_score"] == ALL_TESTS[name]
        assert t["score"] == (0 if name in lost else ALL_TESTS[name])
    assert results["score"] == sum(ALL_TESTS.values()) - sum(ALL_TESTS[name] for name in lost)
    assert tests["test_im2col"]["visibility"] == "after_published"
    assert tests["test_max_forward"]["visibility"] == "visible"
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "pooling_layers.py").write_bytes(SOLUTION.read_bytes())
    after = grade(mini, clean, work)
    assert after["score"] == sum(ALL_TESTS.values()), after
    assert all(t["status"] == "passed" for t in after["tests"])
    return tests, results


def test_exit_at_import(mini, tmp_path):
    tests, results = check_attack(mini, tmp_path, "exit_at_import", ALL_TESTS)
    assert results["output"].startswith("pooling_layers.py does not import") and "SystemExit" in results["output"]
    assert tests["test_max_forward"]["output"] == "not run: pooling_layers.py does not import (see the message above)"


def test_os_exit_in_function(mini, tmp_path):
    tests, _ = check_attack(mini, tmp_path, "os_exit_in_function", ["test_max_backward"])
    assert "exited with status 0" in tests["test_max_backward"]["output"]


def test_infinite_loop(mini, tmp_path):
    tests, _ = check_attack(mini, tmp_path, "infinite_loop", ["test_avg_backward"], "--timeout", "2")
    assert "did not finish within the 2 s" in tests["test_avg_backward"]["output"]


def test_sleep_a_day(mini, tmp_path):
    tests, results = check_attack(mini, tmp_path, "sleep_a_day", ["test_max_backward"], "--timeout", "2")
    assert "did not finish within the 2 s" in tests["test_max_backward"]["output"]
    assert results["execution_time"] < 120


def test_six_gib(mini, tmp_path):
    tests, _ = check_attack(mini, tmp_path, "six_gib", ["test_avg_backward"])
    output = tests["test_avg_backward"]["output"]
    assert "MemoryError" in output or "killed" in output


def test_segfault(mini, tmp_path):
    tests, _ = check_attack(mini, tmp_path, "segfault", ["test_max_backward"])
    assert "SIGSEGV" in tests["test_max_backward"]["output"]


def test_keyboard_interrupt_and_base_exception(mini, tmp_path):
    tests, _ = check_attack(mini, tmp_path, "base_exceptions", ["test_max_backward", "test_avg_backward"])
    assert "KeyboardInterrupt" in tests["test_max_backward"]["output"]
    assert "Escape: stop the grader" in tests["test_avg_backward"]["output"]


def test_monkeypatch_numpy_and_pytest_at_import(mini, tmp_path):
    tests, _ = check_attack(mini, tmp_path, "monkeypatch_at_import", ["test_max_backward"])
    assert (
        "Not equal to tolerance" in tests["test_max_backward"]["output"]
        or "shape" in tests["test_max_backward"]["output"]
    )


def test_forged_results_json(mini, tmp_path):
    # check_attack reads the --out file the attack kept forging: it holds the real verdicts.
    check_attack(mini, tmp_path, "forge_results", ["test_max_backward"])


@pytest.mark.parametrize("level", ["full", "none"])
def test_edit_instructor_tests(mini, tmp_path, level):
    """At none the attack finds and edits the tests (they are restored); at full it finds nothing."""
    before = {p: p.read_bytes() for p in (mini / "tests").rglob("*.py")}
    work = tmp_path / "work"
    work.mkdir()
    results = grade(mini, malicious_submission(tmp_path, "edit_tests"), work, "--isolation", level)
    tests = by_name(results)
    assert {name for name, t in tests.items() if t["status"] == "failed"} == {"test_max_backward"}
    assert results["score"] == 8 and results["extra_data"]["isolation"] == level
    assert ("restored" in results["output"]) == (level == "none")
    after = {p: p.read_bytes() for p in (mini / "tests").rglob("*.py")}
    assert after == before
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "pooling_layers.py").write_bytes(SOLUTION.read_bytes())
    assert grade(mini, clean, work)["score"] == 10


def test_print_300_mb(mini, tmp_path):
    tests, _ = check_attack(mini, tmp_path, "print_300mb", [])
    output = tests["test_avg_backward"]["output"]
    assert "truncated" in output
    assert len(output.encode()) < 2000 + 200


def test_lying_ndarray_subclass_and_object_array(mini, tmp_path):
    tests, _ = check_attack(mini, tmp_path, "lying_arrays", ["test_max_forward", "test_avg_forward"])
    assert "Handle" in tests["test_avg_forward"]["output"]


def _marked_processes(mark):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if mark.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_processes_outliving_the_call_are_killed(mini, tmp_path):
    check_attack(mini, tmp_path, "outlive_call", [])
    assert _marked_processes("cs231n-pool-outlive-marker") == []


def test_forbidden_import_static(mini, tmp_path):
    tests, _ = check_attack(mini, tmp_path, "forbidden_static", ALL_TESTS)
    assert "cs231n_pool.naive" in tests["test_im2col"]["output"]
    assert "forbids" in tests["test_im2col"]["output"]


def test_forbidden_import_dynamic(mini, tmp_path):
    tests, _ = check_attack(mini, tmp_path, "forbidden_dynamic", ["test_avg_backward"])
    assert "'torch'" in tests["test_avg_backward"]["output"]


@pytest.mark.parametrize("level", ["full", "uid", "none"])
def test_edit_the_tests_copy_then_kill_its_pytest(mini, tmp_path, level):
    """At none the attack edits the running copy and kills its pytest: the interrupted run credits
    nothing, since the tests are re-collected from the snapshot; at full/uid it reaches neither."""
    work = tmp_path / "work"
    work.mkdir()
    results = grade(mini, malicious_submission(tmp_path, "forge_then_kill"), work, "--isolation", level)
    tests = by_name(results)
    assert set(tests) == set(ALL_TESTS) and results["extra_data"]["isolation"] == level
    if level == "none":
        assert "interrupted" in results["output"] and results["score"] == 0
        assert all(t["status"] == "failed" and t["score"] == 0 for t in tests.values())
    else:
        assert "interrupted" not in results["output"]
        assert results["score"] == sum(ALL_TESTS.values()) - ALL_TESTS["test_avg_backward"]
        assert {name for name, t in tests.items() if t["status"] == "failed"} == {"test_avg_backward"}
        assert "found no grading pytest" in tests["test_avg_backward"]["output"]
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "pooling_layers.py").write_bytes(SOLUTION.read_bytes())
    assert grade(mini, clean, work)["score"] == 10


@pytest.mark.parametrize("level", ["full", "uid", "none"])
def test_killing_the_grader(mini, tmp_path, level):
    """SIGKILL of its parent: at full/uid it may not signal it; at none it kills only its keeper.
    Either way the grading run is not interrupted and only the attacking function scores 0."""
    _, results = check_attack(mini, tmp_path, "kill_grader", ["test_avg_backward"], "--isolation", level)
    assert "interrupted" not in results["output"] and results["extra_data"]["isolation"] == level
