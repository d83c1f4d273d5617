"""pytest plugin of the assignment folder (tests/conftest.py loads it).

- ``@pytest.mark.points(N)`` marks a graded test worth N points;
- the fixture ``submission`` is a :class:`runner.Submission` for the student's file at the
  assignment folder's root (the folder holding assignment.toml), or in the folder named by
  $POOLTOOLS_SUBMISSION; limits and forbidden imports come from assignment.toml;
- at the end: one line per graded test (PASS, FAIL or SKIP when not run; points; what it
  checks), then
  ``Score: X/N`` as the very last line.
"""

import os

import pytest

from .config import assignment_root, read_config
from .runner import Limits, Submission

SUBMISSION_ENV = "POOLTOOLS_SUBMISSION"


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n): the test is graded and worth n points")
    config._pooltools = {}  # nodeid -> [points, passed, first docstring line]


def _points(item):
    marker = item.get_closest_marker("points")
    if marker is None:
        return None
    value = marker.args[0] if marker.args else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.points needs a positive number, got {value!r}")
    return value


def pytest_collection_finish(session):
    for item in session.items:
        points = _points(item)
        if points is not None:
            doc = (getattr(item.obj, "__doc__", None) or item.name).strip().splitlines()[0]
            session.config._pooltools[item.nodeid] = [points, None, doc]


@pytest.fixture
def submission(request):
    """The student's file, run in a separate process with the assignment's limits."""
    root = assignment_root(request.path)
    cfg = read_config(root)
    given, default = cfg.get("limits", {}), Limits()
    limits = Limits(
        float(given.get("timeout", default.timeout)),
        int(given.get("memory_mb", default.memory_mb)),
        int(given.get("output_bytes", default.output_bytes)),
    )
    folder = os.environ.get(SUBMISSION_ENV) or root
    return Submission(
        os.path.join(folder, cfg["assignment"]["student_file"]), limits, cfg.get("imports", {}).get("forbidden", [])
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    record = item.config._pooltools.get(item.nodeid)
    if record is None:
        return
    if not report.passed:
        record[1] = False
        sub = item.funcargs.get("submission") if hasattr(item, "funcargs") else None
        printed = sub.output().strip() if isinstance(sub, Submission) else ""
        if printed and report.when == "call":  # shown with the failure, under this title
            report.sections.append(("printed by your code", printed))
    elif report.when == "call" and record[1] is None:
        record[1] = True


def _fmt(x):
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def pytest_unconfigure(config):
    """One line per graded test, then the score as the very last line."""
    records = getattr(config, "_pooltools", None)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if not records or reporter is None or config.option.collectonly:
        return
    reporter.write_line("")
    for nodeid, (points, passed, doc) in records.items():
        verdict = {True: "PASS", False: "FAIL", None: "SKIP"}[passed]
        name = nodeid.rsplit("/", 1)[-1]
        reporter.write_line(f"{verdict} {_fmt(points if passed else 0):>2}/{_fmt(points)}  {name}: {doc}")
    score = sum(points for points, passed, _ in records.values() if passed)
    total = sum(points for points, _, _ in records.values())
    reporter.write_line(f"Score: {_fmt(score)}/{_fmt(total)}")
