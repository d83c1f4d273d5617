"""Both autograders end to end, from a regular wheel install of the kit, with no C compiler.

One fresh venv (no system site-packages; numpy and pytest from the package index) holds the kit
installed from a wheel built from this checkout. From it, with CC=/bin/false:

- ``cs231n-pool autograder --simulate-gradescope`` builds the zip and runs it as Gradescope would:
  setup.sh (apt-get skipped through CS231N_POOL_SKIP_APT=1) makes its own fresh venv from the
  pinned requirements and, the Cython build failing, installs the numpy kernels; run_autograder
  then grades the solution file 100 (the 8 points of the notebook exercises need the notebooks)
  and the stub 0;
- the PrairieLearn entrypoint grades with that same install_kit.sh venv (the Dockerfile's step).

Slow (package downloads and installs): one venv and one simulation serve the whole module.
"""

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from platform_schemas import check_gradescope, check_prairielearn

from cs231n_pool.grading.release import stub_source

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
POOLING = REPO / "assignments" / "pooling"
SOLUTION = POOLING / "pooling_layers.py"
NO_COMPILER = {"CC": "/bin/false", "CXX": "/bin/false"}


def clean_env(**extra):
    """This environment without the kit's switches (CI requires the compiled kernels) or venv hints."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CS231N_POOL_", "AUTOGRADER_", "PYTHON", "VIRTUAL_ENV"))
    }
    return dict(env, **extra)


def run(argv, **kwargs):
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=1200, **kwargs)
    assert result.returncode == 0, f"{argv}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


@pytest.fixture(scope="module")
def kit_venv(tmp_path_factory):
    """bin/ of a fresh venv with the kit installed from a (non-editable) wheel of this checkout."""
    root = tmp_path_factory.mktemp("wheel-venv")
    source = root / "source"
    files = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO).stdout.split("\0")
    for rel in filter(None, files):
        if (REPO / rel).is_file():
            (source / rel).parent.mkdir(parents=True, exist_ok=True)
            (source / rel).write_bytes((REPO / rel).read_bytes())
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            root / "wheel",
            source,
        ],
        env=clean_env(**NO_COMPILER),
    )
    (wheel,) = (root / "wheel").glob("cs231n_pool-*.whl")
    venv.create(root / "venv", with_pip=True)
    bin_dir = root / "venv" / "bin"
    run(
        [bin_dir / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel, "pytest"],
        env=clean_env(),
    )
    return bin_dir


@pytest.fixture(scope="module")
def simulation(kit_venv, tmp_path_factory):
    """One --simulate-gradescope run on the solution (a file) and the stub (a folder), kept in `tree`."""
    work = tmp_path_factory.mktemp("simulation")
    (work / "stub").mkdir()
    (work / "stub" / "pooling_layers.py").write_text(stub_source(SOLUTION.read_text()))
    tree = work / "tree"
    result = run(
        [
            kit_venv / "cs231n-pool",
            "autograder",
            POOLING,
            "--out",
            work / "autograder.zip",
            "--simulate-gradescope",
            SOLUTION,
            work / "stub",
            "--simulate-tree",
            tree,
        ],
        cwd=work,
        env=clean_env(**NO_COMPILER),
    )
    return result, tree, work


def printed_results(stdout):
    """The results.json objects the simulation printed, in order."""
    decoder = json.JSONDecoder()
    return [
        decoder.raw_decode(stdout, i)[0]
        for i in range(len(stdout))
        if stdout.startswith("{\n", i) and (i == 0 or stdout[i - 1] == "\n")
    ]


def test_the_kit_runs_from_the_wheel_not_the_checkout(kit_venv, tmp_path):
    where = run(
        [kit_venv / "python", "-c", "import cs231n_pool; print(cs231n_pool.__file__, cs231n_pool.BACKEND)"],
        cwd=tmp_path,
        env=clean_env(),
    ).stdout.split()
    assert where[0].startswith(str(kit_venv.parent / "lib")) and where[1] == "numpy"
    config = (kit_venv.parent / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in config


def test_autograder_builds_both_targets_from_an_installed_kit(kit_venv, tmp_path):
    run([kit_venv / "cs231n-pool", "autograder", POOLING, "--out", tmp_path / "ag.zip"], cwd=tmp_path, env=clean_env())
    installed = Path(
        run(
            [kit_venv / "python", "-c", "import cs231n_pool; print(cs231n_pool.__file__)"],
            cwd=tmp_path,
            env=clean_env(),
        ).stdout.strip()
    ).parent
    with zipfile.ZipFile(tmp_path / "ag.zip") as zf:
        assert zf.read("kit/cs231n_pool/grading/bundle.py") == (installed / "grading" / "bundle.py").read_bytes()
        assert zf.read("kit/cs231n_pool/_direct.pyx") == (installed / "_direct.pyx").read_bytes()
    run(
        [kit_venv / "cs231n-pool", "autograder", POOLING, "--target", "prairielearn", "--out", tmp_path / "pl"],
        cwd=tmp_path,
        env=clean_env(),
    )
    assert (tmp_path / "pl" / "image" / "kit" / "setup.py").is_file()


def test_setup_completes_without_a_compiler_and_says_which_kernels_grade(simulation):
    result, tree, _ = simulation
    assert (
        "install_kit.sh: WARNING: the Cython kernels did not build (no C compiler or no Python headers); "
        "grading uses the numpy kernels (same results, slower)" in result.stderr
    )
    assert "setup.sh: CS231N_POOL_SKIP_APT=1: installing no system packages" in result.stderr
    # setup.sh made its own venv; nothing came from this machine's site-packages.
    assert "include-system-site-packages = false" in (tree / "venv" / "pyvenv.cfg").read_text()
    probe = "import cs231n_pool; print(cs231n_pool.__file__, cs231n_pool.BACKEND)"
    where, backend = run([tree / "venv" / "bin" / "python", "-c", probe], cwd=tree, env=clean_env()).stdout.split()
    assert where.startswith(str(tree / "venv" / "lib")) and backend == "numpy"


def test_run_autograder_grades_the_solution_100_and_the_stub_0(simulation):
    result, _, _ = simulation
    solution, stub = printed_results(result.stdout)
    for data in (solution, stub):
        check_gradescope(data)
        assert sum(t["max_score"] for t in data["tests"]) == 108 and len(data["tests"]) == 47
    assert solution["score"] == 100
    assert {t["name"] for t in solution["tests"] if t["status"] != "passed"} == {
        t["name"] for t in solution["tests"] if "notebook_exercises" in t["name"]
    }
    assert stub["score"] == 0 and all(t["status"] == "failed" for t in stub["tests"])
    assert f"== Gradescope results for {SOLUTION}\n" in result.stdout
    assert result.stdout.count("\nScore: 100/108\n") == 1 and result.stdout.count("\nScore: 0/108\n") == 1


def test_the_prairielearn_entrypoint_grades_with_the_install_kit_venv(kit_venv, simulation, tmp_path):
    _, tree, _ = simulation
    run(
        [kit_venv / "cs231n-pool", "autograder", POOLING, "--target", "prairielearn", "--out", tmp_path / "pl"],
        cwd=tmp_path,
        env=clean_env(),
    )
    root = tmp_path / "grade"
    (root / "student").mkdir(parents=True)
    (root / "student" / "pooling_layers.py").write_bytes(SOLUTION.read_bytes())
    for notebook in (SOLUTION.parents[2] / "notebooks").glob("*.ipynb"):  # their exercises are graded too
        shutil.copy(notebook, root / "student" / notebook.name)
    shutil.copytree(tmp_path / "pl" / "questions" / "pooling" / "tests", root / "tests")
    shutil.copytree(tmp_path / "pl" / "serverFilesCourse", root / "serverFilesCourse")
    run(
        ["bash", root / "serverFilesCourse" / "pooling" / "run.sh"],
        cwd=root,
        env=clean_env(CS231N_POOL_GRADE_ROOT=str(root), CS231N_POOL_PYTHON=str(tree / "venv" / "bin" / "python")),
    )
    data = json.loads((root / "results" / "results.json").read_text())
    check_prairielearn(data)
    assert (data["gradable"], data["score"], len(data["tests"])) == (True, 1.0, 47)
