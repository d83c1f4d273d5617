"""Grading inside a platform's container: `cs231n-pool grade`, run the same way for every platform.

Gradescope's run_autograder and PrairieLearn's entrypoint both grade through `grade_in_container`,
which runs the real ``cs231n-pool grade`` command (with `GRADE_OPTIONS`) and reads its JSON report
back into the results model; each platform then writes the model in its own format.
"""

import json
import os
import subprocess
import sys
import tempfile

from .results import GradingResults

# Options every platform run passes to `cs231n-pool grade`: the one place to set, e.g., the
# isolation level of student code.
GRADE_OPTIONS = ("--isolation", "auto")


class PlatformError(RuntimeError):
    """Grading failed on the grader's side; the message names what broke."""


def grade_in_container(assignment_dir, submission):
    """Grade `submission` with ``cs231n-pool grade``; returns the GradingResults.

    The grader's log (its stderr) is passed through to ours, which the platforms keep for the
    course staff. Raises PlatformError with the grader's one-line reason when it cannot grade.
    """
    with tempfile.TemporaryDirectory(prefix="cs231n-pool-platform-") as tmp:
        report = os.path.join(tmp, "report.json")
        cmd = [
            sys.executable,
            "-m",
            "cs231n_pool.cli",
            "grade",
            assignment_dir,
            submission,
            "--format",
            "json",
            "--out",
            report,
            *GRADE_OPTIONS,
        ]
        proc = subprocess.run(cmd, check=False, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        sys.stderr.write(proc.stderr)
        if proc.returncode != 0:
            reason = next((line for line in proc.stderr.splitlines() if line.strip()), "")
            raise PlatformError(reason or f"cs231n-pool grade exited with status {proc.returncode}")
        try:
            with open(report, encoding="utf-8") as f:
                return GradingResults.from_dict(json.load(f), submission)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise PlatformError(f"cs231n-pool grade wrote no usable report ({exc!r})") from None
