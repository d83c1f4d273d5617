"""`cs231n-pool grade-all ASSIGNMENT SUBMISSIONS_DIR --out OUTDIR`: grade a whole class.

Each subfolder, .zip or loose .py file of SUBMISSIONS_DIR is one student (named after it;
``NAME_<student_file>`` and ``NAME.py`` are student NAME). Writes OUTDIR/<student>/results.json
(Gradescope schema) and OUTDIR/<student>/feedback.md (what a person reads: points per skill,
each failed test with its message and likely cause, the written answers), OUTDIR/grades.csv
(one row per student: score, max_score, status, the points of every test, the total per
skill) and OUTDIR/pass_rates.png (the pass rate of each skill, public and hidden side by side,
least passed first, and the score histogram); see class_report.py. Entries that cannot be
graded are listed with the reason, in grades.csv and on stderr; none is skipped silently.
``--seed N`` gives every student the same random inputs, so a class run can be reproduced.

The assignment folder is read into memory once, before any student code runs; every
submission is graded against that snapshot (see grade.grade_submission) in its own worker
process, forked per student, which returns the results over a pipe. The parent alone writes
the output folder, from its own memory, after that worker and everything it started are gone.
A worker that dies, hangs or is stopped costs only its own student: it is killed when the
submission's wall-clock budget runs out, and the student is reported as not graded.
"""

import json
import multiprocessing
import multiprocessing.connection
import os
import shutil
import stat
import sys
import tempfile
import time

from ..cli_args import UsageError, assignment_folder, existing_folder, output_folder, positive, require
from .class_report import plot_skill_pass_rates, write_grades_csv
from .config import load_config
from .feedback import COULD_NOT_GRADE, feedback_markdown
from .grade import TOTAL_TIMEOUT, GradingError, grade_submission, snapshot_tree
from .results import validate_plugin_results, write_output

REPORT_FILES = ("grades.csv", "pass_rates.png")
STUDENT_FILES = ("results.json", "error.txt", "feedback.md")
MAX_RESULTS_BYTES = 64 << 20


def find_students(submissions_dir, student_file="pooling_layers.py"):
    """([(student, path)], [(entry, reason)]): the submissions to grade, sorted by name, and
    the entries that cannot be graded, each with the reason."""
    candidates, skipped = {}, []
    for entry in sorted(os.listdir(submissions_dir)):
        path = os.path.join(submissions_dir, entry)
        shown = entry.encode("utf-8", "backslashreplace").decode("utf-8")
        if shown != entry:
            skipped.append((shown, "its name is not valid UTF-8"))
            continue
        if entry.startswith("."):
            skipped.append((entry, "hidden entry"))
            continue
        mode = os.lstat(path).st_mode
        if stat.S_ISDIR(mode):
            name = entry
        elif stat.S_ISREG(mode) and entry.endswith(".zip"):
            name = entry[: -len(".zip")]
        elif stat.S_ISREG(mode) and entry.endswith(".py"):
            name = entry[: -len("_" + student_file)] if entry.endswith("_" + student_file) else entry[:-3]
        else:
            kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a folder, .zip or .py file"
            skipped.append((entry, f"is {kind}"))
            continue
        if not name or name in REPORT_FILES:
            skipped.append((entry, f"the student name {name!r} collides with the report's own files"))
            continue
        candidates.setdefault(name, []).append((entry, path))
    students = []
    for name, entries in sorted(candidates.items()):
        if len(entries) > 1:
            skipped.append((name, "submitted more than once: " + ", ".join(entry for entry, _ in entries)))
        else:
            students.append((name, entries[0][1]))
    return students, skipped


def _worker(conn, tmp, assignment_dir, path, timeout, snapshot, isolation, seed):
    """Forked per student: grade (with temporary files under `tmp`), send the results as JSON
    bytes, exit."""
    os.setsid()  # its own process group, so that the parent can kill all it started
    os.environ["TMPDIR"] = tempfile.tempdir = tmp
    try:
        reply = {
            "results": grade_submission(
                assignment_dir, path, timeout=timeout, seed=seed, snapshot=snapshot, isolation=isolation
            )
        }
    except GradingError as exc:
        reply = {"error": str(exc)}
    conn.send_bytes(json.dumps(reply).encode("utf-8"))
    conn.close()
    os._exit(0)


def _valid_results(payload):
    """The results dict a worker sent, checked; raises ValueError."""
    results = payload.get("results") if isinstance(payload, dict) else None
    if not isinstance(results, dict) or type(results.get("score")) not in (int, float):
        raise ValueError("a malformed reply")
    results["tests"] = validate_plugin_results(results)
    return results


