"""The other CPU libraries ``cs231n-pool bench`` times our kernels against, each only when installed.

* ``torch``: ``torch.nn.functional`` on NCHW tensors (max pooling with its indices, except in
  the "values" rows), backward through autograd; ``torch.set_num_threads(n)``.
* ``torch-cl``: the same calls on channels-last tensors (x and dout), the layout PyTorch's
  CPU pooling kernels are fastest on.
* ``onnxruntime``: a one-node MaxPool / AveragePool model built with the ``onnx`` package, run
  by an InferenceSession with ``intra_op_num_threads=n`` (one session per thread count). It is
  an inference runtime: forward only, no indices. Its idle worker threads are told not to
  spin (``session.intra_op.allow_spinning=0``), so they do not take a CPU from the method timed
  after them.
* ``jax``: ``lax.reduce_window`` under ``jax.jit``; gradients through ``jax.vjp``, jitted with the
  input passed as an argument (closing over it lets XLA constant-fold the whole pooling, which
  takes minutes). XLA fixes its CPU thread pool when jax is imported, so it runs on one thread
  (``--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1``) and has 1-thread rows only.
  No indices.

Every peer pools with the benchmark's own arguments (square kernel, stride, symmetric padding;
average pooling counts the padding, as torch's default does).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

PEERS = ("torch", "torch-cl", "onnxruntime", "jax")
# the dtypes ONNX Runtime's CPU provider has kernels for (it has no float64 AveragePool)
ONNX_DTYPES = {"MaxPool": ("float32", "float64"), "AveragePool": ("float32",)}
_JAX_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


class Libraries(NamedTuple):
    """The peer libraries this process could import (None: not installed), and why any is missing."""

    torch: Any
    onnx: Any
    onnxruntime: Any
    jax: Any
    missing: dict[str, str]


def _try_import(name: str) -> tuple[Any, str | None]:
    import importlib

    try:
        return importlib.import_module(name), None
    except ImportError as exc:
        return None, f"{name} is not importable ({exc})"


def import_libraries() -> Libraries:
    """Import every peer library that is installed (jax on one CPU thread, with float64 enabled)."""
    missing: dict[str, str] = {}
    torch, why = _try_import("torch")
    if why:
        missing["torch"] = missing["torch-cl"] = why
    onnx, why_onnx = _try_import("onnx")
    onnxruntime, why_ort = _try_import("onnxruntime")
    if why_onnx or why_ort:
        missing["onnxruntime"] = why_onnx or why_ort or ""
        onnx = onnxruntime = None
    if "jax" not in __import__("sys").modules:  # the flags only take effect before the first import
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_JAX_FLAGS}".strip()
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
    jax, why = _try_import("jax")
    if why:
        missing["jax"] = why
    else:
        jax.config.update("jax_enable_x64", True)  # else float64 inputs are silently cut to float32
    return Libraries(torch, onnx, onnxruntime, jax, missing)


class PeerCall(NamedTuple):
    """One timed peer call: ``run(prepare())`` is timed (as benchmark.Variant)."""

    method: str
    threads: int
    prepare: Callable[[], Any]
    run: Callable[[Any], Any]


def _none() -> None:
    return None


def torch_calls(info: Any, direction: str, case: Any, x: np.ndarray, dout: np.ndarray, threads: int, torch: Any):
    """torch on NCHW and on channels-last tensors."""
    torch_op = getattr(torch.nn.functional, info.torch_name)
    args = (case.kernel, case.stride, case.pad)
    kwargs = {} if direction == "values" else info.bench.torch_kwargs
    calls = []
    for method, layout in (("torch", torch.contiguous_format), ("torch-cl", torch.channels_last)):
        xt = torch.from_numpy(x).contiguous(memory_format=layout)
        dt = torch.from_numpy(dout).contiguous(memory_format=layout)

        def op(t, kwargs=kwargs):
            result = torch_op(t, *args, **kwargs)
            return result[0] if isinstance(result, tuple) else result

        def prepare(xt=xt, op=op):
            torch.set_num_threads(threads)
            if direction != "backward":
                return None
            return op(xt.detach().requires_grad_())

        def run(out, xt=xt, dt=dt, kwargs=kwargs):
            if direction != "backward":
                return torch_op(xt, *args, **kwargs)
            out.backward(dt)

        calls.append(PeerCall(method, threads, prepare, run))
    return calls


def onnx_session(op_type: str, case: Any, dtype: np.dtype[Any], threads: int, onnx: Any, onnxruntime: Any) -> Any:
    """An InferenceSession of one MaxPool/AveragePool node with the case's geometry on ``threads`` threads."""
    from onnx import TensorProto, helper

    elem = TensorProto.FLOAT if dtype == np.float32 else TensorProto.DOUBLE
    attrs: dict[str, Any] = dict(kernel_shape=[case.kernel] * 2, strides=[case.stride] * 2, pads=[case.pad] * 4)
    if op_type == "AveragePool":
        attrs["count_include_pad"] = 1
    node = helper.make_node(op_type, ["x"], ["y"], **attrs)
    graph = helper.make_graph(
        [node],
        "pool",
        [helper.make_tensor_value_info("x", elem, [case.N, case.C, case.H, case.W])],
        [helper.make_tensor_value_info("y", elem, None)],
    )
    # IR version 9 (opset 19): the onnx package writes its newest by default, which an older
    # onnxruntime rejects
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)], ir_version=9)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def onnx_calls(info: Any, direction: str, case: Any, x: np.ndarray, threads: int, libs: Libraries):
    """ONNX Runtime: forward without indices only (max "values", average "forward"), in ONNX_DTYPES."""
    if libs.onnxruntime is None or direction == "backward" or (info.indices and direction != "values"):
        return []
    if x.dtype.name not in ONNX_DTYPES[info.bench.onnx_op]:
        return []
    session = onnx_session(info.bench.onnx_op, case, x.dtype, threads, libs.onnx, libs.onnxruntime)
    feed = {"x": x}
    return [PeerCall("onnxruntime", threads, _none, lambda _: session.run(None, feed))]


