"""What a person reads about one graded submission: its status, skills, failures and written answers.

- :func:`submission_status` says whether the student file was graded at all: ``graded``,
  ``no file`` or ``does not import`` (``could not grade: REASON`` is grade-all's, when the
  grader itself failed). :func:`collapse_import_failure` then puts the one reason at the top
  of the results and shortens the tests that could not run to a reference to it, so the same
  traceback is not repeated in every test.
- :func:`skill_of` names the skill a graded test checks (its test function, without
  ``test_``): the public and the hidden test of a skill share it.
- :func:`written_answers` collects the written questions of the notebooks and what the
  student wrote under them, for a person to grade (they carry no points here).
- :func:`feedback_markdown` writes the student's feedback: score per skill, each failed test
  with its message and likely cause, and the written answers, in a form an instructor can
  forward.
"""

import json
import os
import re

from .results import fmt_points

GRADED, NO_FILE, DOES_NOT_IMPORT = "graded", "no file", "does not import"
COULD_NOT_GRADE = "could not grade: {reason}"
QUESTIONS_HEADING = re.compile(r"^#+\s*Questions\s*$", re.MULTILINE | re.IGNORECASE)
HEADING = re.compile(r"^#+\s", re.MULTILINE)
MAX_ANSWER_CHARS = 4000


def _no_file_message(student_file):
    return f"the submission has no {student_file}"


def _import_message(student_file):
    return f"importing {student_file} raised "


def _failed_import(output, student_file):
    return output.startswith(_import_message(student_file)) or output.startswith(_no_file_message(student_file))


def submission_status(tests, student_file):
    """(status, reason) of a graded run, from its test records: the reason is '' when graded.

    The file does not import when every test that failed did so while importing it (the
    notebook exercises, which do not import it, may still pass)."""
    failed = [t for t in tests if t["status"] != "passed"]
    if failed and any(t["output"].startswith(_no_file_message(student_file)) for t in failed):
        return NO_FILE, _no_file_message(student_file)
    importing = [t for t in failed if t["output"].startswith(_import_message(student_file))]
    if importing and all(_failed_import(t["output"], student_file) or _is_notebook(t["name"]) for t in failed):
        return DOES_NOT_IMPORT, importing[0]["output"].split("\n(random inputs:")[0].strip()
    return GRADED, ""


def collapse_import_failure(results, student_file):
    """Results with the reason a file was not graded said once, at the top; returns (results, status).

    ``results`` is the dict of ``grade.grade_submission``; the tests that could not run keep
    their score (0) and say why in one line."""
    status, reason = submission_status(results["tests"], student_file)
    if status == GRADED:
        return dict(results, status=status), status
    short = (
        f"not run: {student_file} does not import (see the message above)"
        if status == DOES_NOT_IMPORT
        else f"not run: {_no_file_message(student_file)}"
    )
    tests = [
        dict(t, output=short) if t["status"] != "passed" and _failed_import(t["output"], student_file) else t
        for t in results["tests"]
    ]
    head = (
        f"{student_file} does not import, so none of its tests could run:\n{reason}"
        if status == DOES_NOT_IMPORT
        else f"{reason}, so none of its tests could run."
    )
    notes = [line for line in results.get("output", "").splitlines() if line != reason]
    output = "\n".join([head, *notes])
    return dict(results, tests=tests, output=output, status=status), status


def _is_notebook(name):
    return "notebook" in name.split("::")[0]


def skill_of(test_name):
    """The skill a test checks: its function name without test_ (e.g. 'max_forward_output_size'),
    after 'notebook:' for a notebook exercise (e.g. 'notebook:output_size')."""
    function = test_name.rsplit("::", 1)[-1]
    skill = function[len("test_") :] if function.startswith("test_") else function
    return f"notebook:{skill}" if _is_notebook(test_name) else skill


def kind_of(record):
    """'public' or 'hidden'."""
    return "public" if record["visibility"] == "visible" else "hidden"


