"""pytest plugin for graded assignment tests (load it from the assignment's tests/conftest.py).

Provides:
- the marker ``@pytest.mark.points(N)`` on every graded test;
- the fixture ``submission``: a `sandbox.Submission` for the student file under test, taken
  from the folder in $CS231N_POOL_SUBMISSION, else from the assignment folder itself (the
  nearest folder above the test holding assignment.toml), so plain ``pytest`` in a student
  bundle tests the student's own file;
- the fixture ``rng``: a numpy Generator seeded per run from os.urandom (or
  $CS231N_POOL_SEED), and per test from its node id, so a run can be reproduced;
- a final ``Score: X/Y`` line, and with ``--grading-results FILE`` a JSON file with one
  record per graded test (name, score, max_score, status, output, visibility).
"""

import dataclasses
import json
import os
import tempfile
import zlib

import numpy as np
import pytest

from .config import find_assignment_root, load_config
from .sandbox import Submission, SubmissionFailure, wait_for_sessions
from .wire import safe_text

SEED_ENV = "CS231N_POOL_SEED"
SUBMISSION_ENV = "CS231N_POOL_SUBMISSION"
HIDDEN_VISIBILITY = "after_published"


def pytest_addoption(parser):
    group = parser.getgroup("cs231n-pool grading")
    group.addoption(
        "--grading-results", metavar="FILE", default=None, help="write one JSON record per graded test to FILE"
    )
    group.addoption(
        "--grading-timeout",
        metavar="SECONDS",
        type=float,
        default=None,
        help="wall-clock seconds the submission may run per test (default: assignment.toml)",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n): the test is graded and worth n points")
    seed_text = os.environ.get(SEED_ENV)
    try:
        seed = int(seed_text) if seed_text else int.from_bytes(os.urandom(4), "little")
    except ValueError:
        raise pytest.UsageError(f"{SEED_ENV}={seed_text!r} must be an integer") from None
    config._grading = GradingState(seed)


def pytest_report_header(config):
    return f"cs231n-pool grading seed: {config._grading.seed} (set {SEED_ENV}={config._grading.seed} to reproduce)"


class GradingState:
    def __init__(self, seed):
        self.seed = seed
        self.graded = []  # items with a points marker, in collection order
        self.records = {}  # nodeid -> record dict
        self.configs = {}  # assignment root -> AssignmentConfig


def _points(item):
    marker = item.get_closest_marker("points")
    if marker is None:
        return None
    value = marker.args[0] if marker.args else marker.kwargs.get("n")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.points needs a positive number, got {value!r}")
    return value


def pytest_collection_finish(session):
    state = session.config._grading
    state.graded = [item for item in session.items if _points(item) is not None]
    for item in state.graded:  # read assignment.toml now, before any student code runs
        _assignment(session.config, item.path)


def _assignment(config, path):
    root = find_assignment_root(str(path))
    if root is None:
        raise pytest.UsageError(f"no assignment.toml above {path}")
    state = config._grading
    if root not in state.configs:
        state.configs[root] = load_config(root)
    return state.configs[root]


def _test_name(item, cfg):
    rel = os.path.relpath(str(item.path), cfg.tests_dir)
    return rel.replace(os.sep, "/") + "::" + item.name


def _visibility(item, cfg):
    rel = os.path.relpath(str(item.path), cfg.tests_dir)
    return HIDDEN_VISIBILITY if "hidden" in rel.split(os.sep)[:-1] else "visible"


@pytest.fixture
def submission(request):
    """The student's file under test, run in a sandboxed child process per session."""
    cfg = _assignment(request.config, request.path)
    folder = os.environ.get(SUBMISSION_ENV) or cfg.root
    limits = cfg.limits
    timeout = request.config.getoption("--grading-timeout")
    if timeout is not None:
        limits = dataclasses.replace(limits, timeout=timeout)
    sub = Submission(os.path.join(folder, cfg.student_file), limits, cfg.forbidden)
    request.node._grading_submission = sub
    return sub


@pytest.fixture
def rng(request):
    """numpy Generator for inputs drawn at grade time; reproducible from the printed seed."""
    request.node._grading_rng_used = True
    seed = request.config._grading.seed
    return np.random.default_rng([seed, zlib.crc32(request.node.nodeid.encode())])


def _failure_text(call, report):
    excinfo = call.excinfo
    if excinfo is None:
        return report.longreprtext
    if isinstance(excinfo.value, SubmissionFailure):
        return str(excinfo.value)
    if excinfo.typename == "Skipped":
        return f"skipped: {excinfo.value}"
    return excinfo.exconly()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    points = _points(item)
    if points is None:
        return
    state = item.config._grading
    record = state.records.setdefault(item.nodeid, {"ok": True, "messages": []})
    if not report.passed:
        record["ok"] = False
        record["messages"].append(_failure_text(call, report))
    if call.when == "teardown":
        _finish_record(item, record, points)


def _finish_record(item, record, points):
    cfg = _assignment(item.config, item.path)
    parts = list(record.pop("messages"))
    sub = getattr(item, "_grading_submission", None)
    printed = sub.output() if sub is not None else ""
    if printed.strip():
        parts.append("Output of the submission:\n" + printed)
    if getattr(item, "_grading_rng_used", False):
        parts.append(f"(random inputs: {SEED_ENV}={item.config._grading.seed})")
    passed = record.pop("ok")
    record.update(
        name=_test_name(item, cfg),
        score=points if passed else 0,
        max_score=points,
        status="passed" if passed else "failed",
        output=_truncate("\n".join(parts), cfg.limits.output_bytes),
        visibility=_visibility(item, cfg),
    )


def _truncate(text, limit):
    text = safe_text(text)
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore") + f"\n[... output truncated to {limit} bytes]"


def _results(config):
    state = config._grading
    tests = []
    for item in state.graded:
        record = state.records.get(item.nodeid)
        if record is None or "name" not in record:
            cfg = _assignment(config, item.path)
            points = _points(item)
            record = {
                "name": _test_name(item, cfg),
                "score": 0,
                "max_score": points,
                "status": "failed",
                "output": "not run",
                "visibility": _visibility(item, cfg),
            }
        tests.append(record)
    return tests


def _fmt(x):
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def pytest_unconfigure(config):
    """Print the score as the very last line, after pytest's own summary."""
    state = getattr(config, "_grading", None)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if state is None or reporter is None or not state.graded or config.option.collectonly:
        return
    tests = _results(config)
    score = sum(t["score"] for t in tests)
    total = sum(t["max_score"] for t in tests)
    reporter.write_line(f"Score: {_fmt(score)}/{_fmt(total)}")


def pytest_sessionfinish(session, exitstatus):
    path = session.config.getoption("--grading-results")
    if not path:
        return
    wait_for_sessions()  # the verdicts are written only once every student process is gone
    tests = _results(session.config)
    payload = {
        "score": sum(t["score"] for t in tests),
        "max_score": sum(t["max_score"] for t in tests),
        "seed": session.config._grading.seed,
        "tests": tests,
    }
    # Write-then-rename: this replaces anything a submission may have put at the path.
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".results-")
    with os.fdopen(fd, "w") as f:
        json.dump(payload, f, indent=1)
    os.replace(tmp, path)
