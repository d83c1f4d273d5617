#!/usr/bin/env bash
# PrairieLearn's entrypoint for this question: grades $ROOT/student into $ROOT/results/results.json,
# in the grading image (networking off). Student code runs only in the sandboxed child processes
# of `cs231n-pool grade`.
#   CS231N_POOL_GRADE_ROOT=DIR  the /grade tree (a local simulation points it elsewhere)
#   CS231N_POOL_PYTHON=PATH     the grading interpreter (default: the image's venv)
set -uo pipefail
ROOT="${CS231N_POOL_GRADE_ROOT:-/grade}"
PYTHON="${CS231N_POOL_PYTHON:-@VENV@/bin/python}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
"$PYTHON" -m cs231n_pool.grading.prairielearn "$ROOT"
status=$?
if [ ! -s "$RESULTS" ]; then
    # The grading driver could not even start (e.g. the wrong image): still give PrairieLearn a
    # results.json, naming what failed; gradable: false costs the student no attempt.
    if [ -x "$PYTHON" ]; then
        why="the grading driver exited with status $status before writing results"
    else
        why="the grading interpreter $PYTHON is missing (is the question's image the cs231n_pool one?)"
    fi
    printf '{"gradable": false, "format_errors": ["%s What failed: %s."], "message": "%s"}\n' \
        "@GRADER_FAILED@" "$why" "@GRADER_FAILED@" > "$RESULTS"
    echo "run.sh: $why; wrote gradable: false to $RESULTS" >&2
fi
