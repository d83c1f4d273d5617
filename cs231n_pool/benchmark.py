"""``cs231n-pool bench``: time every pooling method against PyTorch and the memory-bandwidth floor.

Protocol (see PERFORMANCE.md): one process; in every round each method runs once, in turn
(round-robin), so drifting machine load hits all methods alike; one warm-up round, then the
median of ``--repeat`` rounds (>= 7 by default). The floor is timed in the same rounds with
numpy copies of the same byte counts: forward reads the input once and writes the output
once, backward reads dout once and writes dx once. Ratios to PyTorch on one thread and to
the floor are what to quote; absolute times on a shared machine are noise.

Methods: ``naive`` (the CS231n-style loops in cs231n_pool.naive; very slow, so it runs only
the first ``--naive-repeat`` rounds and no warm-up), ``im2col-numpy`` (the Maxpool/Avgpool
layer forced onto the pure-numpy im2col kernels), ``im2col`` (the layer with the Cython
kernels, the default taught path), ``direct`` (cs231n_pool.direct's fused kernels, at every
``--threads`` count) and ``torch`` (torch.nn.functional max_pool2d with return_indices /
avg_pool2d, backward via autograd, ``torch.set_num_threads(n)``) when torch is installed.

Peak extra memory: the peak of numpy allocations (tracemalloc) during one call, minus the
arrays the call returns (output and indices, or dx): what a method needs on top of its
result. PyTorch's allocator does not report to tracemalloc, so torch shows n/a.
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
from typing import Callable, NamedTuple

import numpy as np

# name: (N, C, H, W, kernel, stride, pad)
SHAPES = {
    "S1": (64, 64, 32, 32, 2, 2, 0),
    "S2": (32, 64, 56, 56, 3, 2, 1),
    "S3": (8, 3, 224, 224, 2, 2, 0),
    "S4": (64, 32, 28, 28, 3, 1, 1),
}
TINY = {"tiny": (2, 4, 12, 12, 3, 2, 1)}
OPS = (("max", "forward"), ("max", "backward"), ("avg", "forward"), ("avg", "backward"))
MALLOC_ENV = ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_")


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
    parser.add_argument("--json", metavar="FILE", help="write every timing and the run's metadata to FILE")
    parser.add_argument("--plot", metavar="FILE.png", help="draw a bar chart of the medians (needs matplotlib)")
    parser.add_argument("--threads", default="1", type=_int_list("--threads"), metavar="1,2",
                        help="thread counts for the direct kernels and torch (default: 1)")
    parser.add_argument("--shapes", default="S1,S2,S3,S4", type=_shape_list, metavar="S1,S2,S3,S4",
                        help="which shapes to run (S1 runs in float32 and float64)")
    parser.add_argument("--repeat", default=7, type=_positive_int("--repeat"), metavar="N",
                        help="timed rounds after the warm-up; the median is reported (default: 7)")
    parser.add_argument("--naive-repeat", default=3, type=_non_negative_int("--naive-repeat"), metavar="N",
                        help="timed rounds for the slow naive loops, no warm-up (default: 3; 0 skips them)")
    parser.add_argument("--tiny", action="store_true",
                        help=f"one tiny shape {TINY['tiny']} instead of S1-S4 (a quick smoke test for CI)")


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
        raise argparse.ArgumentTypeError(f"--shapes must be a comma-separated subset of {','.join(SHAPES)}, got {text!r}")
    return names


def cases_for(shape_names, tiny: bool) -> list[Case]:
    if tiny:
        return [Case("tiny", "float32", *TINY["tiny"])]
    cases = []
    for name in shape_names:
        cases.append(Case(name, "float32", *SHAPES[name]))
        if name == "S1":
            cases.append(Case(name, "float64", *SHAPES[name]))
    return cases


# ----------------------------------------------------------------------------- the methods

def _layer(pool: str, case: Case, method: str):
    from . import layers
    if pool == "max":
        return layers.Maxpool(case.kernel, case.stride, case.pad, method=method)
    return layers.Avgpool(case.kernel, case.stride, case.pad, method=method)


@contextlib.contextmanager
def _numpy_kernels():
    """Run the im2col layers on the pure-numpy im2col/col2im/column_argmax kernels."""
    from unittest import mock
    from . import im2col, im2col_numpy
    with mock.patch.object(im2col, "im2col_kernels", im2col_numpy):
        yield


def _layer_variant(pool, direction, case, x, dout, method, name, rounds, warmup, numpy_kernels=False):
    wrap = _numpy_kernels if numpy_kernels else contextlib.nullcontext

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
    from . import naive
    param = dict(pool_height=case.kernel, pool_width=case.kernel, stride=case.stride, pad=case.pad)
    forward = naive.max_pool_forward_naive if pool == "max" else naive.avg_pool_forward_naive
    backward = naive.max_pool_backward_naive if pool == "max" else naive.avg_pool_backward_naive

    def prepare():
        return forward(x, param)[1] if direction == "backward" else None

    def run(cache):
        return forward(x, param) if direction == "forward" else backward(dout, cache)
    return Variant("naive", 1, prepare, run, rounds, False, True)


def _direct_variant(pool, direction, case, x, dout, threads, rounds):
    from . import direct
    from .geometry import avg_divisors, pool_geometry
    geom = pool_geometry((case.H, case.W), case.kernel, case.stride, case.pad)
    divisors = avg_divisors(geom)

    if pool == "max":
        idx = direct.max_pool_forward_direct(x, geom, threads)[1] if direction == "backward" else None
        run = ((lambda _: direct.max_pool_forward_direct(x, geom, threads)) if direction == "forward" else
               (lambda _: direct.max_pool_backward_direct(dout, idx, x.shape, threads)))
    else:
        run = ((lambda _: direct.avg_pool_forward_direct(x, geom, divisors, threads)) if direction == "forward" else
               (lambda _: direct.avg_pool_backward_direct(dout, geom, divisors, x.shape, threads)))
    return Variant("direct", threads, lambda: None, run, rounds, True, True)


def _torch_variant(pool, direction, case, x, dout, threads, rounds, torch):
    F = torch.nn.functional
    args = (case.kernel, case.stride, case.pad)
    xt, dt = torch.from_numpy(x), torch.from_numpy(dout)

    def op(t):
        return F.max_pool2d(t, *args, return_indices=True)[0] if pool == "max" else F.avg_pool2d(t, *args)

    def prepare():
        torch.set_num_threads(threads)
        if direction == "forward":
            return None
        leaf = xt.detach().requires_grad_()
        return op(leaf)

    def run(out):
        if direction == "forward":
            return (F.max_pool2d(xt, *args, return_indices=True) if pool == "max" else F.avg_pool2d(xt, *args))
        out.backward(dt)
    return Variant("torch", threads, prepare, run, rounds, True, False)


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
        np.copyto(dst_small[:used], src_in[:used * step:step])

    def backward(_):
        # write all of dx from dout, broadcast (dout is re-read from cache)
        np.copyto(dst_big[:step * used].reshape(step, used), small[:used])
        np.copyto(dst_big[step * used:], small[:n_in - step * used])
    return Variant("floor", 1, lambda: None, forward if direction == "forward" else backward, rounds, True, False)


def build_variants(pool, direction, case, x, dout, threads_list, repeat, naive_repeat, torch):
    variants = []
    if naive_repeat:
        variants.append(_naive_variant(pool, direction, case, x, dout, min(naive_repeat, repeat)))
    variants.append(_layer_variant(pool, direction, case, x, dout, "im2col", "im2col-numpy", repeat, True,
                                   numpy_kernels=True))
    variants.append(_layer_variant(pool, direction, case, x, dout, "im2col", "im2col", repeat, True))
    for n in threads_list:
        variants.append(_direct_variant(pool, direction, case, x, dout, n, repeat))
    if torch is not None:
        for n in threads_list:
            variants.append(_torch_variant(pool, direction, case, x, dout, n, repeat, torch))
    variants.append(_floor_variant(direction, x, dout.shape, repeat))
    return variants


# ----------------------------------------------------------------------------- timing

def time_round_robin(variants, repeat: int) -> list[list[float]]:
    """Warm-up round, then ``repeat`` rounds of every variant in turn; seconds per variant."""
    times = [[] for _ in variants]
    for round_no in range(-1, repeat):
        for k, v in enumerate(variants):
            if (round_no < 0 and not v.warmup) or round_no >= v.rounds:
                continue
            state = v.prepare()
            start = time.perf_counter()
            v.run(state)
            elapsed = time.perf_counter() - start
            if round_no >= 0:
                times[k].append(elapsed)
    return times


def extra_memory(variant: Variant):
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


def run_case(case: Case, threads_list, repeat, naive_repeat, torch, seed=0) -> list[dict]:
    from .geometry import pool_geometry
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((case.N, case.C, case.H, case.W)).astype(case.dtype)
    geom = pool_geometry((case.H, case.W), case.kernel, case.stride, case.pad)
    dout = rng.standard_normal((case.N, case.C, geom.out_h, geom.out_w)).astype(case.dtype)
    rows = []
    for pool, direction in OPS:
        variants = build_variants(pool, direction, case, x, dout, threads_list, repeat, naive_repeat, torch)
        times = time_round_robin(variants, repeat)
        for v, t in zip(variants, times):
            extra = extra_memory(v) if v.method != "naive" or case.name == "tiny" else None
            rows.append(dict(shape=case.name, dtype=case.dtype, pool=pool, direction=direction, method=v.method,
                             threads=v.threads, median_ms=float(np.median(t)) * 1e3, runs=len(t),
                             times_ms=[s * 1e3 for s in t], extra_bytes=extra,
                             extra_vs_input=None if extra is None else extra / x.nbytes))
    _add_ratios(rows)
    return rows


def _add_ratios(rows):
    def key(r):
        return (r["shape"], r["dtype"], r["pool"], r["direction"])
    torch1 = {key(r): r["median_ms"] for r in rows if r["method"] == "torch" and r["threads"] == 1}
    floor = {key(r): r["median_ms"] for r in rows if r["method"] == "floor"}
    for r in rows:
        r["vs_torch1"] = r["median_ms"] / torch1[key(r)] if key(r) in torch1 else None
        r["vs_floor"] = r["median_ms"] / floor[key(r)]


# ----------------------------------------------------------------------------- output

def _fmt(value, spec, missing="n/a"):
    return missing if value is None else format(value, spec)


def format_table(rows) -> str:
    lines = []
    header = f"{'method':<14}{'threads':>8}{'ms':>10}{'x torch1':>10}{'x floor':>9}{'extra MB':>10}{'x input':>9}{'runs':>6}"
    groups = {}
    for r in rows:
        groups.setdefault((r["shape"], r["dtype"], r["pool"], r["direction"]), []).append(r)
    for (shape, dtype, pool, direction), group in groups.items():
        lines.append(f"\n{shape} {dtype} {pool} pooling, {direction}")
        lines.append(header)
        for r in group:
            extra_mb = None if r["extra_bytes"] is None else r["extra_bytes"] / 2**20
            lines.append(f"{r['method']:<14}{r['threads']:>8}{r['median_ms']:>10.3f}{_fmt(r['vs_torch1'], '.3f'):>10}"
                         f"{r['vs_floor']:>9.1f}{_fmt(extra_mb, '.1f'):>10}{_fmt(r['extra_vs_input'], '.2f'):>9}"
                         f"{r['runs']:>6}")
    return "\n".join(lines)


def targets(rows) -> list[dict]:
    """The issue's performance targets, checked on this run's medians (float32 unless the row says)."""
    med = {(r["shape"], r["dtype"], r["pool"], r["direction"], r["method"], r["threads"]): r["median_ms"]
           for r in rows}
    checks = []

    def check(what, case, value, limit, at_most=True):
        if value is not None:
            checks.append(dict(target=what, shape=case[0], dtype=case[1], value=value, limit=limit,
                               met=bool(value <= limit if at_most else value >= limit)))

    def ratio(case, pool, direction, method, threads=1, ref="torch"):
        ours = med.get(case + (pool, direction, method, threads))
        base = med.get(case + (pool, direction, ref, 1))
        return None if ours is None or base is None else ours / base

    for case in dict.fromkeys((r["shape"], r["dtype"]) for r in rows):
        check("direct max forward / torch 1-thread", case, ratio(case, "max", "forward", "direct"), 0.2)
        check("direct max forward / bandwidth floor", case, ratio(case, "max", "forward", "direct", ref="floor"), 4.0)
        check("direct max backward / torch 1-thread", case, ratio(case, "max", "backward", "direct"), 1.0)
        for direction in ("forward", "backward"):
            check(f"direct avg {direction} / torch 1-thread", case, ratio(case, "avg", direction, "direct"), 0.5)
        im2col = [med.get(case + ("max", d, "im2col", 1)) for d in ("forward", "backward")]
        torch1 = [med.get(case + ("max", d, "torch", 1)) for d in ("forward", "backward")]
        if None not in im2col + torch1:
            check("im2col max forward+backward / torch 1-thread", case, sum(im2col) / sum(torch1), 1.0)
        for pool, direction in OPS:
            one, two = (med.get(case + (pool, direction, "direct", n)) for n in (1, 2))
            if case[0] in ("S1", "S2") and one is not None and two is not None:
                check(f"direct {pool} {direction}: 2-thread speed-up", case, one / two, 1.7, at_most=False)
    for r in rows:
        if (r["method"], r["shape"], r["threads"]) == ("direct", "S4", 1) and r["extra_vs_input"] is not None:
            check(f"direct {r['pool']} {r['direction']} extra memory / input", (r["shape"], r["dtype"]),
                  r["extra_vs_input"], 1.0)
    return checks


def format_targets(checks) -> str:
    lines = ["\nTargets (issue 5)", f"{'target':<48}{'shape':>7}{'dtype':>9}{'value':>9}{'limit':>8}  result"]
    for c in checks:
        bound = "<=" if "speed-up" not in c["target"] else ">="
        lines.append(f"{c['target']:<48}{c['shape']:>7}{c['dtype']:>9}{c['value']:>9.3f}{bound:>4}{c['limit']:<4}"
                     f"  {'met' if c['met'] else 'MISSED'}")
    return "\n".join(lines)


def metadata(args, torch, threads_list) -> dict:
    from . import direct
    return dict(
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        command="cs231n-pool bench " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["bench"] else " ".join(sys.argv),
        machine=dict(platform=platform.platform(), processor=_cpu_model(), cpu_count=os.cpu_count()),
        python=platform.python_version(), numpy=np.__version__,
        torch=None if torch is None else torch.__version__,
        openmp=direct.HAVE_OPENMP, threads=threads_list, repeat=args.repeat, naive_repeat=args.naive_repeat,
        warmup_rounds=1, malloc_env={k: os.environ.get(k) for k in MALLOC_ENV},
        floor="numpy copies: forward reads x and writes out once, backward reads dout and writes dx once",
        extra_memory="tracemalloc peak during one call minus the returned arrays (torch: not traceable)",
    )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def plot(rows, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = list(dict.fromkeys((r["shape"], r["dtype"]) for r in rows))
    labels = list(dict.fromkeys((r["method"], r["threads"]) for r in rows))
    fig, axes = plt.subplots(2, 2, figsize=(14, 9), sharey=False)
    width = 0.8 / len(labels)
    for ax, (pool, direction) in zip(axes.flat, OPS):
        for k, (method, threads) in enumerate(labels):
            values = []
            for shape, dtype in cases:
                match = [r["median_ms"] for r in rows if (r["shape"], r["dtype"], r["pool"], r["direction"],
                                                          r["method"], r["threads"]) ==
                         (shape, dtype, pool, direction, method, threads)]
                values.append(match[0] if match else np.nan)
            ax.bar(np.arange(len(cases)) + (k - (len(labels) - 1) / 2) * width, values, width,
                   label=f"{method} ({threads} thr)")
        ax.set_yscale("log")
        ax.set_title(f"{pool} pooling, {direction}")
        ax.set_xticks(np.arange(len(cases)), [f"{s} {d}" for s, d in cases])
        ax.set_xlabel("shape and dtype")
        ax.set_ylabel("median time per call (ms, log scale)")
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=min(len(names), 8), fontsize="small")
    fig.suptitle("cs231n_pool pooling methods vs PyTorch and the bandwidth floor (lower is better)")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _import_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def run(args) -> int:
    torch = _import_torch()
    cases = cases_for(args.shapes, args.tiny)
    threads_list = list(dict.fromkeys(args.threads))
    if not all(os.environ.get(k) for k in MALLOC_ENV):
        print("note: for stable medians run with MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 "
              "(glibc otherwise returns big buffers to the OS after every call)")
    if torch is None:
        print("note: torch is not installed; no PyTorch column and no ratios to it")
    if args.naive_repeat:
        print(f"note: naive runs {min(args.naive_repeat, args.repeat)} rounds without warm-up "
              f"(it is slow); its extra memory is measured on the tiny shape only")
    torch_threads = torch.get_num_threads() if torch is not None else None
    rows = []
    try:
        for case in cases:
            print(f"running {case.name} {case.dtype} {case[2:]} ...", flush=True)
            rows.extend(run_case(case, threads_list, args.repeat, args.naive_repeat, torch))
    finally:
        if torch is not None:
            torch.set_num_threads(torch_threads)
    print(format_table(rows))
    checks = targets(rows)
    print(format_targets(checks))
    meta = metadata(args, torch, threads_list)
    print(f"\n{meta['date']}  {meta['machine']['processor']}  ({meta['machine']['cpu_count']} CPUs)  "
          f"OpenMP: {meta['openmp']}  torch {meta['torch']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(meta=meta, results=rows, targets=checks), f, indent=1)
        print(f"wrote {args.json}")
    if args.plot:
        plot(rows, args.plot)
        print(f"wrote {args.plot}")
    return 0
