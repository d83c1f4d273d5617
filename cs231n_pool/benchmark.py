"""``cs231n-pool bench``: time every pooling method against PyTorch and the memory-bandwidth floor.

Protocol (docs/performance.md): one process; in every round each method runs once, in turn
(round-robin), so drifting machine load hits all methods alike; one warm-up round, then the
median of ``--repeat`` rounds (11 by default; the protocol asks for at least 7). The floor
is timed in the same rounds with numpy copies of the same byte counts: forward reads the
input once and writes the output once, backward reads dout once and writes dx once. Ratios
to PyTorch on one thread and to the floor are what to quote; absolute times on a shared
machine are noise.

Methods: ``naive`` (the CS231n-style loops in cs231n_pool.naive; very slow, so it runs only
the first ``--naive-repeat`` rounds and no warm-up), ``im2col-numpy`` (the Maxpool/Avgpool
layer forced onto the pure-numpy im2col kernels), ``im2col`` (the layer with the Cython
kernels, the default taught path), ``direct`` (cs231n_pool.direct's fused kernels, at every
``--threads`` count) and ``torch`` (torch.nn.functional max_pool2d with return_indices /
avg_pool2d, backward via autograd, ``torch.set_num_threads(n)``) when torch is installed.

Disturbed calls: on a small shared machine another process often holds a core. A 2-thread
call then stalls until the descheduled team member runs again (OpenMP waits for the whole
team), so it can take several times longer than on one thread, while a 1-thread call loses
at most the stolen share; a long benchmark run meets far more of this than a short loop, and
the 2-thread speed-ups came out below 1. So every timed call also reads how long this
process's threads sat runnable but without a CPU (Linux ``/proc/self/task/*/schedstat``).
A call that waited more than ``max(50 us, 5 %)`` of its time is run again, up to
``--retries`` times (only calls under half a second: the naive loops would take minutes),
and the attempt that waited least is kept. This is the same rule for every method,
including the floor and torch, and it never looks at the times themselves. Each row reports
how many of its kept runs were still disturbed and how many attempts were run again.
PyTorch and the direct kernels share one OpenMP runtime (torch's bundled libgomp and the
system one have the same soname, so the first loaded serves both; the output names it),
so there is one worker pool and no other library's threads spin against ours.

Hot calls: right before each timed call the same method runs once untimed (all but naive),
so every method is timed as in a loop of that op, as a standalone ``timeit`` would, and
not as the first call after another method's work: after 20 ms or more of single-threaded
work the pool's second thread is asleep and its virtual CPU idle, and waking them cost the
2-thread calls 0.15-0.25 ms on the 2-core test machine (S2 max forward 1.58 against
1.43 ms, S1 0.80 against 0.55 ms), whatever ran before (numpy, im2col, torch on 1
thread). ``--cold`` drops the untimed call (the earlier behaviour) to show that cost.

Peak extra memory: the peak of numpy allocations (tracemalloc) during one call, minus the
arrays the call returns (output and indices, or dx): what a method needs on top of its
result. PyTorch's allocator does not report to tracemalloc, so torch shows n/a. Memory is
measured in separate, untimed calls after the timing, so tracemalloc never slows a timed one.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from . import peers
from .cli_args import output_file, require
from .opinfo import OPINFOS

# name: (N, C, H, W, kernel, stride, pad)
SHAPES = {
    "S1": (64, 64, 32, 32, 2, 2, 0),
    "S2": (32, 64, 56, 56, 3, 2, 1),
    "S3": (8, 3, 224, 224, 2, 2, 0),
    "S4": (64, 32, 28, 28, 3, 1, 1),
}
TINY = {"tiny": (2, 4, 12, 12, 3, 2, 1)}
BENCHED = {info.bench.pool: info for info in OPINFOS if info.bench is not None}  # the registry's timed ops
# max pooling's "forward" returns its indices; "values" is the forward without them
OPS = tuple(
    (pool, direction)
    for pool, info in BENCHED.items()
    for direction in (("forward", "values", "backward") if info.indices else ("forward", "backward"))
)
PEER_OPS = {  # the peer table's rows
    ("max", "values"): "max forward, no indices",
    ("max", "forward"): "max forward with int64 indices",
    ("max", "backward"): "max backward",
    ("avg", "forward"): "avg forward",
    ("avg", "backward"): "avg backward",
}
MALLOC_ENV = ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_")
# a timed call counts as disturbed when this process's threads waited for a CPU longer than this
DISTURBED_WAIT_S, DISTURBED_WAIT_SHARE = 50e-6, 0.05
RETRY_BELOW_S = 0.5  # calls this long are not run again (the naive loops take seconds)


class Case(NamedTuple):
    name: str
    dtype: str
    N: int
    C: int
    H: int
    W: int
    kernel: int
    stride: int
    pad: int


class Samples(NamedTuple):
    """One variant's kept timed runs: seconds, run-queue wait in seconds (None: not measurable),
    and how many disturbed attempts were run again."""

    times: list
    waits: list
    retried: int


class Variant(NamedTuple):
    """One timed thing: ``run(prepare())`` is timed; prepare (untimed) builds forward state for backward."""

    method: str
    threads: int
    prepare: Callable
    run: Callable
    rounds: int  # how many timed rounds it joins (naive: fewer)
    warmup: bool
    tracks_memory: bool


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", type=output_file, metavar="FILE", help="write every timing and the run's metadata to FILE"
    )
    parser.add_argument(
        "--plot", type=output_file, metavar="FILE.png", help="draw a bar chart of the medians (needs matplotlib)"
    )
    parser.add_argument(
        "--threads",
        default="1",
        type=_int_list("--threads"),
        metavar="1,2",
        help="thread counts for the direct kernels and torch (default: 1)",
    )
    parser.add_argument(
        "--shapes",
        default="S1,S2,S3,S4",
        type=_shape_list,
        metavar="S1,S2,S3,S4",
        help="which shapes to run (S1 runs in float32 and float64)",
    )
    parser.add_argument(
        "--repeat",
        default=11,
        type=_positive_int("--repeat"),
        metavar="N",
        help="timed rounds after the warm-up; the median is reported (default: 11)",
    )
    parser.add_argument(
        "--naive-repeat",
        default=3,
        type=_non_negative_int("--naive-repeat"),
        metavar="N",
        help="timed rounds for the slow naive loops, no warm-up (default: 3; 0 skips them)",
    )
    parser.add_argument(
        "--retries",
        default=3,
        type=_non_negative_int("--retries"),
        metavar="N",
        help="run a call again up to N times when another process took a CPU from it "
        "(default: 3; 0 keeps every first attempt)",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="time each method's call straight after the previous method's, without the untimed "
        "call of the same method just before it (see the module docstring)",
    )
    parser.add_argument(
        "--tiny",
        action="store_true",
        help=f"one tiny shape {TINY['tiny']} instead of S1-S4 (a quick smoke test for CI)",
    )


def _int_list(option: str):
    def parse(text: str) -> list[int]:
        try:
            values = [int(v) for v in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} must be comma-separated ints >= 1, got {text!r}") from None
        if not values or min(values) < 1:
            raise argparse.ArgumentTypeError(f"{option} must be comma-separated ints >= 1, got {text!r}")
        return values

    return parse


def _positive_int(option: str, minimum: int = 1):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{option} must be an int >= {minimum}, got {text!r}")
        return value

    return parse


def _non_negative_int(option: str):
    return _positive_int(option, minimum=0)


def _shape_list(text: str) -> list[str]:
    names = [v.strip().upper() for v in text.split(",")]
    unknown = [n for n in names if n not in SHAPES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"--shapes must be a comma-separated subset of {','.join(SHAPES)}, got {text!r}"
        )
    return names


def cases_for(shape_names: list[str], tiny: bool) -> list[Case]:
    if tiny:
        return [Case("tiny", "float32", *TINY["tiny"])]
    cases = []
    for name in shape_names:
        cases.append(Case(name, "float32", *SHAPES[name]))
        if name == "S1":
            cases.append(Case(name, "float64", *SHAPES[name]))
    return cases


# ----------------------------------------------------------------------------- the methods


def _layer(pool: str, case: Case, method: str) -> Any:
    """The layer of the registry entry timed as ``pool`` (cs231n_pool.opinfo)."""
    layer, _ = BENCHED[pool].make_layer(
        dict(kernel_size=case.kernel, stride=case.stride, padding=case.pad, method=method)
    )
    return layer


def _layer_variant(pool, direction, case, x, dout, method, name, rounds, warmup, numpy_kernels=False):
    from . import _backend

    def wrap():  # the im2col-numpy row: the same layer on the pure-numpy kernels
        return _backend.use_kernels("numpy") if numpy_kernels else contextlib.nullcontext()

    def prepare():
        layer = _layer(pool, case, method)
        if direction == "backward":
            with wrap():
                layer.forward(x)
        return layer

    def run(layer):
        with wrap():
            return layer.forward(x) if direction == "forward" else layer.backward(dout)

    return Variant(name, 1, prepare, run, rounds, warmup, True)


def _naive_variant(pool, direction, case, x, dout, rounds):
    param = dict(pool_height=case.kernel, pool_width=case.kernel, stride=case.stride, pad=case.pad)
    forward, backward = BENCHED[pool].bench.naive

    def prepare():
        return forward(x, param)[1] if direction == "backward" else None

    def run(cache):
        return forward(x, param) if direction == "forward" else backward(dout, cache)

    return Variant("naive", 1, prepare, run, rounds, False, True)


def _direct_variant(pool, direction, case, x, dout, threads, rounds):
    from .geometry import pool_geometry

    geom = pool_geometry((case.H, case.W), case.kernel, case.stride, case.pad)
    run = BENCHED[pool].bench.direct(direction, x, dout, geom, threads)
    return Variant("direct", threads, lambda: None, run, rounds, True, True)


def _peer_variants(pool, direction, case, x, dout, threads, rounds, libs):
    return [
        Variant(c.method, c.threads, c.prepare, c.run, rounds, True, False)
        for c in peers.peer_calls(BENCHED[pool], direction, case, x, dout, threads, libs)
    ]


def _floor_variant(direction, x, out_shape, rounds):
    """numpy copies moving the op's bytes: forward reads x once and writes out once, backward the reverse."""
    n_in, n_out = x.size, int(np.prod(out_shape))
    step = max(n_in // max(n_out, 1), 1)
    used = min(n_out, n_in)
    src_in = x.reshape(-1)
    small = np.ones(n_out, dtype=x.dtype)
    dst_small = np.empty(n_out, dtype=x.dtype)
    dst_big = np.empty(n_in, dtype=x.dtype)

    def forward(_):
        # a strided read with step * itemsize <= 64 bytes still touches every cache line of x
        np.copyto(dst_small[:used], src_in[: used * step : step])

    def backward(_):
        # write all of dx from dout, broadcast (dout is re-read from cache)
        np.copyto(dst_big[: step * used].reshape(step, used), small[:used])
        np.copyto(dst_big[step * used :], small[: n_in - step * used])

    return Variant("floor", 1, lambda: None, backward if direction == "backward" else forward, rounds, True, False)


def build_variants(
    pool: str,
    direction: str,
    case: Case,
    x: np.ndarray,
    dout: np.ndarray,
    threads_list: list[int],
    repeat: int,
    naive_repeat: int,
    libs: peers.Libraries,
) -> list[Variant]:
    """The timed methods of one op: ours (the "values" rows: the direct kernels only, as the layers
    always keep their indices), then every installed peer, then the floor."""
    variants: list[Variant] = []
    if direction != "values":
        if naive_repeat:
            variants.append(_naive_variant(pool, direction, case, x, dout, min(naive_repeat, repeat)))
        variants.append(
            _layer_variant(pool, direction, case, x, dout, "im2col", "im2col-numpy", repeat, True, numpy_kernels=True)
        )
        variants.append(_layer_variant(pool, direction, case, x, dout, "im2col", "im2col", repeat, True))
    for n in threads_list:
        variants.append(_direct_variant(pool, direction, case, x, dout, n, repeat))
    for n in threads_list:
        variants.extend(_peer_variants(pool, direction, case, x, dout, n, repeat, libs))
    variants.append(_floor_variant(direction, x, dout.shape, repeat))
    return variants


# ----------------------------------------------------------------------------- timing


def run_queue_wait() -> float | None:
    """Seconds this process's threads have spent runnable but waiting for a CPU (Linux schedstat),
    or None where /proc does not report it."""
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return None
    total = 0
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                total += int(f.read().split()[1])
        except FileNotFoundError:  # the thread ended meanwhile
            continue
        except (OSError, ValueError, IndexError):
            return None
    return total * 1e-9


def disturbed(elapsed: float, wait: float | None) -> bool:
    return wait is not None and wait > max(DISTURBED_WAIT_S, DISTURBED_WAIT_SHARE * elapsed)


def _timed_call(v: Variant, probe):
    state = v.prepare()
    before = probe()
    start = time.perf_counter()
    v.run(state)
    elapsed = time.perf_counter() - start
    after = probe()
    return elapsed, (None if before is None or after is None else max(after - before, 0.0))


def time_round_robin(
    variants: list[Variant],
    repeat: int,
    retries: int = 0,
    probe: Callable[[], float | None] = run_queue_wait,
    hot: bool = False,
) -> list[Samples]:
    """Warm-up round, then ``repeat`` rounds of every variant in turn.

    With ``hot``, each timed call of a variant that takes a warm-up is preceded by one untimed
    call of the same variant, so it runs as in a loop of that op rather than as the first call
    after another method (whose threads, cache contents and sleeping OpenMP worker it would
    inherit). A timed call whose threads waited for a CPU (``probe``) beyond the disturbed
    limit is run again, up to ``retries`` times if it took under RETRY_BELOW_S; the attempt
    that waited least is kept. The choice never depends on the measured times, and every variant gets it.
    """
    samples = [Samples([], [], 0) for _ in variants]
    for round_no in range(-1, repeat):
        for k, v in enumerate(variants):
            if (round_no < 0 and not v.warmup) or round_no >= v.rounds:
                continue
            if round_no < 0:
                v.run(v.prepare())
                continue
            if hot and v.warmup:
                v.run(v.prepare())
            elapsed, wait = _timed_call(v, probe)
            attempts = 0
            while attempts < retries and elapsed < RETRY_BELOW_S and disturbed(elapsed, wait):
                again = _timed_call(v, probe)
                attempts += 1
                if again[1] is not None and again[1] < wait:
                    elapsed, wait = again
            samples[k].times.append(elapsed)
            samples[k].waits.append(wait)
            samples[k] = samples[k]._replace(retried=samples[k].retried + attempts)
    return samples


def extra_memory(variant: Variant) -> int | None:
    """Peak numpy bytes allocated during one call, minus the arrays it returns; None if not traceable."""
    if not variant.tracks_memory:
        return None
    state = variant.prepare()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = variant.run(state)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    returned = result if isinstance(result, tuple) else (result,)
    kept = sum(a.nbytes for a in returned if isinstance(a, np.ndarray))
    return max(peak - kept, 0)


def run_case(
    case: Case,
    threads_list: list[int],
    repeat: int,
    naive_repeat: int,
    libs: peers.Libraries,
    retries: int = 0,
    hot: bool = True,
    seed: int = 0,
) -> list[dict]:
    from .geometry import pool_geometry

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((case.N, case.C, case.H, case.W)).astype(case.dtype)
    geom = pool_geometry((case.H, case.W), case.kernel, case.stride, case.pad)
    dout = rng.standard_normal((case.N, case.C, geom.out_h, geom.out_w)).astype(case.dtype)
    rows = []
    for pool, direction in OPS:
        variants = build_variants(pool, direction, case, x, dout, threads_list, repeat, naive_repeat, libs)
        samples = time_round_robin(variants, repeat, retries, hot=hot)
        for v, t in zip(variants, samples, strict=True):
            extra = extra_memory(v) if v.method != "naive" or case.name == "tiny" else None
            rows.append(
                dict(
                    shape=case.name,
                    dtype=case.dtype,
                    pool=pool,
                    direction=direction,
                    method=v.method,
                    threads=v.threads,
                    median_ms=float(np.median(t.times)) * 1e3,
                    runs=len(t.times),
                    times_ms=[s * 1e3 for s in t.times],
                    wait_ms=[None if w is None else w * 1e3 for w in t.waits],
                    disturbed=sum(disturbed(e, w) for e, w in zip(t.times, t.waits, strict=True)),
                    retried=t.retried,
                    extra_bytes=extra,
                    extra_vs_input=None if extra is None else extra / x.nbytes,
                )
            )
    _add_ratios(rows)
    return rows


def _add_ratios(rows):
    def key(r):
        return (r["shape"], r["dtype"], r["pool"], r["direction"])

    torch1 = {key(r): r["median_ms"] for r in rows if r["method"] == "torch" and r["threads"] == 1}
    floor = {key(r): r["median_ms"] for r in rows if r["method"] == "floor"}
    fastest: dict[tuple, dict] = {}  # per op and thread count, the fastest peer's row
    for r in rows:
        k = key(r) + (r["threads"],)
        if r["method"] in peers.PEERS and (k not in fastest or r["median_ms"] < fastest[k]["median_ms"]):
            fastest[k] = r
    for r in rows:
        r["vs_torch1"] = r["median_ms"] / torch1[key(r)] if key(r) in torch1 else None
        r["vs_floor"] = r["median_ms"] / floor[key(r)]
        best = fastest.get(key(r) + (r["threads"],))
        r["fastest_peer"] = None if best is None else best["method"]
        r["vs_peer"] = None if best is None else r["median_ms"] / best["median_ms"]


# ----------------------------------------------------------------------------- output


def _fmt(value, spec, missing="n/a"):
    return missing if value is None else format(value, spec)


def format_table(rows: list[dict]) -> str:
    lines = []
    header = (
        f"{'method':<14}{'threads':>8}{'ms':>10}{'x torch1':>10}{'x peer':>8}{'x floor':>9}{'extra MB':>10}"
        f"{'x input':>9}"
        f"{'runs':>6}{'disturbed':>11}{'rerun':>7}"
    )
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["shape"], r["dtype"], r["pool"], r["direction"]), []).append(r)
    for (shape, dtype, pool, direction), group in groups.items():
        what = "forward without indices" if direction == "values" else direction
        lines.append(f"\n{shape} {dtype} {pool} pooling, {what}")
        lines.append(header)
        for r in group:
            extra_mb = None if r["extra_bytes"] is None else r["extra_bytes"] / 2**20
            lines.append(
                f"{r['method']:<14}{r['threads']:>8}{r['median_ms']:>10.3f}{_fmt(r['vs_torch1'], '.3f'):>10}"
                f"{_fmt(r['vs_peer'], '.2f'):>8}{r['vs_floor']:>9.1f}{_fmt(extra_mb, '.1f'):>10}"
                f"{_fmt(r['extra_vs_input'], '.2f'):>9}"
                f"{r['runs']:>6}{r['disturbed']:>11}{r['retried']:>7}"
            )
    return "\n".join(lines)


