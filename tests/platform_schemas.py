"""Checks of the files the platforms read, against the fields each platform documents.

Written from the platforms' documentation, independently of the writers they check:

- Gradescope, autograder specification, "Output format": results.json has ``score``,
  ``execution_time``, ``output``, ``output_format``, ``test_output_format``, ``test_name_format``,
  ``visibility``, ``stdout_visibility``, ``extra_data``, ``tests`` and ``leaderboard``; a test has
  ``score``, ``max_score``, ``status`` ("passed" or "failed"), ``name``, ``name_format``,
  ``number``, ``output``, ``output_format``, ``tags``, ``visibility`` and ``extra_data``; a
  visibility is one of hidden, after_due_date, after_published, visible.
- PrairieLearn, "External grading": results.json has ``gradable`` (false: not graded, no attempt
  used), ``score`` in [0, 1] (required when gradable), ``message``, ``output``, ``format_errors``
  (a string or a list of strings), ``images`` and ``tests``; a test has ``name``,
  ``description``, ``points``, ``max_points``, ``message``, ``output`` and ``images`` (any other
  top-level data may be added, within the size limit); an image is
  ``{"url": ..., "label": ...}`` or a URL string; the file is at most 1 MB. info.json's
  ``externalGradingOptions`` has ``enabled``, ``image`` (required), ``entrypoint``,
  ``serverFilesCourse`` (a list), ``timeout`` (seconds, at most 600), ``enableNetworking`` and
  ``environment``.
"""

import json
import numbers

GRADESCOPE_TOP = {
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
}
GRADESCOPE_TEST = {
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
}
GRADESCOPE_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
PL_TEST = {"name", "description", "points", "max_points", "message", "output", "images"}
PL_OPTIONS = {"enabled", "image", "entrypoint", "serverFilesCourse", "timeout", "enableNetworking", "environment"}
PL_MAX_BYTES = 1 << 20
PL_MAX_TIMEOUT = 600


def _number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_gradescope(data):
    """Assert that `data` (a parsed results.json) uses only Gradescope's documented fields, rightly typed."""
    assert isinstance(data, dict), data
    assert set(data) <= GRADESCOPE_TOP, set(data) - GRADESCOPE_TOP
    assert "score" in data or "tests" in data, "Gradescope needs a top-level score or per-test scores"
    for key in ("score", "execution_time"):
        assert key not in data or _number(data[key]), (key, data[key])
    for key in ("output", "visibility", "stdout_visibility"):
        assert key not in data or isinstance(data[key], str), (key, data[key])
    for key in ("visibility", "stdout_visibility"):
        assert key not in data or data[key] in GRADESCOPE_VISIBILITY, (key, data[key])
    assert "extra_data" not in data or isinstance(data["extra_data"], dict)
    for test in data.get("tests", []):
        assert set(test) <= GRADESCOPE_TEST, set(test) - GRADESCOPE_TEST
        assert "score" in test or "score" in data, test
        for key in ("score", "max_score"):
            assert key not in test or _number(test[key]), (key, test)
        for key in ("name", "output", "number"):
            assert key not in test or isinstance(test[key], str), (key, test)
        assert "status" not in test or test["status"] in ("passed", "failed"), test
        assert "visibility" not in test or test["visibility"] in GRADESCOPE_VISIBILITY, test
        assert "tags" not in test or all(isinstance(t, str) for t in test["tags"]), test


def _check_images(images):
    assert isinstance(images, list), images
    for image in images:
        if isinstance(image, dict):
            assert set(image) <= {"url", "label"} and isinstance(image["url"], str), image
        else:
            assert isinstance(image, str), image


def check_prairielearn(data):
    """Assert that `data` (a parsed results.json) has PrairieLearn's documented fields, rightly typed (its
    tests use no others; the top level may carry extra data, as the documentation allows)."""
    assert isinstance(data, dict), data
    assert len(json.dumps(data).encode()) <= PL_MAX_BYTES
    gradable = data.get("gradable", True)
    assert isinstance(gradable, bool), gradable
    if gradable:
        assert _number(data["score"]) and 0.0 <= data["score"] <= 1.0, data.get("score")
    else:
        errors = data.get("format_errors")
        assert isinstance(errors, str) or (
            isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors)
        ), errors
    for key in ("message", "output"):
        assert key not in data or isinstance(data[key], str), (key, data[key])
    if "images" in data:
        _check_images(data["images"])
    for test in data.get("tests", []):
        assert set(test) <= PL_TEST, set(test) - PL_TEST
        for key in ("name", "description", "message", "output"):
            assert key not in test or isinstance(test[key], str), (key, test)
        for key in ("points", "max_points"):
            assert key not in test or _number(test[key]), (key, test)
        assert test.get("points", 0) <= test.get("max_points", test.get("points", 0)), test
        if "images" in test:
            _check_images(test["images"])


def check_info_json(info):
    """Assert that the question's info.json enables external grading with documented options."""
    assert info["gradingMethod"] == "External" and info["type"] == "v3"
    options = info["externalGradingOptions"]
    assert set(options) <= PL_OPTIONS, set(options) - PL_OPTIONS
    assert options["enabled"] is True and isinstance(options["image"], str) and options["image"]
    assert isinstance(options["entrypoint"], str) and options["entrypoint"].startswith("/")
    assert isinstance(options["serverFilesCourse"], list) and all(
        isinstance(p, str) for p in options["serverFilesCourse"]
    )
    assert isinstance(options["timeout"], int) and 0 < options["timeout"] <= PL_MAX_TIMEOUT
    assert options.get("enableNetworking", False) is False
