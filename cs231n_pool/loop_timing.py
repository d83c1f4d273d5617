"""Training-loop timings against PyTorch: the taught im2col max pooling and the adaptive kernels.

``python -m cs231n_pool.loop_timing`` (PyTorch needed) prints, for each case, the median time
of our call and of torch's, both on one thread, and their ratio. Protocol:

* one process; every round runs each case's two contenders one after the other (interleaved),
  after a warm-up round, and the figure is the median over the rounds;
* ``loop`` mode, the way a training loop calls a pooling layer: other work between the calls
  (a pass over a 64 MB buffer, as the layers around it would do, which evicts the caches),
  then the forward, other work, then the backward with a fresh upstream gradient;
* ``hot`` mode: forward and backward back to back, the same input every time.

The torch side is ``max_pool2d(..., return_indices=True)`` (or the adaptive op) on a tensor
that requires grad, then ``out.backward(dout)`` through autograd. Ratios below 1 mean ours is
faster. The machine may be shared: compare ratios of one run, not absolute times.
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from . import direct, layers

MAX_SHAPES = {  # (N, C, H, W), kernel, stride, padding: the benchmark's S1-S4
    "S1": ((64, 64, 32, 32), 2, 2, 0),
    "S2": ((32, 64, 56, 56), 3, 2, 1),
    "S3": ((8, 3, 224, 224), 2, 2, 0),
    "S4": ((64, 32, 28, 28), 3, 1, 1),
}
ADAPTIVE_CASES: dict[str, tuple[tuple[int, int, int, int], int | tuple[int, int]]] = {  # (N, C, H, W), output size
    "S1->1": ((64, 64, 32, 32), 1),
    "S1->7": ((64, 64, 32, 32), 7),
    "S1->13": ((64, 64, 32, 32), 13),
    "large": ((1, 1, 5873, 3693), (3527, 2219)),
}

Step = Callable[[], Any]


def _other_work(buffer: np.ndarray) -> None:
    buffer += 1.0  # reads and writes 64 MB: the caches hold none of the pooling data afterwards


def _timed(step: Step) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def _round(forward: Step, backward: Step, buffer: np.ndarray | None) -> tuple[float, float]:
    if buffer is not None:
        _other_work(buffer)
    f = _timed(forward)
    if buffer is not None:
        _other_work(buffer)
    return f, _timed(backward)


def _ours_maxpool(x: np.ndarray, kernel: int, stride: int, pad: int, dout: np.ndarray) -> tuple[Step, Step]:
    layer = layers.Maxpool(kernel, stride, pad, method="im2col")
    return (lambda: layer.forward(x)), (lambda: layer.backward(dout))


def _torch_pair(torch: Any, x: np.ndarray, op: Callable[[Any], Any], dout: np.ndarray) -> tuple[Step, Step]:
    xt = torch.from_numpy(x).requires_grad_()
    gt = torch.from_numpy(dout)
    state: dict[str, Any] = {}

    def forward() -> None:
        xt.grad = None
        state["out"] = op(xt)

    def backward() -> None:
        out = state.pop("out")
        (out[0] if isinstance(out, tuple) else out).backward(gt)

    return forward, backward


def _adaptive_pairs(torch: Any, x: np.ndarray, size: Any, kind: str, dout: np.ndarray) -> tuple[Step, Step, Step, Step]:
    F = torch.nn.functional
    layer = layers.AdaptiveMaxpool(size) if kind == "max" else layers.AdaptiveAvgpool(size)
    ours = (lambda: layer.forward(x)), (lambda: layer.backward(dout))
    if kind == "max":
        theirs = _torch_pair(torch, x, lambda t: F.adaptive_max_pool2d(t, size, return_indices=True), dout)
    else:
        theirs = _torch_pair(torch, x, lambda t: F.adaptive_avg_pool2d(t, size), dout)
    return (*ours, *theirs)


def benchmark(rounds: int = 11, mode: str = "loop", cases: str = "all", seed: int = 0) -> list[dict[str, Any]]:
    """Time the taught Maxpool(method="im2col") and the adaptive ops against torch, one thread each.

    Parameters
    ----------
    rounds : int
        Timed rounds after one warm-up round; medians are reported.
    mode : {"loop", "hot"}
        "loop": other work between the calls (see the module docstring); "hot": back to back.
    cases : {"all", "maxpool", "adaptive"}
        Which cases to run.
    seed : int
        Seed of the inputs.

    Returns
    -------
    list of dict
        One row per case and direction: ``case``, ``op``, ``ours_ms``, ``torch_ms``, ``ratio``.
    """
    import torch

    if mode not in ("loop", "hot"):
        raise ValueError(f"mode must be 'loop' or 'hot', got mode={mode!r}")
    if cases not in ("all", "maxpool", "adaptive"):
        raise ValueError(f"cases must be 'all', 'maxpool' or 'adaptive', got cases={cases!r}")
    torch.set_num_threads(1)
    direct.set_num_threads(1)
    rng = np.random.default_rng(seed)
    buffer = np.zeros(8 << 20) if mode == "loop" else None  # 64 MB of float64
    contenders: dict[tuple[str, str], tuple[Step, Step, Step, Step]] = {}
    F = torch.nn.functional
    if cases in ("all", "maxpool"):
        for name, (shape, k, s, p) in MAX_SHAPES.items():
            x = rng.standard_normal(shape).astype(np.float32)
            out = layers.Maxpool(k, s, p).forward(x)
            dout = rng.standard_normal(out.shape).astype(np.float32)
            ours = _ours_maxpool(x, k, s, p, dout)
            pool = functools.partial(F.max_pool2d, kernel_size=k, stride=s, padding=p, return_indices=True)
            contenders[(name, "im2col max fwd+bwd")] = (*ours, *_torch_pair(torch, x, pool, dout))
    if cases in ("all", "adaptive"):
        for name, (shape, size) in ADAPTIVE_CASES.items():
            x = rng.standard_normal(shape).astype(np.float32)
            for kind in ("max", "avg"):
                out = (layers.AdaptiveMaxpool(size) if kind == "max" else layers.AdaptiveAvgpool(size)).forward(x)
                dout = rng.standard_normal(out.shape).astype(np.float32)
                contenders[(name, f"adaptive {kind}")] = _adaptive_pairs(torch, x, size, kind, dout)
    times: dict[tuple[str, str], list[list[float]]] = {key: [[], [], [], []] for key in contenders}
    for r in range(rounds + 1):
        for key, (of, ob, tf, tb) in contenders.items():
            ours_s = _round(of, ob, buffer)
            theirs_s = _round(tf, tb, buffer)
            if r:  # round 0 warms up
                for series, value in zip(times[key], ours_s + theirs_s, strict=True):
                    series.append(value)
    rows = []
    for (case, op), (of_s, ob_s, tf_s, tb_s) in times.items():
        for direction, ours_t, theirs_t in (
            ("forward", of_s, tf_s),
            ("backward", ob_s, tb_s),
            ("forward+backward", np.add(of_s, ob_s), np.add(tf_s, tb_s)),
        ):
            ours_ms, torch_ms = 1e3 * float(np.median(ours_t)), 1e3 * float(np.median(theirs_t))
            rows.append(dict(case=case, op=f"{op} {direction}", ours_ms=ours_ms, torch_ms=torch_ms,
                             ratio=ours_ms / torch_ms))  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cs231n_pool.loop_timing", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--mode", choices=("loop", "hot"), default="loop")
    parser.add_argument("--cases", choices=("all", "maxpool", "adaptive"), default="all")
    args = parser.parse_args(argv)
    rows = benchmark(args.rounds, args.mode, args.cases)
    print(f"{'case':8} {'op':40} {'ours ms':>10} {'torch ms':>10} {'ratio':>7}   ({args.mode}, {args.rounds} rounds)")
    for row in rows:
        print(f"{row['case']:8} {row['op']:40} {row['ours_ms']:10.3f} {row['torch_ms']:10.3f} {row['ratio']:7.2f}")


if __name__ == "__main__":
    main()
