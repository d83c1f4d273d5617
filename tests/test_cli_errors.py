"""Every subcommand reports each kind of usage mistake as one line, naming the argument and value.

The convention (``cs231n-pool --help``): a usage mistake exits with status 2 and prints a single
line ``cs231n-pool COMMAND: error: ...`` on stderr, and nothing on stdout.
"""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
POOLING = REPO / "assignments" / "pooling"


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_errors")
    (root / "empty_dir").mkdir()
    (root / "a_file.txt").write_text("not a folder\n")
    (root / "full_dir").mkdir()
    (root / "full_dir" / "keep.txt").write_text("x\n")
    (root / "bad_toml").mkdir()
    (root / "bad_toml" / "assignment.toml").write_text("[assignment\nname = 1\n")
    return root


def cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "cs231n_pool.cli", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120
    )


# (subcommand and arguments, with {tmp} for the fixture folder, text the one line must contain)
MISTAKES = [
    # a missing or wrong path
    (["demo", "--assignment", "{tmp}/missing"], "argument --assignment: '{tmp}/missing' does not exist"),
    (["release", "{tmp}/missing", "--out", "{tmp}/b"], "argument assignment: '{tmp}/missing' does not exist"),
    (["release", "{tmp}/a_file.txt", "--out", "{tmp}/b"], "argument assignment: '{tmp}/a_file.txt' is not a folder"),
    (["grade", "{tmp}/missing", "{tmp}"], "argument assignment: '{tmp}/missing' does not exist"),
    (["grade", POOLING, "{tmp}/missing"], "argument submission: '{tmp}/missing' does not exist"),
    (
        ["grade-all", POOLING, "{tmp}/missing", "--out", "{tmp}/o"],
        "argument submissions: '{tmp}/missing' does not exist",
    ),
    (
        ["grade-all", POOLING, "{tmp}/a_file.txt", "--out", "{tmp}/o"],
        "argument submissions: '{tmp}/a_file.txt' is not a folder",
    ),
    (["autograder", "{tmp}/missing"], "argument assignment: '{tmp}/missing' does not exist"),
    # a folder without assignment.toml
    (["demo", "--assignment", "{tmp}/empty_dir"], "argument --assignment: '{tmp}/empty_dir' has no assignment.toml"),
    (
        ["release", "{tmp}/empty_dir", "--out", "{tmp}/b"],
        "argument assignment: '{tmp}/empty_dir' has no assignment.toml",
    ),
    (["grade", "{tmp}/empty_dir", "{tmp}"], "argument assignment: '{tmp}/empty_dir' has no assignment.toml"),
    (
        ["grade-all", "{tmp}/empty_dir", "{tmp}", "--out", "{tmp}/o"],
        "argument assignment: '{tmp}/empty_dir' has no assignment.toml",
    ),
    (["autograder", "{tmp}/empty_dir"], "argument assignment: '{tmp}/empty_dir' has no assignment.toml"),
    # an assignment.toml that does not parse
    (["demo", "--assignment", "{tmp}/bad_toml"], "{tmp}/bad_toml/assignment.toml: "),
    (["release", "{tmp}/bad_toml", "--out", "{tmp}/b"], "{tmp}/bad_toml/assignment.toml: "),
    (["grade", "{tmp}/bad_toml", POOLING], "{tmp}/bad_toml/assignment.toml: "),
    (["grade-all", "{tmp}/bad_toml", "{tmp}/empty_dir", "--out", "{tmp}/o"], "{tmp}/bad_toml/assignment.toml: "),
    (["autograder", "{tmp}/bad_toml", "--out", "{tmp}/a.zip"], "{tmp}/bad_toml/assignment.toml: "),
    # an output path of the wrong kind
    (["grade", POOLING, POOLING, "--out", "{tmp}/empty_dir"], "argument --out: '{tmp}/empty_dir' is a folder"),
    (
        ["grade", POOLING, POOLING, "--out", "{tmp}/missing/r.json"],
        "argument --out: '{tmp}/missing/r.json': the folder '{tmp}/missing' does not exist",
    ),
    (["autograder", POOLING, "--out", "{tmp}/empty_dir/"], "argument --out: '{tmp}/empty_dir/' is a folder"),
    (["bench", "--tiny", "--json", "{tmp}/empty_dir"], "argument --json: '{tmp}/empty_dir' is a folder"),
    (["release", POOLING, "--out", "{tmp}/a_file.txt"], "argument --out: '{tmp}/a_file.txt' is a file, not a folder"),
    (["release", POOLING, "--out", "{tmp}/full_dir"], "--out '{tmp}/full_dir' exists and is not an empty folder"),
    (
        ["grade-all", POOLING, "{tmp}", "--out", "{tmp}/a_file.txt"],
        "argument --out: '{tmp}/a_file.txt' is a file, not a folder",
    ),
    # a bad option value
    (["grade", POOLING, POOLING, "--timeout", "0"], "argument --timeout: must be a positive float, got '0'"),
    (["grade", POOLING, POOLING, "--format", "xml"], "argument --format: invalid choice: 'xml'"),
    (["grade", POOLING, POOLING, "--seed", "abc"], "argument --seed: invalid int value: 'abc'"),
    (
        ["grade-all", POOLING, "{tmp}", "--out", "{tmp}/o", "--jobs", "0"],
        "argument --jobs: must be a positive int, got '0'",
    ),
    (
        ["grade-all", POOLING, "{tmp}", "--out", "{tmp}/o", "--timeout", "-1"],
        "argument --timeout: must be a positive float, got '-1'",
    ),
    (["gradcheck", "--dtype", "float16"], "argument --dtype: invalid choice: 'float16'"),
    (["bench", "--repeat", "0"], "argument --repeat: --repeat must be an int >= 1, got '0'"),
    (["demo", "--no-such-option"], "unrecognized arguments: --no-such-option"),
    ([], "the following arguments are required: COMMAND"),
]


