"""The results model and its writers: one GradingResults, written for Gradescope, PrairieLearn and
the local report, each checked value by value and against the platform's documented fields."""

import base64
import json
import xml.etree.ElementTree as ET

import pytest
from platform_schemas import check_gradescope, check_prairielearn

from cs231n_pool.grading.grade import render
from cs231n_pool.grading.points_chart import points_chart_image, points_per_file
from cs231n_pool.grading.results import (
    GRADER_FAILED,
    HIDDEN_OUTPUT,
    GradingResults,
    TestResult,
    gradescope_json,
    prairielearn_json,
    report_json,
    text_table,
    validate_plugin_results,
)

PUBLIC_FAIL = TestResult(
    "public/test_a.py::test_one", 0, 2, False, "max_pool_forward_naive raised ValueError: bad\nline two", "visible"
)
PUBLIC_PASS = TestResult("public/test_a.py::test_two", 3, 3, True, "", "visible")
HIDDEN_FAIL = TestResult("hidden/test_b.py::test_three", 0, 5, False, "expected 1.0, got 2.0", "after_published")
RESULTS = GradingResults(
    tests=(PUBLIC_FAIL, PUBLIC_PASS, HIDDEN_FAIL),
    execution_time=1.23456,
    output="graded sub/pooling_layers.py",
    submission="sub",
)
GRADE_DICT = {  # what grade.grade_submission returns for RESULTS
    "score": 3,
    "execution_time": 1.235,
    "output": "graded sub/pooling_layers.py",
    "tests": [
        {
            "name": t.name,
            "score": t.score,
            "max_score": t.max_score,
            "status": "passed" if t.passed else "failed",
            "output": t.output,
            "visibility": t.visibility,
        }
        for t in RESULTS.tests
    ],
}


def test_totals_and_gradable():
    assert (RESULTS.score, RESULTS.max_score, RESULTS.gradable) == (3, 10, True)
    assert not GradingResults(format_errors=("x",)).gradable
    assert not GradingResults.failed_on_grader("broke").gradable


def test_gradescope_writer():
    data = gradescope_json(RESULTS)
    assert data == GRADE_DICT
    check_gradescope(data)


def test_prairielearn_writer_gives_a_fraction_and_withholds_hidden_failure_text():
    data = prairielearn_json(RESULTS)
    check_prairielearn(data)
    assert data == {
        "gradable": True,
        "score": 0.3,
        "message": "3/10 points",
        "output": "graded sub/pooling_layers.py",
        "tests": [
            {
                "name": PUBLIC_FAIL.name,
                "description": "public test",
                "points": 0,
                "max_points": 2,
                "message": "max_pool_forward_naive raised ValueError: bad",
                "output": PUBLIC_FAIL.output,
            },
            {
                "name": PUBLIC_PASS.name,
                "description": "public test",
                "points": 3,
                "max_points": 3,
                "message": "passed",
                "output": "",
            },
            {
                "name": HIDDEN_FAIL.name,
                "description": "hidden test",
                "points": 0,
                "max_points": 5,
                "message": "failed",
                "output": HIDDEN_OUTPUT,
            },
        ],
    }


def test_a_submission_that_cannot_be_graded():
    results = GradingResults(submission="sub", format_errors=("pooling_layers.py, line 2: invalid syntax",))
    pl = prairielearn_json(results)
    check_prairielearn(pl)
    assert pl == {
        "gradable": False,
        "format_errors": ["pooling_layers.py, line 2: invalid syntax"],
        "message": "pooling_layers.py, line 2: invalid syntax",
        "output": "",
    }
    gs = gradescope_json(results)
    check_gradescope(gs)
    assert gs == {
        "score": 0,
        "execution_time": 0.0,
        "tests": [],
        "output": "Your submission could not be graded:\n- pooling_layers.py, line 2: invalid syntax",
    }


def test_a_grader_failure_names_what_broke_on_every_platform():
    results = GradingResults.failed_on_grader("pytest failed with status 3", "sub")
    expected = f"{GRADER_FAILED}\nWhat failed: pytest failed with status 3"
    gs, pl = gradescope_json(results), prairielearn_json(results)
    check_gradescope(gs)
    check_prairielearn(pl)
    assert gs["score"] == 0 and gs["tests"] == [] and gs["output"] == expected
    # gradable: false on PrairieLearn, so the student loses no attempt to our failure
    assert pl["gradable"] is False and pl["format_errors"] == [expected]
    assert text_table(results, "T") == f"T\n{expected}\n"


def test_the_isolation_level_is_carried_to_every_writer():
    results = GradingResults.from_dict(dict(GRADE_DICT, isolation="full"), "sub")
    assert results.isolation == "full"
    gs = gradescope_json(results)
    check_gradescope(gs)
    assert gs["extra_data"] == {"isolation": "full"}  # Gradescope's documented place for extra data
    assert prairielearn_json(results)["isolation"] == "full"  # PrairieLearn keeps any extra key
    assert report_json(results)["isolation"] == "full" and "extra_data" not in report_json(results)
    assert "Isolation of student code: full\nScore: 3/10\n" in text_table(results)


def test_from_dict_round_trips_the_report():
    report = report_json(RESULTS)
    assert report == dict(GRADE_DICT, max_score=10, submission="sub")
    assert GradingResults.from_dict(json.loads(json.dumps(report))) == GradingResults.from_dict(GRADE_DICT, "sub")


def test_render_writes_every_local_format_from_the_model():
    assert json.loads(render(GRADE_DICT, "gradescope", "sub")) == GRADE_DICT
    assert json.loads(render(GRADE_DICT, "json", "sub")) == dict(GRADE_DICT, max_score=10, submission="sub")
    text = render(GRADE_DICT, "text", "sub")
    assert text.startswith("Grading sub\n") and text.endswith("graded sub/pooling_layers.py\n\nScore: 3/10\n")
    assert "== hidden/test_b.py::test_three (after_published)\n   expected 1.0, got 2.0" in text


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "results file has no tests list"),
        ({"tests": [{"name": "a"}]}, "malformed test record {'name': 'a'}"),
        ({"tests": [dict(GRADE_DICT["tests"][0], status="ok")]}, "bad status 'ok'"),
        ({"tests": [dict(GRADE_DICT["tests"][0], visibility="hidden")]}, "bad visibility 'hidden'"),
    ],
)
def test_plugin_results_are_validated(payload, message):
    with pytest.raises(ValueError) as excinfo:
        validate_plugin_results(payload)
    assert str(excinfo.value) == message


def test_the_points_chart_has_one_bar_per_test_file_filled_in_proportion():
    assert points_per_file(RESULTS) == [("public/test_a.py", 3, 5), ("hidden/test_b.py", 0, 5)]
    image = points_chart_image(RESULTS)
    assert image["label"] == "Points per test file"
    prefix = "data:image/svg+xml;base64,"
    assert image["url"].startswith(prefix)
    svg = ET.fromstring(base64.b64decode(image["url"][len(prefix) :]))
    ns = "{http://www.w3.org/2000/svg}"
    assert [t.text for t in svg.iter(ns + "text")] == ["public/test_a.py", "3/5", "hidden/test_b.py", "0/5"]
    bars = [float(r.get("width")) for r in svg.iter(ns + "rect")]
    assert bars == [260, 156, 260, 0]  # background, then the earned share: 3/5 and 0/5 of 260 px
    data = prairielearn_json(RESULTS, [image])
    check_prairielearn(data)
    assert data["images"] == [image]