def format_peer_table(rows: list[dict], threads_list: list[int]) -> str:
    """Direct kernels / the fastest installed peer, per op, shape and thread count (below 1: ours is faster)."""
    cases = list(dict.fromkeys((r["shape"], r["dtype"]) for r in rows))
    cell = {
        (r["shape"], r["dtype"], r["pool"], r["direction"], r["threads"]): r for r in rows if r["method"] == "direct"
    }
    width = 26
    lines = [
        "\nPeers: direct / the fastest peer on the same number of threads (below 1: direct is faster); "
        "the peer is named where it is not ours",
        f"{'op':<32}{'threads':>8}" + "".join(f"{f'{s} {d}':>{width}}" for s, d in cases),
    ]
    for (pool, direction), label in PEER_OPS.items():
        for n in threads_list:
            texts = []
            for shape, dtype in cases:
                r = cell.get((shape, dtype, pool, direction, n))
                if r is None or r["vs_peer"] is None:
                    texts.append("n/a (no peer)")
                else:
                    texts.append(f"{r['vs_peer']:.2f} ({r['fastest_peer']})")
            lines.append(f"{label:<32}{n:>8}" + "".join(f"{t:>{width}}" for t in texts))
    return "\n".join(lines)


# the targets against the fastest peer on one thread (float32), and against the bandwidth floor
PEER_LIMITS = {
    ("max", "values"): 0.8,
    ("max", "backward"): 0.8,
    ("avg", "forward"): 0.8,
    ("avg", "backward"): 0.8,
}
# max forward with indices, against torch on NCHW tensors (torch-cl, also with indices, is in the
# peer table: it is 3-10x faster than NCHW torch, and 0.2x of it would be below the floor)
INDEX_LIMIT = 0.2
FLOOR_LIMIT = 3.0