@pytest.mark.parametrize("argv, expected", MISTAKES, ids=[" ".join(map(str, a[:2])) or "none" for a, _ in MISTAKES])
def test_a_usage_mistake_is_one_line_and_exit_status_2(places, argv, expected):
    argv = [str(a).replace("{tmp}", str(places)) for a in argv]
    result = cli(*argv, cwd=places)
    command = f"cs231n-pool {argv[0]}" if argv and not argv[0].startswith("-") else "cs231n-pool"
    assert result.returncode == 2, (result.stdout[-2000:], result.stderr[-2000:])
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{command}: error: "), lines[0]
    assert expected.replace("{tmp}", str(places)) in lines[0]


def test_release_leaves_a_missing_out_folder_alone_on_a_usage_mistake(places):
    result = cli("release", places / "empty_dir", "--out", places / "never_made", cwd=places)
    assert result.returncode == 2 and "has no assignment.toml" in result.stderr
    assert not (places / "never_made").exists()


def cli_without(module, folder, *argv, cwd):
    """cs231n-pool *argv in a child interpreter where importing `module` fails (a stub in folder)."""
    (folder / f"{module}.py").write_text("raise ImportError('hidden for this test')\n")
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); from cs231n_pool.cli import main; "
            "sys.exit(main(sys.argv[2:]))",
            str(folder),
            *argv,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_missing_optional_package_is_named_with_its_extra(places, tmp_path):
    # tqdm hidden from the interpreter: grade-all says which extra installs it, before any work.
    result = cli_without(
        "tqdm", tmp_path, "grade-all", str(POOLING), str(places / "empty_dir"), "--out", str(places / "o2"), cwd=places
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "cs231n-pool grade-all: error: grade-all needs tqdm: pip install 'cs231n_pool[grading]' "
        "(see cs231n-pool grade-all --help)"
    ]
    assert not (places / "o2").exists()


def test_bench_plot_without_matplotlib_says_so_before_timing_anything(places, tmp_path):
    result = cli_without("matplotlib", tmp_path, "bench", "--tiny", "--plot", str(places / "chart.png"), cwd=places)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "cs231n-pool bench: error: bench --plot needs matplotlib: pip install 'cs231n_pool[bench]' "
        "(see cs231n-pool bench --help)"
    ]
    assert not (places / "chart.png").exists()


def test_version_and_the_exit_statuses_in_help(places):
    from cs231n_pool import __version__

    result = cli("--version", cwd=places)
    assert result.returncode == 0 and result.stdout == f"cs231n-pool {__version__}\n"
    assert __version__[0].isdigit()
    for argv in (["--help"], ["grade", "--help"]):
        help_text = cli(*argv, cwd=places).stdout
        assert "exit status:" in help_text and "2  a usage mistake" in help_text


def test_grade_out_file_still_prints_the_score(tmp_path):
    out = tmp_path / "results.json"
    result = cli("grade", POOLING, POOLING, "--out", out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    # the assignment folder holds the solution file but not the notebooks: their 8 points are lost
    assert result.stdout.startswith("Score: 100/108") and str(out) in result.stdout
    assert '"score": 100' in out.read_text()


def test_demo_from_another_folder_finds_the_checkout_assignment(tmp_path):
    result = cli("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "solution                                 108/108" in result.stdout
    assert "== Where to go next ==" in result.stdout
