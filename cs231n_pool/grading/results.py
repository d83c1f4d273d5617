"""One results model for a graded submission, and the writers that turn it into files.

`GradingResults` is what grading found: one `TestResult` per graded test, the notes for the
whole submission, and, when it could not be graded, why (`format_errors` for the student's
side, `grader_error` for ours). Every output is written from it:

- `gradescope_json`: Gradescope's results.json (``score``, ``execution_time``, ``output``,
  ``tests[]`` with ``name``, ``score``, ``max_score``, ``status``, ``output``, ``visibility``);
- `prairielearn_json`: PrairieLearn's results.json (``gradable``, ``score`` in [0, 1],
  ``message``, ``output``, ``format_errors``, ``tests[]`` with ``name``, ``description``,
  ``points``, ``max_points``, ``message``, ``output``; ``images`` given by the caller);
- `report_json` and `text_table`: the local report of ``cs231n-pool grade``.
"""

import os
import stat
from dataclasses import dataclass

PLUGIN_TEST_KEYS = ("name", "score", "max_score", "status", "output", "visibility")
STATUSES = ("passed", "failed")
VISIBILITIES = ("visible", "after_published")  # public tests, hidden tests
GRADER_FAILED = "The autograder failed on its side, not because of your code. Please contact the course staff."
HIDDEN_OUTPUT = "This is a hidden test: only its result is shown."


@dataclass(frozen=True)
class TestResult:
    """The verdict on one graded test."""

    __test__ = False  # not a pytest test class

    name: str
    score: float
    max_score: float
    passed: bool
    output: str
    visibility: str  # "visible" (public test) or "after_published" (hidden test)

    @property
    def hidden(self) -> bool:
        return self.visibility != "visible"


@dataclass(frozen=True)
class GradingResults:
    """What grading one submission found; every results file is written from this.

    Parameters
    ----------
    tests : tuple of TestResult
        One entry per graded test, in collection order.
    execution_time : float
        Seconds the grading run took.
    output : str
        Notes on the whole submission (e.g. "graded sub/pooling_layers.py").
    submission : str
        The submission path, as given to the grader.
    format_errors : tuple of str
        Non-empty when the submission could not be graded: the file is missing or does not import.
    grader_error : str
        Non-empty when grading failed on the grader's side; names what broke.
    isolation : str
        The isolation level student code ran under, when the grader reports one.
    status : str
        Whether the student file could be graded: ``graded``, ``no file`` or ``does not import``
        ('' when the grader did not say); the reason is in ``output``.
    """

    tests: tuple = ()
    execution_time: float = 0.0
    output: str = ""
    submission: str = ""
    format_errors: tuple = ()
    grader_error: str = ""
    isolation: str = ""
    status: str = ""

    @property
    def gradable(self) -> bool:
        return not self.format_errors and not self.grader_error

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tests)

    @classmethod
    def from_dict(cls, data, submission=""):
        """Results from the dict `grade.grade_submission` returns (or a JSON report of it)."""
        tests = tuple(
            TestResult(
                name=t["name"],
                score=t["score"],
                max_score=t["max_score"],
                passed=t["status"] == "passed",
                output=t["output"],
                visibility=t["visibility"],
            )
            for t in data["tests"]
        )
        return cls(
            tests=tests,
            execution_time=data.get("execution_time", 0.0),
            output=data.get("output", ""),
            submission=data.get("submission", submission),
            isolation=data.get("isolation", ""),
            status=data.get("status", ""),
        )

    @classmethod
    def failed_on_grader(cls, reason, submission=""):
        """Results for a run the grader could not complete; `reason` names what broke."""
        return cls(submission=submission, grader_error=reason)


def fmt_points(x):
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def validate_plugin_results(payload):
    """Check the JSON written by the pytest plugin; returns its test records or raises ValueError."""
    if not isinstance(payload, dict) or not isinstance(payload.get("tests"), list):
        raise ValueError("results file has no tests list")
    tests = []
    for record in payload["tests"]:
        if not isinstance(record, dict) or not all(k in record for k in PLUGIN_TEST_KEYS):
            raise ValueError(f"malformed test record {record!r:.200}")
        if record["status"] not in STATUSES:
            raise ValueError(f"bad status {record['status']!r}")
        if record["visibility"] not in VISIBILITIES:
            raise ValueError(f"bad visibility {record['visibility']!r}")
        tests.append({k: record[k] for k in PLUGIN_TEST_KEYS})
    return tests


def gradescope_results(tests, execution_time, output=""):
    """The Gradescope-shaped dict `grade.grade_submission` returns, from the plugin's records."""
    return {
        "score": sum(t["score"] for t in tests),
        "execution_time": round(execution_time, 3),
        "output": output,
        "tests": tests,
    }


# --- writers -------------------------------------------------------------------------------------