def targets(rows: list[dict]) -> list[dict]:
    """The performance targets (docs/performance.md), checked on this run's medians (float32 unless the row says)."""
    med = {(r["shape"], r["dtype"], r["pool"], r["direction"], r["method"], r["threads"]): r["median_ms"] for r in rows}
    direct1 = {
        (r["shape"], r["dtype"], r["pool"], r["direction"]): r
        for r in rows
        if r["method"] == "direct" and r["threads"] == 1
    }
    checks = []

    def check(what, case, value, limit, at_most=True):
        if value is not None:
            checks.append(
                dict(
                    target=what,
                    shape=case[0],
                    dtype=case[1],
                    value=value,
                    limit=limit,
                    met=bool(value <= limit if at_most else value >= limit),
                )
            )

    for case in dict.fromkeys((r["shape"], r["dtype"]) for r in rows):
        for (pool, direction), label in PEER_OPS.items():
            r = direct1.get(case + (pool, direction))
            if r is None:
                continue
            if (pool, direction) == ("max", "forward"):  # against torch's NCHW kernel, as the target is set
                check(f"direct {label} / torch 1-thread", case, r["vs_torch1"], INDEX_LIMIT)
            elif r["vs_peer"] is not None:
                check(f"direct {label} / fastest peer", case, r["vs_peer"], PEER_LIMITS[(pool, direction)])
            check(f"direct {label} / bandwidth floor", case, r["vs_floor"], FLOOR_LIMIT)
        im2col = [med.get(case + ("max", d, "im2col", 1)) for d in ("forward", "backward")]
        torch1 = [med.get(case + ("max", d, "torch", 1)) for d in ("forward", "backward")]
        mine, theirs = [v for v in im2col if v is not None], [v for v in torch1 if v is not None]
        if len(mine) == len(theirs) == 2:
            check("im2col max forward+backward / torch 1-thread", case, sum(mine) / sum(theirs), 1.0)
        for pool, direction in OPS:
            one, two = (med.get(case + (pool, direction, "direct", n)) for n in (1, 2))
            if case[0] in ("S1", "S2") and one is not None and two is not None:
                check(f"direct {pool} {direction}: 2-thread speed-up", case, one / two, 1.7, at_most=False)
    for r in rows:
        if (r["method"], r["shape"], r["threads"]) == ("direct", "S4", 1) and r["extra_vs_input"] is not None:
            check(
                f"direct {r['pool']} {r['direction']} extra memory / input",
                (r["shape"], r["dtype"]),
                r["extra_vs_input"],
                1.0,
            )
    return checks