class _Job:
    def __init__(self, student, path, args, budget):
        self.student = student
        context = multiprocessing.get_context("fork")
        self.conn, child_conn = context.Pipe(duplex=False)
        # The parent removes this once the worker's tree is gone, even if the worker was killed.
        self.tmp = tempfile.mkdtemp(prefix="cs231n-pool-worker-")
        self.proc = context.Process(target=_worker, args=(child_conn, self.tmp, *args), daemon=True)
        self.proc.start()
        child_conn.close()
        self.deadline = time.monotonic() + budget
        self.reply = None

    def finish(self, budget):
        """(results or None, error text) once the worker ended or ran out of time; kills its tree."""
        from .sandbox import kill_tree

        if self.reply is None and self.conn.poll():
            try:
                self.reply = self.conn.recv_bytes(MAX_RESULTS_BYTES)
            except (EOFError, OSError):
                self.reply = b""
        expired = time.monotonic() >= self.deadline
        if not expired:
            self.proc.join(5)  # it ended: collect its status before its tree is swept
        code = self.proc.exitcode
        kill_tree(self.proc.pid)
        self.proc.join(5)
        self.conn.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.reply:
            try:
                payload = json.loads(self.reply)
                if isinstance(payload, dict) and isinstance(payload.get("error"), str):
                    return None, payload["error"]
                return _valid_results(payload), ""
            except ValueError as exc:
                return None, f"could not grade: the grading worker sent {exc}"
        if expired:
            return None, f"could not grade: grading took longer than the {budget:g} s allowed per submission"
        how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with status {code}"
        return None, f"could not grade: the grading worker {how} before sending results"


def _kill_strays(running):
    """Kill what a dead worker left behind: its orphans came back to this process (a subreaper)."""
    from .sandbox import _our_children, kill_tree, server_pids

    for pid in _our_children() - {job.proc.pid for job in running} - server_pids():
        kill_tree(pid)


def _clear_previous(out_dir):
    """Remove what an earlier grade-all wrote in out_dir, so that nothing stale is reported."""
    for entry in os.listdir(out_dir):
        path = os.path.join(out_dir, entry)
        if entry in REPORT_FILES:
            if not os.path.isdir(path) or os.path.islink(path):
                os.remove(path)
            continue
        if os.path.islink(path) or not os.path.isdir(path):
            continue
        for name in STUDENT_FILES:
            if os.path.lexists(os.path.join(path, name)):
                os.remove(os.path.join(path, name))
        if not os.listdir(path):
            os.rmdir(path)


def grade_all(
    assignment_dir,
    submissions_dir,
    out_dir,
    jobs=1,
    timeout=None,
    progress=True,
    isolation="auto",
    budget=TOTAL_TIMEOUT,
    seed=None,
):
    """Grade every submission. Returns (outcomes, notes): {student: results dict, or None when
    it could not be graded} and {student or entry: why it was not graded or was skipped}.
    `seed` seeds the hidden tests' random inputs of every student (None: fresh per student)."""
    cfg = load_config(assignment_dir)
    snapshot = snapshot_tree(cfg.root)
    students, skipped = find_students(submissions_dir, cfg.student_file)
    os.makedirs(out_dir, exist_ok=True)
    _clear_previous(out_dir)
    from .grade import preload_pytest
    from .isolation import resolve_level
    from .sandbox import become_subreaper, start_server

    preload_pytest()
    level = resolve_level(isolation)
    if level != "none":  # one pre-fork server for the class (it never runs student code); at none
        start_server(level)  # student code could signal it, so each grading run starts its own
    become_subreaper()  # an orphan a killed worker leaves behind comes back here to be killed
    import gc

    gc.freeze()  # the forked workers need not traverse (and so copy) what is loaded now
    outcomes, notes = {}, dict(skipped)
    pending, running = list(students), []
    bar = _progress(len(students), progress)
    while pending or running:
        while pending and len(running) < jobs:
            student, path = pending.pop(0)
            running.append(_Job(student, path, (cfg.root, path, timeout, snapshot, isolation, seed), budget))
        wait = max(0.0, min(job.deadline for job in running) - time.monotonic())
        ready = multiprocessing.connection.wait(
            [job.conn for job in running] + [job.proc.sentinel for job in running], timeout=wait
        )
        for job in list(running):
            if job.conn in ready or job.proc.sentinel in ready or time.monotonic() >= job.deadline:
                running.remove(job)
                results, error = job.finish(budget)
                _kill_strays(running)
                _write_student(out_dir, job.student, results, error, cfg.title)
                outcomes[job.student] = results
                if results is None:
                    notes[job.student] = error
                if bar is not None:
                    bar.update(1)
    if bar is not None:
        bar.close()
    outcomes = {student: outcomes[student] for student, _ in students}
    statuses = {
        student: results["status"] if results else _could_not_grade(notes[student])
        for student, results in outcomes.items()
    }
    write_grades_csv(
        outcomes,
        statuses,
        os.path.join(out_dir, "grades.csv"),
        {entry: _could_not_grade(reason) for entry, reason in notes.items()},
    )
    if any(results is not None for results in outcomes.values()):
        plot_skill_pass_rates(outcomes, os.path.join(out_dir, "pass_rates.png"), cfg.name)
    return outcomes, notes


