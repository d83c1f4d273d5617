#!/usr/bin/env bash
# Install the cs231n_pool kit into a venv of its own:  install_kit.sh PYTHON VENV
# Runs from the folder holding requirements.txt (every version pinned) and kit/ (the kit's source).
# The system Python and its pip are never modified. The Cython kernels are optional: when they do
# not build (no C compiler or no Python headers), the kit installs without them and grades with
# its numpy kernels, and this script says so.
set -euo pipefail
cd "$(dirname "$0")"
BASE_PYTHON="$1"
VENV="$2"
say() { printf 'install_kit.sh: %s\n' "$*"; }

if ! command -v "$BASE_PYTHON" > /dev/null; then
    say "ERROR: there is no Python '$BASE_PYTHON' to make the venv from"
    exit 1
fi
say "creating $VENV with $("$BASE_PYTHON" --version 2>&1)"
"$BASE_PYTHON" -m venv "$VENV"
PY="$VENV/bin/python"
"$PY" -m pip install --no-input --disable-pip-version-check -r requirements.txt
"$PY" -m pip install --no-input --disable-pip-version-check --no-build-isolation --no-deps ./kit
BACKEND="$("$PY" -W ignore -c 'import cs231n_pool; print(cs231n_pool.BACKEND)')"
if [ "$BACKEND" = cython ]; then
    say "the Cython kernels are built; grading uses them"
else
    say "WARNING: the Cython kernels did not build (no C compiler or no Python headers);" \
        "grading uses the numpy kernels (same results, slower)"
fi