def skill_totals(tests):
    """{skill: (points, max points)} over the public and hidden tests of each skill, in test order."""
    totals = {}
    for t in tests:
        score, top = totals.get(skill_of(t["name"]), (0, 0))
        totals[skill_of(t["name"])] = (score + t["score"], top + t["max_score"])
    return totals


# --- written questions ---------------------------------------------------------------------------------


def _markdown_cells(path):
    with open(path, encoding="utf-8") as f:
        cells = json.load(f).get("cells", [])
    for cell in cells:
        source = cell.get("source", "")
        yield cell.get("cell_type"), "".join(source) if isinstance(source, list) else str(source)


def written_answers(folder):
    """[{"notebook", "questions", "answers"}] for each notebook of folder with a Questions section.

    ``answers`` is the text of the markdown cells the student added after the questions (up to
    the next heading or code cell), '' when there is none."""
    found = []
    for name in sorted(n for n in os.listdir(folder) if n.endswith(".ipynb")):
        try:
            cells = list(_markdown_cells(os.path.join(folder, name)))
        except (OSError, ValueError, AttributeError):
            continue
        for index, (kind, source) in enumerate(cells):
            match = QUESTIONS_HEADING.search(source) if kind == "markdown" else None
            if match is None:
                continue
            questions = source[match.end() :].strip()
            answers = []
            for later_kind, later in cells[index + 1 :]:
                if later_kind != "markdown" or HEADING.match(later.lstrip()):
                    break
                answers.append(later.strip())
            found.append(
                {
                    "notebook": name,
                    "questions": questions,
                    "answers": "\n\n".join(a for a in answers if a)[:MAX_ANSWER_CHARS],
                }
            )
    return found


# --- feedback.md ---------------------------------------------------------------------------------------


def _quote(text):
    return "\n".join("    " + line for line in text.splitlines())


def feedback_markdown(student, results, status, title=""):
    """The feedback of one student as Markdown: score, status, skills, failed tests, written answers."""
    tests = results["tests"] if results else []
    total = sum(t["max_score"] for t in tests)
    lines = [f"# Feedback for {student}" + (f": {title}" if title else ""), ""]
    if results is None:
        lines += [f"Not graded ({status}). The course staff will look at this submission.", ""]
        return "\n".join(lines)
    lines += [f"**Score: {fmt_points(results['score'])}/{fmt_points(total)}** ({status})", ""]
    if results.get("output"):
        lines += ["## About the submission", "", _quote(results["output"]), ""]
    lines += ["## Score per skill", "", "| skill | points | public | hidden |", "|---|---|---|---|"]
    by_skill = {}
    for t in tests:
        by_skill.setdefault(skill_of(t["name"]), []).append(t)
    for skill, records in by_skill.items():
        score = sum(t["score"] for t in records)
        top = sum(t["max_score"] for t in records)
        verdict = {
            kind: ", ".join("passed" if t["status"] == "passed" else "failed" for t in records if kind_of(t) == kind)
            or "-"
            for kind in ("public", "hidden")
        }
        lines.append(f"| {skill} | {fmt_points(score)}/{fmt_points(top)} | {verdict['public']} | {verdict['hidden']} |")
    failed = [t for t in tests if t["status"] != "passed"]
    lines += ["", "## Failed tests", ""]
    if not failed:
        lines += ["None: every test passed.", ""]
    for t in failed:
        lines += [f"### {t['name']} ({kind_of(t)}, 0/{fmt_points(t['max_score'])})", "", _quote(t["output"]), ""]
    written = results.get("written", [])
    lines += ["## Written questions (ungraded here: for the course staff to grade)", ""]
    if not written:
        lines += ["No notebook with written questions was submitted.", ""]
    for entry in written:
        lines += [
            f"### {entry['notebook']}",
            "",
            _quote(entry["questions"]),
            "",
            "Answer:",
            "",
            _quote(entry["answers"]) if entry["answers"] else "    (no answer written)",
            "",
        ]
    return "\n".join(lines)
