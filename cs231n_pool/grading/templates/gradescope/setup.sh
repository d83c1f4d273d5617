#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (from /autograder/source).
# It installs the system packages through apt-get, then the kit into its own venv ($ROOT/venv).
#   AUTOGRADER_ROOT=DIR       the /autograder tree (a local simulation points it elsewhere)
#   CS231N_POOL_SKIP_APT=1    install no system packages (a local simulation, or a test)
#   CS231N_POOL_BASE_PYTHON   the Python the venv is made from (default python3)
set -euo pipefail
cd "$(dirname "$0")"
ROOT="${AUTOGRADER_ROOT:-/autograder}"
say() { printf 'setup.sh: %s\n' "$*"; }

if [ "${CS231N_POOL_SKIP_APT:-0}" = 1 ]; then
    say "CS231N_POOL_SKIP_APT=1: installing no system packages"
else
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    # Required: a Python that can make a venv.
    apt-get install -y --no-install-recommends python3 python3-venv
    # Optional: a compiler and the Python headers, for the Cython kernels.
    apt-get install -y --no-install-recommends gcc libc6-dev python3-dev ||
        say "WARNING: some optional system packages did not install; the steps below say what that costs"
fi
bash ./install_kit.sh "${CS231N_POOL_BASE_PYTHON:-python3}" "$ROOT/@VENV@"
say "done: run_autograder grades with $ROOT/@VENV@/bin/python"