def jax_function(info: Any, case: Any, dtype: np.dtype[Any], jax: Any) -> Callable[[Any], Any]:
    """The pooling as ``lax.reduce_window`` on an NCHW array."""
    from jax import lax

    window, strides = (1, 1, case.kernel, case.kernel), (1, 1, case.stride, case.stride)
    padding = ((0, 0), (0, 0), (case.pad, case.pad), (case.pad, case.pad))
    if info.bench.jax_reducer == "max":
        init = np.array(-np.inf, dtype=dtype)
        return lambda a: lax.reduce_window(a, init, lax.max, window, strides, padding)
    zero, cells = np.array(0, dtype=dtype), case.kernel * case.kernel
    return lambda a: lax.reduce_window(a, zero, lax.add, window, strides, padding) / cells


def jax_calls(info: Any, direction: str, case: Any, x: np.ndarray, dout: np.ndarray, threads: int, jax: Any):
    """JAX: forward without indices, and backward through jax.vjp (1 thread only)."""
    if jax is None or threads != 1 or (info.indices and direction == "forward"):
        return []
    pool = jax_function(info, case, x.dtype, jax)
    xj, gj = jax.device_put(x), jax.device_put(dout)
    if direction == "backward":
        grad = jax.jit(lambda a, g: jax.vjp(pool, a)[1](g)[0])
        grad(xj, gj).block_until_ready()  # compile outside the timed rounds
        return [PeerCall("jax", 1, _none, lambda _: grad(xj, gj).block_until_ready())]
    forward = jax.jit(pool)
    forward(xj).block_until_ready()
    return [PeerCall("jax", 1, _none, lambda _: forward(xj).block_until_ready())]


def peer_calls(info: Any, direction: str, case: Any, x: np.ndarray, dout: np.ndarray, threads: int, libs: Libraries):
    """Every installed peer's call for one op, direction and thread count."""
    calls = []
    if libs.torch is not None:
        calls += torch_calls(info, direction, case, x, dout, threads, libs.torch)
    calls += onnx_calls(info, direction, case, x, threads, libs)
    calls += jax_calls(info, direction, case, x, dout, threads, libs.jax)
    return calls


def versions(libs: Libraries) -> dict[str, str | None]:
    """The installed peer libraries' versions (None: not installed)."""
    return {
        "torch": None if libs.torch is None else libs.torch.__version__,
        "onnx": None if libs.onnx is None else libs.onnx.__version__,
        "onnxruntime": None if libs.onnxruntime is None else libs.onnxruntime.__version__,
        "jax": None if libs.jax is None else libs.jax.__version__,
    }
