"""The self-checks of `cs231n-pool release` on the pooling assignment: each fails when it should."""

import json
import shutil
import subprocess

import pytest
from bundle_venv import POOLING, kit_command

from cs231n_pool.grading.config import load_config
from cs231n_pool.grading.release import ReleaseError, check_contents, graded_names, write_bundle


@pytest.fixture
def assignment(tmp_path):
    """A copy of the pooling assignment with its notebooks next to it (as assignment.toml expects)."""
    root = tmp_path / "repo"
    shutil.copytree(POOLING, root / "assignments" / "pooling", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(POOLING.parents[1] / "notebooks", root / "notebooks")
    return root / "assignments" / "pooling"


def _release(assignment, out):
    return subprocess.run(kit_command("release", assignment, "--out", out), capture_output=True, text=True, timeout=600)


def test_missing_notebooks_folder_fails(assignment, tmp_path):
    shutil.rmtree(assignment.parents[1] / "notebooks")
    result = _release(assignment, tmp_path / "out")
    assert result.returncode == 1
    assert result.stderr == (
        f"cs231n-pool release: the notebooks folder '{assignment.parents[1] / 'notebooks'}' set "
        f"in {assignment}/assignment.toml does not exist\n"
    )
    assert not (tmp_path / "out").exists()


def test_empty_notebooks_folder_fails(assignment, tmp_path):
    for path in (assignment.parents[1] / "notebooks").glob("*.ipynb"):
        path.unlink()
    result = _release(assignment, tmp_path / "out")
    assert result.returncode == 1
    assert result.stderr == (
        f"cs231n-pool release: the notebooks folder '{assignment.parents[1] / 'notebooks'}' set "
        f"in {assignment}/assignment.toml holds no .ipynb\n"
    )


def test_graded_names_are_the_stubs_functions():
    assert sorted(graded_names(load_config(POOLING))) == [
        "Maxpool",
        "avg_pool_backward_naive",
        "avg_pool_forward_naive",
        "col2im_indices",
        "im2col_indices",
        "max_pool_backward_naive",
        "max_pool_forward_naive",
    ]


def test_the_written_bundle_passes_the_content_checks(tmp_path):
    cfg = load_config(POOLING)
    write_bundle(cfg, str(tmp_path / "out"))
    assert check_contents(cfg, str(tmp_path / "out")) == sorted(graded_names(cfg))


@pytest.mark.parametrize(
    "where, text, message",
    [
        (
            "pooltools/extra.py",
            "def im2col_indices(x, fh, fw):\n    return x\n",
            "pooltools/extra.py defines im2col_indices, which the student is asked to write",
        ),
        (
            "pooltools/extra.py",
            "from numpy import max as max_pool_forward_naive\n",
            "pooltools/extra.py defines max_pool_forward_naive, which the student is asked to write",
        ),
        (
            "pooltools/extra.py",
            "x = 1\n        out = out.reshape(out_h, out_w, N, C).transpose(2, 3, 0, 1)\n",
            "pooltools/extra.py contains a line of the solution: "
            "'out = out.reshape(out_h, out_w, N, C).transpose(2, 3, 0, 1)'",
        ),
        (
            "tests/public/test_extra.py",
            "i = i_in_window[:, None] + i_start[None, :]\n",  # a notebook's solution
            "tests/public/test_extra.py contains a line of the solution: 'i = i_in_window[:, None] + i_start[None, :]'",
        ),
    ],
)
def test_content_checks_catch_a_leak(tmp_path, where, text, message):
    cfg = load_config(POOLING)
    out = tmp_path / "out"
    write_bundle(cfg, str(out))
    (out / where).write_text(text)
    with pytest.raises(ReleaseError) as info:
        check_contents(cfg, str(out))
    assert str(info.value) == message


def test_a_notebook_defining_a_graded_class_is_caught(tmp_path):
    cfg = load_config(POOLING)
    out = tmp_path / "out"
    write_bundle(cfg, str(out))
    path = out / "06_digits_convnet.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"].append(
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": ["%time x = 1\n", "class Maxpool:\n", "    pass\n"],
        }
    )
    path.write_text(json.dumps(nb))
    with pytest.raises(ReleaseError) as info:
        check_contents(cfg, str(out))
    assert str(info.value) == (
        f"06_digits_convnet.ipynb, cell {len(nb['cells']) - 1} defines Maxpool, which the student is asked to write"
    )
