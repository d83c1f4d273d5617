"""The kit as a user installs it: an sdist and a wheel from `python -m build`, each in a fresh venv.

These build and install for real (pip fetches numpy into each fresh venv), so they take a minute
or two; they share one sdist per session.
"""

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NO_KERNELS_NOTE = "installing without the compiled kernels, so cs231n_pool will use its numpy kernels"


def run(argv, **kwargs):
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=900, **kwargs)
    assert result.returncode == 0, f"{argv}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def fresh_venv(path: Path) -> Path:
    venv.create(path, with_pip=True)
    return path / "bin"


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CS231N_POOL_", "PYTHON", "VIRTUAL_ENV"))}
    return dict(env, **extra)


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """sdist and wheel built from a copy of the tracked files, as `make dist` builds them."""
    root = tmp_path_factory.mktemp("dist")
    source = root / "source"
    files = run(["git", "ls-files", "-z"], cwd=REPO).stdout.split("\0")
    for rel in filter(None, files):
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, source / rel)
    run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", root / "out", source],
        env=clean_env(CS231N_POOL_REQUIRE_EXTENSION="1"),
    )
    (sdist,) = (root / "out").glob("*.tar.gz")
    (wheel,) = (root / "out").glob("*.whl")
    return sdist, wheel


def test_the_sdist_ships_the_sources_and_the_wheel_no_generated_c(dist):
    import tarfile
    import zipfile

    sdist, wheel = dist
    with tarfile.open(sdist) as tar:
        sdist_names = tar.getnames()
    wheel_names = zipfile.ZipFile(wheel).namelist()
    assert any(n.endswith("cs231n_pool/_direct_kernels.h") for n in sdist_names)
    assert any(n.endswith("cs231n_pool/_direct.pyx") for n in sdist_names)
    assert any(n.endswith(".so") for n in wheel_names)
    # an autograder kit copied from a wheel install rebuilds the kernels: every .pyx and C header
    tracked = run(["git", "ls-files", "cs231n_pool/*.pyx", "cs231n_pool/*.h"], cwd=REPO).stdout.split()
    sources = sorted(Path(name).name for name in tracked)
    assert len(sources) >= 6
    assert sorted(n.rsplit("/", 1)[-1] for n in wheel_names if n.endswith((".pyx", ".h"))) == sources
    # The sdist keeps Cython's C, as setuptools ships extension sources; the wheel needs only the .so.
    assert [n for n in wheel_names if re.search(r"cs231n_pool/_\w+\.c$", n)] == []


def test_the_wheel_installs_in_a_fresh_venv_and_runs_the_gradient_check_table(dist, tmp_path):
    _, wheel = dist
    bin_dir = fresh_venv(tmp_path / "venv")
    run([bin_dir / "pip", "install", "--quiet", wheel], env=clean_env())
    check = run(
        [bin_dir / "python", "-c", "import cs231n_pool; print(cs231n_pool.HAVE_EXTENSION, cs231n_pool.__version__)"],
        cwd=tmp_path,
        env=clean_env(),
    )
    assert check.stdout.split()[0] == "True", check.stdout
    table = run([bin_dir / "cs231n-pool", "gradcheck"], cwd=tmp_path, env=clean_env()).stdout
    passed, total = re.search(r"^(\d+)/(\d+) checks passed", table, re.M).groups()
    assert passed == total and int(total) > 20, table
    demo = run([bin_dir / "cs231n-pool", "demo", "--skip-grading"], cwd=tmp_path, env=clean_env()).stdout
    assert re.search(r"^(\d+)/\1 checks passed", demo, re.M) and "[[ 5.  7.]" in demo, demo


def test_without_a_c_compiler_the_sdist_installs_and_falls_back_to_numpy(dist, tmp_path):
    sdist, _ = dist
    bin_dir = fresh_venv(tmp_path / "venv")
    install = run([bin_dir / "pip", "install", "-v", sdist], env=clean_env(CC="/bin/false", CXX="/bin/false"))
    assert (install.stdout + install.stderr).count(NO_KERNELS_NOTE) == 1
    probe = (
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    import cs231n_pool\n"
        "import numpy as np\n"
        "out = cs231n_pool.max_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)\n"
        "print(cs231n_pool.HAVE_EXTENSION, cs231n_pool.BACKEND, len(caught), out.ravel().tolist())\n"
    )
    result = run([bin_dir / "python", "-c", probe], cwd=tmp_path, env=clean_env())
    assert result.stdout.strip().split(maxsplit=3) == ["False", "numpy", "1", "[5.0, 7.0, 13.0, 15.0]"]


def test_with_the_kernels_required_a_failed_build_is_an_error(dist, tmp_path):
    sdist, _ = dist
    bin_dir = fresh_venv(tmp_path / "venv")
    result = subprocess.run(
        [bin_dir / "pip", "install", sdist],
        capture_output=True,
        text=True,
        timeout=900,
        env=clean_env(CC="/bin/false", CXX="/bin/false", CS231N_POOL_REQUIRE_EXTENSION="1"),
    )
    assert result.returncode != 0
    assert "CS231N_POOL_REQUIRE_EXTENSION=1 requires the kernels" in result.stdout + result.stderr
