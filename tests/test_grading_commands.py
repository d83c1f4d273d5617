"""The grading engine and the release / grade / grade-all commands.

Most tests use a toy assignment built here (one public and one hidden test over a tiny
student file), so they check the engine independently of the pooling assignment's content;
a few run the real commands on assignments/pooling end to end.
"""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cs231n_pool.grading import wire
from cs231n_pool.grading.release import ReleaseError, stub_source
from cs231n_pool.grading.sandbox import (
    ForbiddenImport,
    Handle,
    Limits,
    MissingSubmission,
    StudentCrashed,
    StudentError,
    StudentTimeout,
    Submission,
    SubmissionFailure,
    find_forbidden_imports,
)

REPO = Path(__file__).resolve().parents[1]
POOLING = REPO / "assignments" / "pooling"

TOY_CONFIG = """\
[assignment]
name = "toy"
title = "Toy assignment"
student_file = "toy.py"

[limits]
timeout = 5
memory_mb = 1024
output_bytes = 500

[imports]
forbidden = ["cs231n_pool", "torch"]
"""

TOY_SOLUTION = '''\
"""A toy student file."""
import numpy as np


def double(x):
    """Return 2 * x with x's dtype."""
    ### BEGIN SOLUTION
    return x * 2
    ### END SOLUTION


class Counter:
    """Adds up what it is given."""

    def __init__(self, start):
        ### BEGIN SOLUTION
        self.value = start
        self.name = "counter"
        ### END SOLUTION

    def add(self, x):
        """Add x and return the running total."""
        ### BEGIN SOLUTION
        self.value = self.value + x
        return self.value
        ### END SOLUTION
'''

TOY_PUBLIC = """\
import numpy as np
import pytest


@pytest.mark.points(1)
def test_double(submission, rng):
    x = rng.standard_normal(5).astype(np.float32)
    out = submission.call("double", x)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, 2 * x)
"""

TOY_HIDDEN = """\
import numpy as np
import pytest


@pytest.mark.points(2)
def test_counter(submission):
    with submission.session() as s:
        counter = s.call("Counter", np.zeros(3))
        s.call_method(counter, "add", np.ones(3))
        total = s.call_method(counter, "add", np.ones(3))
    np.testing.assert_array_equal(total, 2 * np.ones(3))
"""


def make_toy(root, solution=TOY_SOLUTION):
    (root / "tests" / "public").mkdir(parents=True)
    (root / "tests" / "hidden").mkdir()
    (root / "assignment.toml").write_text(TOY_CONFIG)
    (root / "toy.py").write_text(solution)
    (root / "tests" / "conftest.py").write_text('pytest_plugins = ["cs231n_pool.grading.pytest_plugin"]\n')
    (root / "tests" / "public" / "test_toy.py").write_text(TOY_PUBLIC)
    (root / "tests" / "hidden" / "test_toy_hidden.py").write_text(TOY_HIDDEN)
    return root


@pytest.fixture
def toy(tmp_path):
    return make_toy(tmp_path / "toy")