def format_targets(checks: list[dict]) -> str:
    lines = ["\nTargets", f"{'target':<58}{'shape':>7}{'dtype':>9}{'value':>9}{'limit':>8}  result"]
    for c in checks:
        bound = "<=" if "speed-up" not in c["target"] else ">="
        lines.append(
            f"{c['target']:<58}{c['shape']:>7}{c['dtype']:>9}{c['value']:>9.3f}{bound:>4}{c['limit']:<4}"
            f"  {'met' if c['met'] else 'MISSED'}"
        )
    return "\n".join(lines)


def metadata(args: argparse.Namespace, libs: peers.Libraries, threads_list: list[int]) -> dict:
    from . import direct

    return dict(
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        command="cs231n-pool bench " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["bench"] else " ".join(sys.argv),
        machine=dict(platform=platform.platform(), processor=_cpu_model(), cpu_count=os.cpu_count()),
        python=platform.python_version(),
        numpy=np.__version__,
        torch=None if libs.torch is None else libs.torch.__version__,
        peers=peers.versions(libs),
        peers_missing=libs.missing,
        load_average=_load_average(),
        openmp=direct.HAVE_OPENMP,
        openmp_runtimes=openmp_runtimes(),
        threads=threads_list,
        repeat=args.repeat,
        naive_repeat=args.naive_repeat,
        warmup_rounds=1,
        retries=args.retries,
        calls=_calls(args),
        disturbed=(
            f"this process's threads waited for a CPU > max({DISTURBED_WAIT_S * 1e6:.0f} us, "
            f"{DISTURBED_WAIT_SHARE:.0%} of the call) (Linux schedstat); such calls under {RETRY_BELOW_S} s "
            f"are run again up to `retries` times and the least-waiting attempt is kept"
        ),
        disturbance_measured=run_queue_wait() is not None,
        malloc_env={k: os.environ.get(k) for k in MALLOC_ENV},
        floor="numpy copies: forward reads x and writes out once, backward reads dout and writes dx once",
        extra_memory="tracemalloc peak during one call minus the returned arrays (torch: not traceable)",
    )


