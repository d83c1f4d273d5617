"""A class of eight pooling submissions, and a timing of `cs231n-pool grade-all` on it.

The class: the solution, the released stub, and six one-bug variants from tests/mutants.
Run ``python tests/grading_class.py [--jobs 2] [--isolation auto]`` to time grade-all on it
next to the same number of plain ``python -c "import numpy"`` start-ups, two at a time
(the same parallelism as --jobs 2), in the same run; it prints both times, their ratio and
every student's score.
"""
import argparse
import csv
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

VARIANTS = ("output_size_missing_plus_one", "max_pool_pads_with_zeros", "max_backward_splits_ties",
            "avg_backward_divides_by_padded_area", "col2im_overwrites_overlaps", "maxpool_stale_indices")


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


def time_grade_all(class_dir, out_dir, jobs, *extra):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cs231n_pool.cli", "grade-all", str(ASSIGNMENT), str(class_dir),
                    "--out", str(out_dir), "--jobs", str(jobs), *extra], check=True, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    with open(out_dir / "grades.csv", newline="") as f:
        scores = {row["student"]: row["score"] for row in csv.DictReader(f)}
    return elapsed, scores


def time_numpy_startups(count, jobs):
    start = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda _: subprocess.run([sys.executable, "-c", "import numpy"], check=True), range(count)))
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--isolation", default=None)
    args = parser.parse_args()
    extra = ("--isolation", args.isolation) if args.isolation else ()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        names = write_class(tmp / "class")
        numpy_time = time_numpy_startups(len(names), args.jobs)
        grade_time, scores = time_grade_all(tmp / "class", tmp / "out", args.jobs, *extra)
    print(f"grade-all of {len(names)} submissions, --jobs {args.jobs}: {grade_time:.2f} s")
    print(f"{len(names)} x python -c 'import numpy', {args.jobs} at a time: {numpy_time:.2f} s")
    print(f"ratio: {grade_time / numpy_time:.1f}")
    for name in names:
        print(f"  {name}: {scores[name]}")


if __name__ == "__main__":
    main()
