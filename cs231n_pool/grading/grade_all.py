"""`cs231n-pool grade-all ASSIGNMENT SUBMISSIONS_DIR --out OUTDIR`: grade a whole class.

Each subfolder or .zip of SUBMISSIONS_DIR is one student (named after it). Writes
OUTDIR/<student>/results.json (Gradescope schema), OUTDIR/grades.csv (one row per student:
score, max_score, then the points of every test) and OUTDIR/pass_rates.png (the share of
students passing each test, so the instructor sees which skills the class missed).

The assignment folder is read into memory once, before any student code runs; every
submission is graded against that snapshot (see grade.grade_submission), in worker
processes (--jobs) so that each grading run has its own process tree to clean up.
"""
import concurrent.futures
import csv
import io
import json
import multiprocessing
import os
import sys

from ..cli_args import assignment_folder, existing_folder, output_folder, positive
from .config import ConfigError, load_config
from .grade import GradingError, grade_submission, snapshot_tree
from .results import fmt_points, write_output


def find_students(submissions_dir):
    """[(student name, path)] for every subfolder and .zip, sorted by name."""
    students = []
    for entry in sorted(os.listdir(submissions_dir)):
        path = os.path.join(submissions_dir, entry)
        if entry.startswith("."):
            continue
        if os.path.isdir(path):
            students.append((entry, path))
        elif entry.endswith(".zip") and os.path.isfile(path):
            students.append((entry[: -len(".zip")], path))
    names = [name for name, _ in students]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"submissions {duplicates} exist both as a folder and as a .zip")
    return students


def _grade_one(assignment_dir, student, path, timeout, snapshot):
    """Worker: grade one student; returns (student, results or None, error text)."""
    try:
        return student, grade_submission(assignment_dir, path, timeout=timeout, snapshot=snapshot), ""
    except GradingError as exc:
        return student, None, str(exc)


def grade_all(assignment_dir, submissions_dir, out_dir, jobs=1, timeout=None, progress=True):
    """Grade every submission; returns {student: results dict or None (could not grade)}."""
    cfg = load_config(assignment_dir)
    snapshot = snapshot_tree(cfg.root)
    students = find_students(submissions_dir)
    os.makedirs(out_dir, exist_ok=True)
    outcomes = {}
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [pool.submit(_grade_one, cfg.root, student, path, timeout, snapshot)
                   for student, path in students]
        for future in _progress(concurrent.futures.as_completed(futures), len(futures), progress):
            student, results, error = future.result()
            folder = os.path.join(out_dir, student)
            try:
                if results is None:
                    write_output(os.path.join(folder, "error.txt"), error + "\n")
                else:
                    write_output(os.path.join(folder, "results.json"), json.dumps(results, indent=2))
            except OSError as exc:  # e.g. a link planted at the output path: reported, not followed
                print(f"cs231n-pool grade-all: cannot write the results of {student}: {exc}", file=sys.stderr)
            outcomes[student] = results
    outcomes = {student: outcomes[student] for student, _ in students}
    write_csv(outcomes, os.path.join(out_dir, "grades.csv"))
    if any(results is not None for results in outcomes.values()):
        plot_pass_rates(outcomes, os.path.join(out_dir, "pass_rates.png"), cfg.name)
    return outcomes


def _progress(iterable, total, enabled):
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc="grading", unit="submission", file=sys.stderr)


def _test_names(outcomes):
    names = []
    for results in outcomes.values():
        for t in results["tests"] if results else []:
            if t["name"] not in names:
                names.append(t["name"])
    return names


def write_csv(outcomes, path):
    names = _test_names(outcomes)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["student", "score", "max_score", "graded", *names])
    for student, results in outcomes.items():
        if results is None:
            writer.writerow([student, "", "", "no", *[""] * len(names)])
            continue
        scores = {t["name"]: t["score"] for t in results["tests"]}
        max_score = sum(t["max_score"] for t in results["tests"])
        writer.writerow([student, fmt_points(results["score"]), fmt_points(max_score), "yes",
                         *[fmt_points(scores[n]) if n in scores else "" for n in names]])
    write_output(path, buffer.getvalue())


def pass_rates(outcomes):
    """{test name: (fraction of graded students who passed, visibility)} in test order."""
    graded = [results for results in outcomes.values() if results]
    rates = {}
    for name in _test_names(outcomes):
        records = [t for results in graded for t in results["tests"] if t["name"] == name]
        rates[name] = (sum(t["status"] == "passed" for t in records) / len(graded), records[0]["visibility"])
    return rates


def plot_pass_rates(outcomes, path, name):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rates = pass_rates(outcomes)
    names = list(rates)
    values = [100 * rates[n][0] for n in names]
    colors = ["tab:blue" if rates[n][1] == "visible" else "tab:orange" for n in names]
    n_graded = sum(1 for r in outcomes.values() if r)
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(names) + 1.6))
    ax.barh(range(len(names)), values, color=colors)
    ax.set_yticks(range(len(names)), [n.replace(".py::", " :: ") for n in names], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("students passing the test (%)")
    ax.set_ylabel("test (blue: public, orange: hidden)")
    ax.set_title(f"Pass rate per test: {name} ({n_graded} submissions)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    image = io.BytesIO()
    fig.savefig(image, format="png", dpi=100)
    plt.close(fig)
    write_output(path, image.getvalue())


def add_arguments(parser):
    parser.add_argument("assignment", type=assignment_folder, help="assignment folder (holds assignment.toml)")
    parser.add_argument("submissions", type=existing_folder, help="folder with one subfolder or .zip per student")
    parser.add_argument("--out", required=True, type=output_folder, metavar="OUTDIR", help="folder for the results")
    parser.add_argument("--jobs", type=positive(int), default=1, metavar="N", help="submissions graded at once (default 1)")
    parser.add_argument("--timeout", type=positive(float), metavar="SECONDS",
                        help="wall-clock seconds a submission may run per test (default: assignment.toml)")


def run(args):
    try:
        outcomes = grade_all(args.assignment, args.submissions, args.out, jobs=args.jobs, timeout=args.timeout)
    except (ConfigError, ValueError) as exc:
        print(f"cs231n-pool grade-all: {exc}", file=sys.stderr)
        return 2
    failed = [student for student, results in outcomes.items() if results is None]
    graded = len(outcomes) - len(failed)
    print(f"Graded {graded} of {len(outcomes)} submissions: {os.path.join(args.out, 'grades.csv')}, "
          f"{os.path.join(args.out, 'pass_rates.png')}")
    for student in failed:
        print(f"could not grade {student}: see {os.path.join(args.out, student, 'error.txt')}", file=sys.stderr)
    return 1 if failed else 0
