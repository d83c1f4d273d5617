"""`cs231n-pool demo`, the main job of `make demo`, run through its real entry point."""

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_demo_checks_every_layer_pools_the_worked_example_and_grades_three_submissions():
    result = subprocess.run(
        [sys.executable, "-m", "cs231n_pool.cli", "demo"], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert re.search(r"^(\d+)/\1 checks passed", out, re.M), out
    # d2l's 4x4 arange, 3x3 window, padding 1, stride 2 -> [[5, 7], [13, 15]], indices equal to the values
    assert "[[ 5.  7.]\n     [13. 15.]]" in out
    assert "[[ 5  7]\n     [13 15]]" in out
    scores = dict(re.findall(r"^  (solution|stub|mutant) .*?(\d+)/108", out, re.M))
    assert scores["solution"] == "108" and scores["stub"] == "0", out
    assert 0 < int(scores["mutant"]) < 108, out
    lost = re.findall(r"^      lost: (\S+)", out, re.M)
    # the tests that target -inf padding, public and hidden, are among those the mutant loses
    assert {
        "public/test_max_pool.py::test_max_forward_padding_is_minus_inf",
        "hidden/test_hidden_max_pool.py::test_max_forward_padding_is_minus_inf",
    } <= set(lost), lost