def cli(*args, cwd=None, timeout=900):
    return subprocess.run(
        [sys.executable, "-m", "cs231n_pool.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def student(tmp_path, name, source):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "toy.py").write_text(source)
    return folder


# --- the sandbox API --------------------------------------------------------------------------


def test_session_round_trips_arrays_scalars_and_handles(toy):
    sub = Submission(toy / "toy.py", Limits(timeout=5), forbidden=["cs231n_pool"])
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    with sub.session() as s:
        out = s.call("double", x)
        assert type(out) is np.ndarray and out.dtype == np.float32
        np.testing.assert_array_equal(out, 2 * x)
        scalar = s.call("double", 3)
        assert isinstance(scalar, np.ndarray) and scalar.shape == () and scalar == 6
        counter = s.call("Counter", 1.5)
        assert isinstance(counter, Handle) and counter.type_name == "Counter"
        assert s.getattr(counter, "value") == 1.5 and s.getattr(counter, "name") == "counter"
        total = s.call_method(counter, "add", np.ones(2))
        np.testing.assert_array_equal(total, [2.5, 2.5])
        with pytest.raises(SubmissionFailure, match="expected an array"):
            np.asarray(counter)
        with pytest.raises(StudentError) as info:
            s.call("double", "text", unknown=1)
        assert info.value.type_name == "TypeError"
    with sub.session() as other, pytest.raises(ValueError, match="another session"):
        other.call_method(counter, "add", 1)


def test_missing_file_forbidden_imports_and_crash_messages(tmp_path):
    with pytest.raises(MissingSubmission):
        Submission(tmp_path / "toy.py").call("double", 1)
    (tmp_path / "toy.py").write_text("import os\nimport cs231n_pool.naive\n\ndef f():\n    os.abort()\n")
    with pytest.raises(ForbiddenImport, match="line 2: cs231n_pool.naive"):
        Submission(tmp_path / "toy.py", forbidden=["cs231n_pool"]).call("f")
    # Even unlisted, the library is not importable in the child: only numpy is on its path.
    with pytest.raises(StudentError, match="No module named 'cs231n_pool'"):
        Submission(tmp_path / "toy.py").call("f")
    (tmp_path / "toy.py").write_text("import os\n\ndef f():\n    os.abort()\n")
    with pytest.raises(StudentCrashed, match="SIGABRT"):
        Submission(tmp_path / "toy.py").call("f")


def test_time_limit_is_per_test_and_holds_when_the_child_stops_reading(tmp_path):
    (tmp_path / "toy.py").write_text(
        "import os\nimport time\n\n\ndef nap(t):\n    time.sleep(t)\n    return t\n\n\n"
        "def jam():\n    os.readv = lambda fd, buffers: time.sleep(3600)\n"
    )
    # Margins of a second or more: a shared 2-core CI machine can stall a process for hundreds of ms.
    sub = Submission(tmp_path / "toy.py", Limits(timeout=4))
    with sub.session() as s:
        s.call("nap", 1.5)
        s.call("nap", 1.5)
        with pytest.raises(StudentTimeout, match="the 4 s .* per test"):
            s.call("nap", 1.5)  # each call fits, the three together do not
    jammed = Submission(tmp_path / "toy.py", Limits(timeout=1.5))
    with jammed.session() as s:
        s.call("jam")  # the child's driver no longer reads requests
        start = time.monotonic()
        with pytest.raises(StudentTimeout):
            s.call("nap", np.zeros(1 << 20))  # 8 MB: more than a pipe buffer
        assert time.monotonic() - start < 10


def test_child_dies_with_the_grader(tmp_path):
    """A grader killed mid-call (SIGKILL, no cleanup) takes the student's process with it."""
    (tmp_path / "toy.py").write_text("def spin():\n    while True:\n        pass\n")
    script = (
        "import sys\nfrom cs231n_pool.grading.sandbox import Limits, Submission\n"
        f"with Submission({str(tmp_path / 'toy.py')!r}, Limits(timeout=60)).session() as s:\n"
        "    print(s.proc.pid, s.tmp, flush=True)\n    s.call('spin')\n"
    )
    grader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child, child_tmp = grader.stdout.readline().split()
    child = int(child)
    time.sleep(0.3)
    os.kill(grader.pid, signal.SIGKILL)
    grader.wait()
    deadline = time.monotonic() + 5
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    if child_tmp != "None":  # a working folder of the grader's own (isolation none) stays behind
        shutil.rmtree(child_tmp)
    assert not running(child)


def running(pid):
    """True while pid exists and is not a zombie (a dead child nobody has reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_find_forbidden_imports_sees_every_static_form():
    source = (
        "import numpy\nimport torch.nn as nn\nfrom scipy import signal\nfrom . import torch\n"
        "x = __import__('sklearn')\nimport importlib\ny = importlib.import_module('jax.numpy')\n"
    )
    hits = find_forbidden_imports(source, ["torch", "scipy", "sklearn", "jax"])
    assert hits == [(2, "torch.nn"), (3, "scipy"), (5, "sklearn"), (7, "jax.numpy")]
    assert find_forbidden_imports("def broken(:\n", ["torch"]) == []


def test_wire_rejects_pickles_object_arrays_and_oversized_frames():
    import io

    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(wire.WireError, match="invalid array payload"):
        wire.npy_to_array(buf.getvalue())
    with pytest.raises(wire.WireError, match="invalid value"):
        wire.decode_value({"t": "pickle", "v": "..."}, [], None)
    read_fd, write_fd = os.pipe()
    try:
        wire.write_frame(write_fd, {"body": None}, [b"x" * 100])
        with pytest.raises(wire.WireError, match="exceeds"):
            wire.read_frame(read_fd, max_blob_bytes=10)
    finally:
        os.close(read_fd)
        os.close(write_fd)


# --- the pytest plugin ------------------------------------------------------------------------


def run_pytest(folder, *args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "CS231N_POOL_SUBMISSION"}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *map(str, args)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_plugin_scores_the_local_file_and_ignores_unmarked_tests(toy, tmp_path):
    (toy / "tests" / "public" / "test_extra.py").write_text("def test_unmarked():\n    assert False\n")
    result = run_pytest(toy, "tests", "--grading-results", tmp_path / "r.json")
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "Score: 3/3", result.stdout[-2000:]  # the local solution; the unmarked test does not count
    assert "cs231n-pool grading seed:" in result.stdout
    records = json.loads((tmp_path / "r.json").read_text())["tests"]
    assert sorted(r["name"] for r in records) == [
        "hidden/test_toy_hidden.py::test_counter",
        "public/test_toy.py::test_double",
    ]
    stub = student(tmp_path, "stub", stub_source(TOY_SOLUTION))
    result = run_pytest(toy, "tests", env_extra={"CS231N_POOL_SUBMISSION": str(stub), "CS231N_POOL_SEED": "11"})
    assert result.stdout.strip().splitlines()[-1] == "Score: 0/3"
    assert "CS231N_POOL_SEED=11" in result.stdout


def test_plugin_rejects_bad_points(toy):
    (toy / "tests" / "public" / "test_bad.py").write_text(
        "import pytest\n\n@pytest.mark.points(0)\ndef test_zero():\n    pass\n"
    )
    result = run_pytest(toy, "tests")
    assert result.returncode != 0 and "needs a positive number, got 0" in result.stdout + result.stderr


# --- release ----------------------------------------------------------------------------------


def test_stub_source_keeps_indentation_and_names_the_function():
    stub = stub_source(TOY_SOLUTION)
    assert "BEGIN SOLUTION" not in stub and "return x * 2" not in stub
    assert (
        "    # TODO: implement double (see the docstring above).\n"
        '    raise NotImplementedError("double: your code here")' in stub
    )
    assert '        raise NotImplementedError("Counter.add: your code here")' in stub
    assert '"""Add x and return the running total."""' in stub
    compile(stub, "toy.py", "exec")
    with pytest.raises(ReleaseError, match="without a matching"):
        stub_source("def f():\n    ### BEGIN SOLUTION\n    return 1\n")
    with pytest.raises(ReleaseError, match="without"):
        stub_source("def f():\n    ### END SOLUTION\n")


def test_release_toy_bundle_and_its_checks(toy, tmp_path):
    out = tmp_path / "bundle"
    result = cli("release", toy, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "stub scores 0/1" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "assignment.toml", "pytest.ini", "tests", "toy.py"]
    assert not (out / "tests" / "hidden").exists()
    assert "Score: 0/1" in (out / "README.md").read_text()
    again = cli("release", toy, "--out", out)
    assert again.returncode == 2 and "not an empty folder" in again.stderr
    broken = make_toy(tmp_path / "broken", TOY_SOLUTION.replace("return x * 2", "return x * 3"))
    result = cli("release", broken, "--out", tmp_path / "bundle2")
    assert result.returncode == 1
    assert "the solution scores 0/1 on the public tests" in result.stderr


def test_release_pooling(tmp_path):
    out = tmp_path / "pooling"
    result = cli("release", POOLING, "--out", out)
    assert result.returncode == 0, result.stderr
    stub = (out / "pooling_layers.py").read_text()
    for name in (
        "max_pool_forward_naive",
        "max_pool_backward_naive",
        "avg_pool_forward_naive",
        "avg_pool_backward_naive",
        "im2col_indices",
        "col2im_indices",
        "Maxpool.forward",
    ):
        assert f'raise NotImplementedError("{name}: your code here")' in stub
    assert sorted(p.name for p in (out / "tests").iterdir()) == ["conftest.py", "public"]
    for notebook in out.glob("*.ipynb"):
        cells = json.loads(notebook.read_text())["cells"]
        assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code"), notebook.name
    env = {k: v for k, v in os.environ.items() if k != "CS231N_POOL_SUBMISSION"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-p", "no:cacheprovider"],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("Score: 0/") and int(last.split("/")[1]) > 0, run.stdout[-2000:]


# --- grade ------------------------------------------------------------------------------------


def test_grade_formats_and_visibility(toy, tmp_path):
    good = student(tmp_path, "good", TOY_SOLUTION)
    result = cli("grade", toy, good, "--seed", "7")
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)
    assert set(results) == {"score", "execution_time", "output", "tests", "extra_data"}
    assert results["extra_data"] == {"isolation": "full"}  # root with namespaces, as in CI
    assert results["score"] == 3
    assert [(t["name"], t["score"], t["max_score"], t["status"], t["visibility"]) for t in results["tests"]] == [
        ("hidden/test_toy_hidden.py::test_counter", 2, 2, "passed", "after_published"),
        ("public/test_toy.py::test_double", 1, 1, "passed", "visible"),
    ]
    assert "CS231N_POOL_SEED=7" in results["tests"][1]["output"]
    text = cli("grade", toy, good, "--format", "text").stdout
    assert "public/test_toy.py::test_double" in text and text.strip().endswith("Score: 3/3")
    out = tmp_path / "out.json"
    assert cli("grade", toy, good, "--format", "json", "--out", out).returncode == 0
    assert json.loads(out.read_text())["max_score"] == 3


def test_grade_zip_submissions(toy, tmp_path):
    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(nested, "w") as zf:
        zf.writestr("__MACOSX/alice/toy.py", "garbage")
        zf.writestr("alice/toy.py", TOY_SOLUTION.replace("x * 2", "x + x"))
        zf.writestr("alice/notes.txt", "hello")
    results = json.loads(cli("grade", toy, nested).stdout)
    assert results["score"] == 3 and "graded alice/toy.py" in results["output"]
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("toy.py", TOY_SOLUTION)
        zf.writestr("../../escape.py", "x = 1")
    result = cli("grade", toy, evil)
    assert result.returncode == 0
    results = json.loads(result.stdout)
    assert results["score"] == 0 and "escapes the submission folder" in results["output"]
    assert not (tmp_path.parent / "escape.py").exists()


def test_grade_reports_student_errors_per_test(toy, tmp_path):
    half = student(tmp_path, "half", TOY_SOLUTION.replace("return self.value\n", "return None\n"))
    results = json.loads(cli("grade", toy, half).stdout)
    tests = {t["name"].split("::")[1]: t for t in results["tests"]}
    assert tests["test_double"]["status"] == "passed"
    assert tests["test_counter"]["status"] == "failed" and tests["test_counter"]["score"] == 0
    stub = student(tmp_path, "stub", stub_source(TOY_SOLUTION))
    results = json.loads(cli("grade", toy, stub).stdout)
    assert results["score"] == 0
    assert all("NotImplementedError" in t["output"] for t in results["tests"])


def test_restore_tree_undoes_edits_links_and_permissions(toy, tmp_path):
    from cs231n_pool.grading.grade import restore_tree, snapshot_tree

    snapshot = snapshot_tree(toy)
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched")
    (toy / "tests" / "public" / "test_toy.py").write_text("tampered")
    (toy / "tests" / "hidden" / "test_toy_hidden.py").unlink()
    (toy / "tests" / "hidden" / "test_toy_hidden.py").symlink_to(outside)
    (toy / "tests" / "public" / "conftest.py").write_text("planted")
    (toy / "assignment.toml").unlink()
    (toy / "assignment.toml").mkdir()
    os.chmod(toy / "tests" / "public", 0o500)
    changed = restore_tree(toy, snapshot)
    assert changed == sorted(
        [
            "assignment.toml",
            os.path.join("tests", "hidden", "test_toy_hidden.py"),
            os.path.join("tests", "public", "conftest.py"),
            os.path.join("tests", "public", "test_toy.py"),
        ]
    )
    assert snapshot_tree(toy) == snapshot
    assert outside.read_text() == "untouched"


def test_write_output_replaces_planted_links(tmp_path):
    from cs231n_pool.grading.results import write_output

    target = tmp_path / "precious.txt"
    target.write_text("keep")
    out = tmp_path / "results.json"
    out.symlink_to(target)
    write_output(out, "{}")
    assert not out.is_symlink() and out.read_text() == "{}" and target.read_text() == "keep"
    (tmp_path / "linked").symlink_to(tmp_path)
    with pytest.raises(OSError, match="symbolic link"):
        write_output(tmp_path / "linked" / "r.json", "{}")


def test_grade_exit_status_for_a_broken_assignment(tmp_path):
    result = cli("grade", tmp_path, tmp_path)
    assert result.returncode == 2 and "has no assignment.toml" in result.stderr
    result = cli("grade", POOLING, tmp_path / "missing")
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_grade_pooling_solution_full_marks(tmp_path):
    shutil.copy(POOLING / "pooling_layers.py", tmp_path)  # with the solved notebooks: their exercises count
    for notebook in (POOLING.parents[1] / "notebooks").glob("*.ipynb"):
        shutil.copy(notebook, tmp_path)
    result = cli("grade", POOLING, tmp_path, "--format", "text")
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    score, total = last.removeprefix("Score: ").split("/")
    assert score == total and int(total) > 0, result.stdout[-3000:]


# --- grade-all --------------------------------------------------------------------------------


def test_grade_all_class(toy, tmp_path):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    student(submissions, "alice", TOY_SOLUTION)
    student(submissions, "bob", TOY_SOLUTION.replace("return x * 2", "return x"))
    (submissions / "carol").mkdir()
    with zipfile.ZipFile(submissions / "dave.zip", "w") as zf:
        zf.writestr("dave/toy.py", TOY_SOLUTION)
    out = tmp_path / "out"
    result = cli("grade-all", toy, submissions, "--out", out, "--jobs", "2")
    assert result.returncode == 0, result.stderr
    with open(out / "grades.csv") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert {name: rows[name]["score"] for name in rows} == {"alice": "3", "bob": "2", "carol": "0", "dave": "3"}
    assert rows["bob"]["public/test_toy.py::test_double"] == "0"
    assert rows["bob"]["hidden/test_toy_hidden.py::test_counter"] == "2"
    for name in rows:
        assert json.loads((out / name / "results.json").read_text())["score"] == float(rows[name]["score"])
    assert (out / "pass_rates.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
