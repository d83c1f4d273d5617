"""A class of eight pooling submissions, and a timing of `cs231n-pool grade-all` on it.

The class: the solution, the released stub, and six one-bug variants from tests/mutants.
Run ``python tests/grading_class.py [--jobs 2] [--rounds 3] [--baseline COMMIT]`` to time
grade-all on it next to the same number of plain ``python -c "import numpy"`` start-ups, two
at a time (the same parallelism as --jobs 2), interleaved round by round in the same run.
With --baseline, the grader of that commit (its package extracted with ``git archive``, the
compiled kernels copied from this checkout) is timed in the same rounds. It prints the
medians, their ratios, and every student's score for each grader (they must agree).
"""

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = ROOT / "assignments" / "pooling"
sys.path.insert(0, str(Path(__file__).resolve().parent / "mutants"))

from pooling_mutants import MUTANTS  # noqa: E402

VARIANTS = (
    "output_size_missing_plus_one",
    "max_pool_pads_with_zeros",
    "max_backward_splits_ties",
    "avg_backward_divides_by_padded_area",
    "col2im_overwrites_overlaps",
    "maxpool_stale_indices",
)


def write_class(folder):
    """Write the eight submissions as folder/<student>/pooling_layers.py; returns the names."""
    from cs231n_pool.grading.release import stub_source

    solution = (ASSIGNMENT / "pooling_layers.py").read_text(encoding="utf-8")
    sources = {"solution": solution, "stub": stub_source(solution)}
    for mutant in MUTANTS:
        if mutant.name in VARIANTS:
            assert solution.count(mutant.old) == 1, mutant.name
            sources[mutant.name] = solution.replace(mutant.old, mutant.new)
    for name, source in sources.items():
        (folder / name).mkdir(parents=True)
        (folder / name / "pooling_layers.py").write_text(source, encoding="utf-8")
    return sorted(sources)


def time_grade_all(class_dir, out_dir, jobs, package_root=None):
    env = dict(os.environ, PYTHONPATH=str(package_root)) if package_root else None
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cs231n_pool.cli",
            "grade-all",
            str(ASSIGNMENT),
            str(class_dir),
            "--out",
            str(out_dir),
            "--jobs",
            str(jobs),
        ],
        check=True,
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        env=env,
        cwd=package_root,
    )
    elapsed = time.perf_counter() - start
    with open(out_dir / "grades.csv", newline="") as f:
        scores = {row["student"]: row["score"] for row in csv.DictReader(f)}
    return elapsed, scores


def time_numpy_startups(count, jobs):
    start = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda _: subprocess.run([sys.executable, "-c", "import numpy"], check=True), range(count)))
    return time.perf_counter() - start


def extract_baseline(commit, dest):
    """The cs231n_pool package of `commit`, with this checkout's compiled kernels."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "cs231n_pool"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    for built in (ROOT / "cs231n_pool").glob("*.so"):
        shutil.copy(built, dest / "cs231n_pool" / built.name)
    return dest


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", metavar="COMMIT", help="also time the grader of this commit")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        names = write_class(tmp / "class")
        graders = {"this checkout": None}
        if args.baseline:
            (tmp / "baseline").mkdir()
            graders[f"baseline {args.baseline}"] = extract_baseline(args.baseline, tmp / "baseline")
        times = {name: [] for name in ["numpy", *graders]}
        scores = {}
        for round_ in range(args.rounds):
            times["numpy"].append(time_numpy_startups(len(names), args.jobs))
            for name, package in graders.items():
                elapsed, scores[name] = time_grade_all(
                    tmp / "class", tmp / f"out-{round_}-{len(scores)}", args.jobs, package
                )
                times[name].append(elapsed)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"{args.rounds} rounds, medians; {len(names)} submissions, --jobs {args.jobs}")
    print(
        f"  {len(names)} x python -c 'import numpy', {args.jobs} at a time: {medians['numpy']:.2f} s "
        f"(all: {', '.join(f'{t:.2f}' for t in times['numpy'])})"
    )
    for name in graders:
        print(
            f"  grade-all, {name}: {medians[name]:.2f} s = {medians[name] / medians['numpy']:.1f}x the numpy "
            f"start-ups (all: {', '.join(f'{t:.2f}' for t in times[name])})"
        )
    if args.baseline:
        base = medians[f"baseline {args.baseline}"]
        print(f"  speed-up over the baseline: {base / medians['this checkout']:.2f}x")
    for student in names:
        print(f"  {student}: " + ", ".join(f"{scores[name][student]} ({name})" for name in graders))


if __name__ == "__main__":
    main()
