"""Gradescope: the autograder zip, its grading driver, and a local simulation of a Gradescope run.

The zip (a Gradescope "zip file upload" autograder) holds::

    setup.sh          Gradescope runs it once, as root, to build the image: apt-get installs the
                      system packages, install_kit.sh the kit into /autograder/venv
    run_autograder    run for every submission: /autograder/submission -> results/results.json
    install_kit.sh    venv + pinned requirements + the kit (numpy kernels if Cython cannot build)
    requirements.txt  every package of the grading venv, pinned
    assignment/       assignment.toml and tests/ (conftest, public and hidden): no solution
    kit/              the cs231n_pool package and its build recipe

run_autograder calls ``python -m cs231n_pool.grading.gradescope ROOT`` (`main` below), which
always writes a results.json: when grading fails on the grader's side it scores 0 and names what
failed. Overrides, for local runs: $AUTOGRADER_ROOT replaces /autograder, $AUTOGRADER_PYTHON the
grading interpreter, and CS231N_POOL_SKIP_APT=1 makes setup.sh install no system packages.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

from .bundle import EXECUTABLE, assignment_files, installer_files, template, write_zip
from .container import PlatformError, grade_in_container
from .results import GRADER_FAILED, GradingResults, gradescope_json, text_table, write_output

VENV = "venv"  # under the /autograder root
SETUP_LOG = "setup.log"


class SimulationError(RuntimeError):
    """The simulated Gradescope run could not be carried out."""


def bundle_files(cfg):
    """{name in the zip: (bytes, mode)}."""
    files = {
        "setup.sh": (template("gradescope/setup.sh", VENV=VENV).encode(), EXECUTABLE),
        "run_autograder": (
            template("gradescope/run_autograder", VENV=VENV, GRADER_FAILED=GRADER_FAILED).encode(),
            EXECUTABLE,
        ),
    }
    files.update(installer_files())
    files.update({"assignment/" + rel: (data, 0o644) for rel, data in assignment_files(cfg).items()})
    return files


def build(cfg, out_path):
    """Write the Gradescope zip of the assignment `cfg`; returns the names in it."""
    files = bundle_files(cfg)
    write_zip(out_path, files)
    return sorted(files)


# --- in the container ---------------------------------------------------------------------------


def main(argv=None):
    """run_autograder's driver: grade ROOT/submission into ROOT/results/results.json."""
    argv = sys.argv[1:] if argv is None else argv
    root = argv[0] if argv else os.environ.get("AUTOGRADER_ROOT", "/autograder")
    submission = os.path.join(root, "submission")
    try:
        results = grade_in_container(os.path.join(root, "source", "assignment"), submission)
    except PlatformError as exc:
        results = GradingResults.failed_on_grader(str(exc), submission)
    write_output(os.path.join(root, "results", "results.json"), json.dumps(gradescope_json(results), indent=2) + "\n")
    sys.stdout.write(text_table(results, f"Graded {submission}"))  # Gradescope shows this to the staff
    return 0


# --- local simulation ---------------------------------------------------------------------------


def _extract(zip_path, dest):
    """Unpack the zip as Gradescope does, keeping the executable bits."""
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            path = zf.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(path, mode)


def _place_submission(submission, dest):
    """Put a submission folder, .zip or single file where Gradescope puts the student's files."""
    os.makedirs(dest)
    if os.path.isdir(submission):
        shutil.copytree(submission, dest, dirs_exist_ok=True)
    elif zipfile.is_zipfile(submission):
        with zipfile.ZipFile(submission) as zf:
            zf.extractall(dest)
    elif os.path.isfile(submission):
        shutil.copy(submission, dest)
    else:
        raise SimulationError(f"submission={submission!r} is not a folder, a .zip or a file")


def _run_logged(cmd, cwd, env, log_path):
    with open(log_path, "wb") as log:
        return subprocess.run(
            cmd, check=False, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        ).returncode


def _tail(path, lines=40):
    with open(path, encoding="utf-8", errors="replace") as f:
        return "".join(f.readlines()[-lines:]).rstrip()


def simulate(zip_path, submissions, tree=None, report=print):
    """Run the zip as Gradescope would: setup.sh once, then run_autograder for each submission.

    The run happens in `tree` (new or empty; kept) or in a throwaway folder: ``source/`` holds
    the unpacked zip, ``venv/`` the venv setup.sh makes, and each submission is graded in a fresh
    ``submission/`` and ``results/``. setup.sh runs with CS231N_POOL_SKIP_APT=1: this machine's
    own compiler (or none) stands in for the image's system packages. `report(text)` receives the
    progress lines. Returns [(submission, GradingResults, results.json dict)]; a results.json
    that names a grader-side failure has no tests, and its ``output`` says what failed.
    """
    own_tree = tree is None
    tree = os.path.abspath(tempfile.mkdtemp(prefix="cs231n-pool-gradescope-") if own_tree else tree)
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_PYTHON"}
    env.update(AUTOGRADER_ROOT=tree, CS231N_POOL_SKIP_APT="1")
    try:
        source = os.path.join(tree, "source")
        _extract(zip_path, source)
        log = os.path.join(tree, SETUP_LOG)
        report(f"Running setup.sh in {tree} (creates its venv and installs the pinned packages) ...")
        status = _run_logged(["bash", os.path.join(source, "setup.sh")], source, env, log)
        if status != 0:
            raise SimulationError(f"setup.sh failed with status {status}; the end of its log:\n{_tail(log)}")
        with open(log, encoding="utf-8", errors="replace") as f:  # the scripts' own lines summarize it
            report("".join(line for line in f if line.startswith(("setup.sh:", "install_kit.sh:"))).rstrip())
        shutil.copy(os.path.join(source, "run_autograder"), os.path.join(tree, "run_autograder"))
        outcomes = []
        for submission in submissions:
            for name in ("submission", "results"):
                shutil.rmtree(os.path.join(tree, name), ignore_errors=True)
            _place_submission(submission, os.path.join(tree, "submission"))
            os.makedirs(os.path.join(tree, "results"))
            _run_logged(
                ["bash", os.path.join(tree, "run_autograder")], tree, env, os.path.join(tree, "results", "stdout")
            )
            try:
                with open(os.path.join(tree, "results", "results.json"), encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError) as exc:
                raise SimulationError(
                    f"run_autograder wrote no readable results.json for {submission} ({exc}); "
                    f"its output:\n{_tail(os.path.join(tree, 'results', 'stdout'))}"
                ) from None
            outcomes.append((submission, GradingResults.from_dict(data, submission), data))
        return outcomes
    finally:
        if own_tree:
            shutil.rmtree(tree, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
