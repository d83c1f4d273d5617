"""The bench subcommand: a tiny end-to-end run through the real entry point, plus its argument checks."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cs231n_pool import benchmark

METHODS = {"naive", "im2col-numpy", "im2col", "direct", "floor"}


def _entry_point():
    script = Path(sys.executable).with_name("cs231n-pool")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cs231n_pool.cli"]


def test_tiny_bench_writes_json_and_png(tmp_path):
    out_json, out_png = tmp_path / "bench.json", tmp_path / "bench.png"
    proc = subprocess.run(
        _entry_point() + ["bench", "--tiny", "--threads", "1,2", "--json", str(out_json), "--plot", str(out_png)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "x torch1" in proc.stdout and "x floor" in proc.stdout and "round-robin" in proc.stdout

    report = json.loads(out_json.read_text())
    meta, rows = report["meta"], report["results"]
    for key in (
        "date",
        "command",
        "machine",
        "numpy",
        "torch",
        "openmp",
        "openmp_runtimes",
        "threads",
        "repeat",
        "retries",
        "disturbed",
        "malloc_env",
    ):
        assert key in meta
    assert meta["threads"] == [1, 2] and "bench" in meta["command"]
    have_torch = meta["torch"] is not None
    expected = METHODS | ({"torch"} if have_torch else set())
    for pool, direction in benchmark.OPS:
        group = [r for r in rows if (r["pool"], r["direction"]) == (pool, direction)]
        assert {r["method"] for r in group} == expected
        assert {r["threads"] for r in group if r["method"] == "direct"} == {1, 2}
        for r in group:
            assert r["shape"] == "tiny" and r["dtype"] == "float32"
            assert r["median_ms"] > 0 and len(r["times_ms"]) == len(r["wait_ms"]) == r["runs"] >= 1
            assert 0 <= r["disturbed"] <= r["runs"] and r["retried"] >= 0
            assert r["median_ms"] == pytest.approx(float(np.median(r["times_ms"])))
            assert r["vs_floor"] > 0
            assert (r["vs_torch1"] is not None) == have_torch
        floor = next(r for r in group if r["method"] == "floor")
        assert floor["vs_floor"] == pytest.approx(1.0)
        assert next(r for r in group if r["method"] == "im2col")["extra_bytes"] > 0
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cases_cover_the_shapes_and_s1_in_both_dtypes():
    cases = benchmark.cases_for(["S1", "S2", "S3", "S4"], tiny=False)
    assert [(c.name, c.dtype) for c in cases] == [
        ("S1", "float32"),
        ("S1", "float64"),
        ("S2", "float32"),
        ("S3", "float32"),
        ("S4", "float32"),
    ]
    assert cases[2][2:] == (32, 64, 56, 56, 3, 2, 1)


@pytest.mark.parametrize(
    "argv,option",
    [
        (["--threads", "0"], "--threads"),
        (["--threads", "a,b"], "--threads"),
        (["--shapes", "S9"], "--shapes"),
        (["--repeat", "0"], "--repeat"),
    ],
)
def test_bad_arguments_name_the_option(argv, option, capsys):
    from cs231n_pool.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["bench"] + argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert option in err and argv[1] in err


def test_round_robin_interleaves_and_skips_warmup_rounds():
    calls = []

    def variant(name, rounds, warmup):
        return benchmark.Variant(name, 1, lambda: None, lambda _: calls.append(name), rounds, warmup, False)

    samples = benchmark.time_round_robin([variant("a", 3, True), variant("b", 1, False)], repeat=3, probe=lambda: 0.0)
    assert calls == ["a", "a", "b", "a", "a"]
    assert [len(s.times) for s in samples] == [3, 1] and [s.retried for s in samples] == [0, 0]


def test_hot_mode_precedes_each_timed_call_with_an_untimed_one():
    calls, probes = [], []

    def variant(name, rounds, warmup):
        return benchmark.Variant(name, 1, lambda: None, lambda _: calls.append(name), rounds, warmup, False)

    samples = benchmark.time_round_robin(
        [variant("a", 2, True), variant("naive", 2, False)],
        repeat=2,
        probe=lambda: probes.append(len(calls)) or 0.0,
        hot=True,
    )
    # warm-up round: a; then per round: a (untimed), a (timed), naive (timed, no untimed call)
    assert calls == ["a"] + ["a", "a", "naive"] * 2
    assert probes == [2, 3, 3, 4, 5, 6, 6, 7]  # probes bracket only the timed calls
    assert [len(s.times) for s in samples] == [2, 2]


def test_disturbed_calls_are_rerun_and_the_least_waiting_attempt_is_kept():
    # the probe's cumulative wait jumps by 10 ms during the first two attempts of each timed call,
    # by 0.2 ms during the third; the warm-up call is never timed or probed
    steps = iter([0.0, 0.010, 0.010, 0.020, 0.020, 0.0202] * 2)
    calls = []
    v = benchmark.Variant("a", 1, lambda: None, lambda _: calls.append(1), 2, True, False)
    (s,) = benchmark.time_round_robin([v], repeat=2, retries=2, probe=lambda: next(steps))
    assert len(calls) == 1 + 2 * 3
    assert s.retried == 4 and len(s.times) == 2
    assert s.waits == [pytest.approx(0.0002), pytest.approx(0.0002)]
    assert all(benchmark.disturbed(t, w) for t, w in zip(s.times, s.waits, strict=True))  # 0.2 ms still over 50 us


def test_disturbed_rule_and_no_reruns_without_a_probe():
    assert not benchmark.disturbed(0.010, 0.0004)  # 0.4 ms of a 10 ms call: under 5 %
    assert benchmark.disturbed(0.010, 0.0006)
    assert not benchmark.disturbed(0.0001, 0.00004)  # under the 50 us minimum
    assert not benchmark.disturbed(0.010, None)
    calls = []
    v = benchmark.Variant("a", 1, lambda: None, lambda _: calls.append(1), 3, False, False)
    (s,) = benchmark.time_round_robin([v], repeat=3, retries=5, probe=lambda: None)
    assert len(calls) == 3 and s.retried == 0 and s.waits == [None] * 3


def test_run_queue_wait_reads_this_process():
    wait = benchmark.run_queue_wait()
    assert wait is None or wait >= 0.0


def test_extra_memory_excludes_the_returned_arrays():
    def run(_):
        scratch = np.ones(1_000_000)  # 8 MB, freed before returning
        return np.zeros(10) + scratch[:10]

    v = benchmark.Variant("x", 1, lambda: None, run, 1, True, True)
    extra = benchmark.extra_memory(v)
    assert 7.9e6 < extra < 8.1e6


def test_targets_compare_ratios_with_their_limits():
    def row(method, threads, ms, pool="max", direction="forward", extra=None):
        return dict(
            shape="S1",
            dtype="float32",
            pool=pool,
            direction=direction,
            method=method,
            threads=threads,
            median_ms=ms,
            extra_vs_input=extra,
        )

    rows = [
        row("direct", 1, 1.0),
        row("direct", 2, 0.5),
        row("torch", 1, 10.0),
        row("floor", 1, 0.2),
        row("direct", 1, 3.0, direction="backward"),
        row("torch", 1, 2.0, direction="backward"),
    ]
    checks = {c["target"]: c for c in benchmark.targets(rows)}
    assert checks["direct max forward / torch 1-thread"]["met"]  # 0.1 <= 0.2
    assert not checks["direct max forward / bandwidth floor"]["met"]  # 5 > 4
    assert not checks["direct max backward / torch 1-thread"]["met"]  # 1.5 > 1
    assert checks["direct max forward: 2-thread speed-up"]["value"] == pytest.approx(2.0)
    assert checks["direct max forward: 2-thread speed-up"]["met"]
    assert "MISSED" in benchmark.format_targets(list(checks.values()))