def _load_average() -> list[float] | None:
    """The machine's 1, 5 and 15-minute load averages when the run ends (None where unknown)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def openmp_runtimes() -> list[str]:
    """The OpenMP runtime libraries loaded in this process (one means torch and our kernels share its pool)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "/lib" in line and ("gomp" in line or "iomp" in line)}
    except OSError:
        return []
    return sorted(paths)


def _calls(args) -> str:
    if args.cold:
        return "cold: each timed call follows the previous method's"
    return "hot: each timed call follows one untimed call of the same method (naive: none)"


def methodology(args: argparse.Namespace, threads_list: list[int]) -> str:
    lines = [
        f"method: one process; every round runs each method once in turn (round-robin); 1 warm-up round, "
        f"then the median of {args.repeat} rounds; floor = numpy copies of the same bytes, in the same rounds",
        f"        threads {','.join(map(str, threads_list))} for the direct kernels and the peers "
        f"(torch.set_num_threads before each torch call, one ONNX Runtime session per count, "
        f"jax on 1 thread only); {_calls(args)}",
    ]
    if run_queue_wait() is None:
        lines.append("        disturbance by other processes is not measurable here (no /proc schedstat): no re-runs")
    else:
        lines.append(
            f"        a call whose threads waited for a CPU > max({DISTURBED_WAIT_S * 1e6:.0f} us, "
            f"{DISTURBED_WAIT_SHARE:.0%}) is run again up to {args.retries} times "
            f"(calls < {RETRY_BELOW_S} s), "
            f"keeping the least-waiting attempt; 'disturbed' counts kept runs still over the limit"
        )
    runtimes = openmp_runtimes()
    if runtimes:
        lines.append(f"        OpenMP runtime{'s' if len(runtimes) > 1 else ''} loaded: {', '.join(runtimes)}")
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def plot(rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = list(dict.fromkeys((r["shape"], r["dtype"]) for r in rows))
    labels = list(dict.fromkeys((r["method"], r["threads"]) for r in rows))
    fig, axes = plt.subplots((len(OPS) + 1) // 2, 2, figsize=(14, 4.5 * ((len(OPS) + 1) // 2)), sharey=False)
    for ax in axes.flat[len(OPS) :]:
        ax.set_visible(False)
    width = 0.8 / len(labels)
    for ax, (pool, direction) in zip(axes.flat, OPS, strict=False):
        for k, (method, threads) in enumerate(labels):
            values = []
            for shape, dtype in cases:
                match = [
                    r["median_ms"]
                    for r in rows
                    if (r["shape"], r["dtype"], r["pool"], r["direction"], r["method"], r["threads"])
                    == (shape, dtype, pool, direction, method, threads)
                ]
                values.append(match[0] if match else np.nan)
            ax.bar(
                np.arange(len(cases)) + (k - (len(labels) - 1) / 2) * width,
                values,
                width,
                label=f"{method} ({threads} thr)",
            )
        ax.set_yscale("log")
        ax.set_title(f"{pool} pooling, {'forward without indices' if direction == 'values' else direction}")
        ax.set_xticks(np.arange(len(cases)), [f"{s} {d}" for s, d in cases])
        ax.set_xlabel("shape and dtype")
        ax.set_ylabel("median time per call (ms, log scale)")
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=min(len(names), 8), fontsize="small")
    fig.suptitle("cs231n_pool pooling methods vs PyTorch and the bandwidth floor (lower is better)")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    if args.plot:  # say so now, not after the whole run
        require("matplotlib", "bench", "bench --plot")
    libs = peers.import_libraries()
    torch = libs.torch
    cases = cases_for(args.shapes, args.tiny)
    threads_list = list(dict.fromkeys(args.threads))
    if not all(os.environ.get(k) for k in MALLOC_ENV):
        print(
            "note: for stable medians run with MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 "
            "(glibc otherwise returns big buffers to the OS after every call)"
        )
    for name, why in libs.missing.items():
        print(f"note: peer {name} is not timed: {why}")
    if args.naive_repeat:
        print(
            f"note: naive runs {min(args.naive_repeat, args.repeat)} rounds without warm-up "
            f"(it is slow); its extra memory is measured on the tiny shape only"
        )
    print(methodology(args, threads_list))
    torch_threads = torch.get_num_threads() if torch is not None else None
    rows = []
    try:
        for case in cases:
            print(f"running {case.name} {case.dtype} {case[2:]} ...", flush=True)
            rows.extend(
                run_case(case, threads_list, args.repeat, args.naive_repeat, libs, args.retries, hot=not args.cold)
            )
    finally:
        if torch is not None:
            torch.set_num_threads(torch_threads)
    print(format_table(rows))
    print(format_peer_table(rows, threads_list))
    checks = targets(rows)
    print(format_targets(checks))
    shaky = [r for r in rows if 2 * r["disturbed"] >= r["runs"] and r["method"] != "naive"]
    if shaky:
        print(
            f"\nwarning: in {len(shaky)} rows at least half the kept runs were disturbed by other processes "
            f"(e.g. {shaky[0]['shape']} {shaky[0]['dtype']} {shaky[0]['pool']} {shaky[0]['direction']} "
            f"{shaky[0]['method']} {shaky[0]['threads']}-thread); their medians overstate the time: "
            f"rerun on a quieter machine or with more --retries"
        )
    meta = metadata(args, libs, threads_list)
    print(
        f"\n{meta['date']}  {meta['machine']['processor']}  ({meta['machine']['cpu_count']} CPUs)  "
        f"OpenMP: {meta['openmp']}  load average {meta['load_average']}  "
        + "  ".join(f"{k} {v}" for k, v in meta["peers"].items())
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(meta=meta, results=rows, targets=checks), f, indent=1)
        print(f"wrote {args.json}")
    if args.plot:
        plot(rows, args.plot)
        print(f"wrote {args.plot}")
    return 0
