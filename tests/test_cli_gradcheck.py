"""The `cs231n-pool gradcheck` subcommand: the real entry points, its options and its exit code."""

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from seed_layers import SeedMaxpool

from cs231n_pool import gradcheck_table
from cs231n_pool.gradcheck_table import CASES, Case, Row, format_table, gradcheck_rows, selected_cases

REPO = Path(__file__).resolve().parents[1]
LAYERS = ("Maxpool", "Avgpool", "MaxUnpool", "AdaptiveMaxpool", "AdaptiveAvgpool", "GlobalMaxpool", "GlobalAvgpool")
HEADER = ("layer", "config", "dtype", "max rel error", "kinks", "result")


def table_rows(output: str) -> list[str]:
    """The data lines of the printed table: between the dashed rule and the blank line."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("-----"))
    end = lines.index("", start)
    return lines[start + 1 : end]


def table_cells(output: str) -> list[dict]:
    """Each data row as {column: text}, cut at the header's column offsets (so alignment matters)."""
    header = next(line for line in output.splitlines() if line.startswith("layer"))
    starts = [header.index(name) for name in HEADER]
    assert starts == sorted(starts), header
    ends = starts[1:] + [None]
    return [
        {name: row[a:b].strip() for name, a, b in zip(HEADER, starts, ends, strict=False)} for row in table_rows(output)
    ]


def check_table_output(output: str, expected_rows: int) -> list[dict]:
    cells = table_cells(output)
    assert len(cells) == expected_rows
    for row in cells:
        assert row["layer"] in LAYERS and row["dtype"] in ("float64", "float32")
        assert row["result"] == "PASS", row
        assert float(row["max rel error"]) < 1e-2 and row["kinks"] == "0"
    assert {row["layer"] for row in cells} == set(LAYERS)
    assert f"{expected_rows}/{expected_rows} checks passed" in output
    return cells


def run_command(args):
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_console_script_prints_the_table_and_exits_0():
    script = Path(sys.executable).with_name("cs231n-pool")
    assert script.exists(), f"the console script is not installed next to {sys.executable}; run `make build`"
    result = run_command([str(script), "gradcheck"])
    assert result.returncode == 0, result.stdout + result.stderr
    cells = check_table_output(result.stdout, len(selected_cases("all")))
    assert {row["dtype"] for row in cells} == {"float64", "float32"}


def test_python_dash_m_cli_runs_gradcheck_with_options():
    result = run_command([sys.executable, "-m", "cs231n_pool.cli", "gradcheck", "--dtype", "float32", "--seed", "7"])
    assert result.returncode == 0, result.stdout + result.stderr
    cells = check_table_output(result.stdout, len(CASES))
    assert {row["dtype"] for row in cells} == {"float32"}


def parse(argv):
    parser = argparse.ArgumentParser()
    gradcheck_table.add_arguments(parser)
    return parser.parse_args(argv)


def test_options_and_their_defaults():
    assert vars(parse([])) == {"seed": 0, "dtype": "all"}
    assert vars(parse(["--seed", "3", "--dtype", "float64"])) == {"seed": 3, "dtype": "float64"}
    with pytest.raises(SystemExit):
        parse(["--dtype", "float16"])


def test_dtype_all_checks_every_case_in_float64_and_each_layer_once_in_float32():
    pairs = selected_cases("all")
    assert [case for case, dt in pairs if dt == np.float64] == list(CASES)
    float32_layers = [case.layer for case, dt in pairs if dt == np.float32]
    assert sorted(float32_layers) == sorted(set(LAYERS))
    with pytest.raises(ValueError, match="dtype='half'"):
        selected_cases("half")


def test_the_seed_changes_the_inputs_but_every_row_still_passes():
    first, second = gradcheck_rows(seed=1, dtype="float64"), gradcheck_rows(seed=2, dtype="float64")
    assert all(row.passed for row in first + second)
    assert [row.report.max_rel_error for row in first] != [row.report.max_rel_error for row in second]


def test_a_wrong_backward_makes_a_fail_row_and_exit_code_1(monkeypatch, capsys):
    broken = Case("SeedMaxpool", "k=2 as_strided backward", lambda x: (SeedMaxpool(2, 2, "seed"), x[..., :6, :], ()))
    monkeypatch.setattr(gradcheck_table, "CASES", (CASES[0], broken))
    assert gradcheck_table.run(parse(["--dtype", "float64"])) == 1
    output = capsys.readouterr().out
    rows = table_rows(output)
    assert rows[0].endswith("PASS") and rows[1].startswith("SeedMaxpool") and rows[1].endswith("FAIL")
    assert "1/2 checks passed" in output
    assert "gradient check of" in output and "worst element" in output  # the failing report is printed


def test_a_layer_that_raises_is_an_error_row_not_a_crash(monkeypatch, capsys):
    def explode(x):
        raise ValueError("kernel_size=0 is not allowed")

    monkeypatch.setattr(gradcheck_table, "CASES", (Case("Broken", "k=0", explode), CASES[0]))
    assert gradcheck_table.run(parse(["--dtype", "float32"])) == 1
    output = capsys.readouterr().out
    rows = table_rows(output)
    assert rows[0].split()[-1] == "ERROR" and rows[1].endswith("PASS")
    assert "ERROR Broken k=0 float32: ValueError: kernel_size=0 is not allowed" in output


def test_format_table_aligns_columns():
    rows = gradcheck_rows(dtype="float64")[:3] + [Row("X", "long configuration text", "float32", None, "boom")]
    lines = format_table(rows).splitlines()
    header, rule = lines[0], lines[1]
    assert rule.replace(" ", "").strip("-") == ""
    for column in ("config", "dtype", "max rel error", "kinks", "result"):
        start = header.index(column)
        assert all(line[start - 2 : start] == "  " and line[start] != " " for line in lines[2:6])
