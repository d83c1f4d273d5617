"""PrairieLearn: an externally graded question, its grading image, and its entrypoint's driver.

`build` writes what a course repository needs::

    questions/<name>/info.json            externalGradingOptions: image, entrypoint, serverFilesCourse,
                                          timeout, networking off
    questions/<name>/question.html        a file upload for the student file, the grader's results
    questions/<name>/tests/               assignment.toml, conftest.py, public/ and hidden/ tests
    serverFilesCourse/<name>/run.sh       the entrypoint (PrairieLearn mounts it at /grade/serverFilesCourse)
    image/Dockerfile                      the grading image: a Python image with the kit in its own venv
    image/install_kit.sh, requirements.txt, kit/   what the Dockerfile installs

PrairieLearn gives the container ``/grade/tests`` (the question's tests/), ``/grade/student``
(the uploaded files) and ``/grade/serverFilesCourse``, runs the entrypoint, and reads
``/grade/results/results.json``. run.sh calls ``python -m cs231n_pool.grading.prairielearn ROOT``
(`main` below). $CS231N_POOL_GRADE_ROOT replaces /grade and $CS231N_POOL_PYTHON the grading
interpreter, so the entrypoint also runs without Docker on a /grade-like tree.
"""

import dataclasses
import html
import json
import os
import shutil
import sys
import tempfile
import uuid

from .bundle import EXECUTABLE, assignment_files, installer_files, template, write_folder
from .config import CONFIG_NAME, ConfigError, load_config
from .container import PlatformError, grade_in_container
from .grade import SKIP_DIRS, SubmissionRejected, fetch_student_file
from .points_chart import points_chart_image
from .results import GRADER_FAILED, GradingResults, prairielearn_json, text_table, write_output

VENV = "/opt/cs231n-pool/venv"  # in the grading image
TIMEOUT = 600  # seconds: PrairieLearn's maximum; a submission that times out in
# every test needs about (number of tests) x (per-test limit)


def info_json(cfg, image):
    """The question's info.json as a dict."""
    return {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"cs231n_pool/{cfg.name}")),  # stable across rebuilds
        "title": cfg.title,
        "topic": cfg.name,
        "type": "v3",
        "singleVariant": True,
        "gradingMethod": "External",
        "externalGradingOptions": {
            "enabled": True,
            "image": image,
            "entrypoint": f"/grade/serverFilesCourse/{cfg.name}/run.sh",
            "serverFilesCourse": [f"{cfg.name}/"],
            "timeout": TIMEOUT,
            "enableNetworking": False,
        },
    }


def course_files(cfg, image):
    """{path under the output folder: (bytes, mode)}."""
    question = f"questions/{cfg.name}"
    files = {
        f"{question}/info.json": (json.dumps(info_json(cfg, image), indent=2).encode() + b"\n", 0o644),
        f"{question}/question.html": (
            template(
                "prairielearn/question.html",
                TITLE=html.escape(cfg.title),
                STUDENT_FILE=html.escape(cfg.student_file),
                NOTEBOOKS=html.escape(", ".join(cfg.graded_notebooks)),
            ).encode(),
            0o644,
        ),
        f"serverFilesCourse/{cfg.name}/run.sh": (
            template("prairielearn/run.sh", VENV=VENV, GRADER_FAILED=GRADER_FAILED).encode(),
            EXECUTABLE,
        ),
        "image/Dockerfile": (template("prairielearn/Dockerfile", VENV=VENV).encode(), 0o644),
    }
    for rel, data in assignment_files(cfg).items():
        # assignment.toml sits next to the tests: the tests/ folder is all PrairieLearn copies.
        files[f"{question}/tests/{rel.removeprefix('tests/')}"] = (data, 0o644)
    files.update({"image/" + rel: value for rel, value in installer_files().items()})
    return files


def build(cfg, out_dir, image):
    """Write the question, serverFilesCourse and image folders under out_dir; returns their paths."""
    files = course_files(cfg, image)
    write_folder(out_dir, files)
    return sorted(files)


# --- in the container ---------------------------------------------------------------------------


def assemble_assignment(tests_dir, dest):
    """Rebuild the assignment folder (assignment.toml + tests/) from the question's tests/ in dest."""
    if not os.path.isfile(os.path.join(tests_dir, CONFIG_NAME)):
        raise ConfigError(f"{tests_dir} has no {CONFIG_NAME}")
    os.makedirs(dest)
    shutil.copyfile(os.path.join(tests_dir, CONFIG_NAME), os.path.join(dest, CONFIG_NAME))
    shutil.copytree(tests_dir, os.path.join(dest, "tests"), ignore=shutil.ignore_patterns(CONFIG_NAME, *SKIP_DIRS))
    return load_config(dest)


def format_errors(student_dir, cfg, scratch):
    """Why the submission cannot be graded at all (missing, unreadable, syntax error); [] if it can.

    Only compiles the student file, never runs it.
    """
    os.makedirs(scratch)
    try:
        fetch_student_file(student_dir, cfg.student_file, scratch)
    except SubmissionRejected as exc:
        return [f"the submission was rejected: {exc}"]
    path = os.path.join(scratch, cfg.student_file)
    if not os.path.isfile(path):
        return [f"the submission has no {cfg.student_file}"]
    with open(path, "rb") as f:
        source = f.read()
    try:
        compile(source, cfg.student_file, "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f"{cfg.student_file}, line {exc.lineno}" if exc.lineno else cfg.student_file
        text = f": {exc.text.strip()}" if exc.text and exc.text.strip() else ""
        return [f"{where}: {exc.msg}{text}"]
    except (ValueError, RecursionError, MemoryError) as exc:
        return [f"{cfg.student_file} cannot be compiled: {exc}"]
    return []


def import_failure(results, student_file):
    """The reason when the student file raised on import (the grader's status says so), else ""."""
    prefix = f"importing {student_file} raised "
    if results.status != "does not import":
        return ""
    line = next((line for line in results.output.splitlines() if line.startswith(prefix)), prefix)
    return f"{student_file} does not import: " + line[len(prefix) :]


def grade(root):
    """Grade ROOT/student against ROOT/tests; returns the GradingResults."""
    student = os.path.join(root, "student")
    with tempfile.TemporaryDirectory(prefix="cs231n-pool-prairielearn-") as tmp:
        try:
            cfg = assemble_assignment(os.path.join(root, "tests"), os.path.join(tmp, "assignment"))
        except (ConfigError, OSError) as exc:
            return GradingResults.failed_on_grader(f"the question's tests/ folder is not usable: {exc}", student)
        errors = format_errors(student, cfg, os.path.join(tmp, "student"))
        if errors:
            return GradingResults(submission=student, format_errors=tuple(errors))
        try:
            results = grade_in_container(os.path.join(tmp, "assignment"), student)
        except PlatformError as exc:
            return GradingResults.failed_on_grader(str(exc), student)
    reason = import_failure(results, cfg.student_file)
    return dataclasses.replace(results, format_errors=(reason,)) if reason else results


def main(argv=None):
    """run.sh's driver: grade ROOT/student into ROOT/results/results.json."""
    argv = sys.argv[1:] if argv is None else argv
    root = argv[0] if argv else os.environ.get("CS231N_POOL_GRADE_ROOT", "/grade")
    results = grade(root)
    images = [points_chart_image(results)] if results.gradable else []
    write_output(
        os.path.join(root, "results", "results.json"), json.dumps(prairielearn_json(results, images), indent=2) + "\n"
    )
    sys.stdout.write(text_table(results, f"Graded {os.path.join(root, 'student')}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