def _problem_text(results):
    """The one-paragraph reason a submission was not graded, for platforms without `gradable`."""
    if results.grader_error:
        return f"{GRADER_FAILED}\nWhat failed: {results.grader_error}"
    return "Your submission could not be graded:\n" + "\n".join(f"- {e}" for e in results.format_errors)


def _isolation(results):
    return {"isolation": results.isolation} if results.isolation else {}


def gradescope_json(results):
    """Gradescope's results.json as a dict. A submission that could not be graded scores 0, and
    ``output`` says why. The isolation level goes in ``extra_data``, Gradescope's field for it."""
    extra = {"extra_data": _isolation(results)} if results.isolation else {}
    if not results.gradable:
        return {
            "score": 0,
            "execution_time": round(results.execution_time, 3),
            "output": _problem_text(results),
            "tests": [],
            **extra,
        }
    return {
        "score": results.score,
        "execution_time": round(results.execution_time, 3),
        "output": results.output,
        "tests": [
            {
                "name": t.name,
                "score": t.score,
                "max_score": t.max_score,
                "status": "passed" if t.passed else "failed",
                "output": t.output,
                "visibility": t.visibility,
            }
            for t in results.tests
        ],
        **extra,
    }


def _first_line(text):
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def prairielearn_json(results, images=()):
    """PrairieLearn's results.json as a dict; `images` (``{"label", "url"}`` dicts) go with a graded one.

    ``score`` is the fraction of points. A submission that could not be graded gets
    ``gradable: false`` with its ``format_errors`` (PrairieLearn then awards nothing and does not
    count the attempt); so does a run that failed on the grader's side, so that no student loses
    an attempt to it. PrairieLearn shows every test at once, so a hidden test reports its points
    but not its failure text.
    """
    if not results.gradable:
        errors = [_problem_text(results)] if results.grader_error else list(results.format_errors)
        return {
            "gradable": False,
            "format_errors": errors,
            "message": errors[0],
            "output": results.output,
            **_isolation(results),
        }
    tests = []
    for t in results.tests:
        verdict = "passed" if t.passed else "failed"
        if t.hidden:
            message, output = verdict, "" if t.passed else HIDDEN_OUTPUT
        else:
            message, output = (verdict if t.passed else _first_line(t.output) or verdict), t.output
        tests.append(
            {
                "name": t.name,
                "description": "hidden test" if t.hidden else "public test",
                "points": t.score,
                "max_points": t.max_score,
                "message": message,
                "output": output,
            }
        )
    total = results.max_score
    return {
        "gradable": True,
        "score": results.score / total if total else 0.0,
        "message": f"{fmt_points(results.score)}/{fmt_points(total)} points",
        "output": results.output,
        "tests": tests,
        **({"images": list(images)} if images else {}),
        **_isolation(results),
    }


def report_json(results):
    """The JSON report of ``cs231n-pool grade --format json``: Gradescope's fields plus
    ``max_score`` and ``submission``."""
    report = {k: v for k, v in gradescope_json(results).items() if k != "extra_data"}
    status = {"status": results.status} if results.status else {}
    return dict(report, max_score=results.max_score, submission=results.submission, **_isolation(results), **status)


def text_table(results, title=""):
    """A readable report: one row per test, the failure output under each failed test, the total."""
    lines = [title] if title else []
    if not results.gradable:
        lines.append(_problem_text(results))
        return "\n".join(lines) + "\n"
    tests = results.tests
    width = max([len(t.name) for t in tests] + [4])
    lines.append(f"{'test'.ljust(width)}  {'points':>7}  status")
    lines.append("-" * (width + 17))
    for t in tests:
        points = f"{fmt_points(t.score)}/{fmt_points(t.max_score)}"
        lines.append(f"{t.name.ljust(width)}  {points:>7}  {'passed' if t.passed else 'failed'}")
    for t in tests:
        if not t.passed and t.output:
            lines.append("")
            lines.append(f"== {t.name} ({t.visibility})")
            lines.extend("   " + line for line in t.output.splitlines())
    if results.output:
        lines.append("")
        lines.append(results.output)
    lines.append("")
    if results.isolation:
        lines.append(f"Isolation of student code: {results.isolation}")
    lines.append(f"Score: {fmt_points(results.score)}/{fmt_points(results.max_score)}")
    return "\n".join(lines) + "\n"


def write_output(path, data):
    """Write bytes or text at path, replacing whatever is there without following a link.

    Output paths appear on the grader's command line, so a submission can find them and
    plant a symbolic link there while it runs; the grader must not write through it.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.islink(folder):
        raise OSError(f"{folder} is a symbolic link; refusing to write {os.path.basename(path)} there")
    os.makedirs(folder, exist_ok=True)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None:
        if stat.S_ISDIR(mode):
            raise OSError(f"{path} is a folder")
        os.remove(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