def _could_not_grade(reason):
    """The status of an entry that was not graded: 'could not grade: REASON' on one line."""
    reason = reason.strip().splitlines()[0] if reason.strip() else "unknown reason"
    prefix = COULD_NOT_GRADE.format(reason="")
    return reason if reason.startswith(prefix) else COULD_NOT_GRADE.format(reason=reason)


def _write_student(out_dir, student, results, error, title):
    folder = os.path.join(out_dir, student)
    status = results["status"] if results else _could_not_grade(error)
    try:
        if results is None:
            write_output(os.path.join(folder, "error.txt"), error + "\n")
        else:
            write_output(os.path.join(folder, "results.json"), json.dumps(results, indent=2))
        write_output(os.path.join(folder, "feedback.md"), feedback_markdown(student, results, status, title))
    except OSError as exc:  # e.g. a link at the output path: reported, not followed
        print(f"cs231n-pool grade-all: cannot write the results of {student}: {exc}", file=sys.stderr)


def _progress(total, enabled):
    if not enabled:
        return None
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: workers are forked from this process
    return tqdm(total=total, desc="grading", unit="submission", file=sys.stderr)


def add_arguments(parser):
    from .isolation import add_isolation_argument

    parser.add_argument("assignment", type=assignment_folder, help="assignment folder (holds assignment.toml)")
    parser.add_argument(
        "submissions", type=existing_folder, help="folder with one subfolder, .zip or .py file per student"
    )
    parser.add_argument("--out", required=True, type=output_folder, metavar="OUTDIR", help="folder for the results")
    parser.add_argument(
        "--jobs", type=positive(int), default=1, metavar="N", help="submissions graded at once (default 1)"
    )
    parser.add_argument(
        "--timeout",
        type=positive(float),
        metavar="SECONDS",
        help="wall-clock seconds a submission may run per test (default: assignment.toml)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="seed of the hidden tests' random inputs, the same for every "
        "student, so that a class run can be reproduced (default: fresh)",
    )
    parser.add_argument(
        "--budget",
        type=positive(float),
        default=TOTAL_TIMEOUT,
        metavar="SECONDS",
        help=f"wall-clock seconds for grading one submission in all (default {TOTAL_TIMEOUT:g})",
    )
    add_isolation_argument(parser)


def run(args):
    from .isolation import IsolationUnavailable, resolve_level, warn_if_unisolated

    for module in ("pytest", "tqdm", "matplotlib"):
        require(module, "grading", "grade-all")

    try:
        level = resolve_level(args.isolation)
    except IsolationUnavailable as exc:
        raise UsageError(f"argument --isolation: {exc}") from None
    warn_if_unisolated("grade-all", level, (str(args.assignment), str(args.submissions)))
    try:
        outcomes, notes = grade_all(
            str(args.assignment),
            str(args.submissions),
            str(args.out),
            jobs=args.jobs,
            timeout=args.timeout,
            isolation=level,
            budget=args.budget,
            seed=args.seed,
        )
    except (GradingError, OSError) as exc:
        print(f"cs231n-pool grade-all: {exc}", file=sys.stderr)
        return 1
    failed = [student for student, results in outcomes.items() if results is None]
    graded = len(outcomes) - len(failed)
    print(
        f"Graded {graded} of {len(outcomes)} submissions (isolation: {level}): "
        f"{os.path.join(args.out, 'grades.csv')}, {os.path.join(args.out, 'pass_rates.png')}"
    )
    for student in failed:
        print(f"could not grade {student}: see {os.path.join(args.out, student, 'error.txt')}", file=sys.stderr)
    for entry, reason in notes.items():
        if entry not in outcomes:
            print(f"skipped {entry}: {reason}", file=sys.stderr)
    return 1 if failed else 0
