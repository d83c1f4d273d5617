"""The grader's side of the pooling assignment's checks: expected values and hidden-test inputs.

The check helpers themselves ship with the assignment (``tests/pooltools/checks.py``); each
looks its expected value up as ``pooltools.expected.value(op, *args)``. :func:`reference` is
the source of those values, computed with the library (the package's public API), in
the grading process:

* the grader's conftest installs it, so every test, public or hidden, is checked against the
  library at grade time, on inputs drawn at grade time for the hidden tests;
* loaded as a pytest plugin (``-p cs231n_pool.grading.checks --record-expected FILE``), it
  records every value the public tests look up and, at the end, every value the notebook
  checks use (``pooltools.notebook.expected_calls``), and writes them to FILE (.npz): that
  is how `cs231n-pool release` makes the bundle's expected.npz.
"""

import os

import numpy as np

import cs231n_pool as lib


def _pool_param(ph, pw, stride, pad):
    return {"pool_height": ph, "pool_width": pw, "stride": stride, "pad": pad}


def _output_sizes():
    """pooled_size over the grid the notebook's output_size exercise is checked on: (case, 6) ints."""
    rows = [
        (size, k, s, p, ceil, lib.pooled_size(size, k, s, p, ceil_mode=bool(ceil)))
        for size in range(1, 12)
        for k in range(1, 5)
        for s in range(1, 5)
        for p in range(k // 2 + 1)
        for ceil in (0, 1)
        if size + 2 * p >= k
    ]
    return np.array(rows, dtype=np.int64)


def reference(op, *args):
    """The expected result of ``op(*args)``; op names as used by pooltools' checks."""
    if op in ("max_pool_forward", "avg_pool_forward"):
        x, ph, pw, stride, pad = args
        forward = lib.max_pool_forward_naive if op.startswith("max") else lib.avg_pool_forward_naive
        return forward(x, _pool_param(ph, pw, stride, pad))[0]
    if op in ("max_pool_backward", "avg_pool_backward"):
        x, ph, pw, stride, pad, dout = args
        if op.startswith("max"):
            _, cache = lib.max_pool_forward_naive(x, _pool_param(ph, pw, stride, pad))
            return lib.max_pool_backward_naive(dout, cache)
        _, cache = lib.avg_pool_forward_naive(x, _pool_param(ph, pw, stride, pad))
        return lib.avg_pool_backward_naive(dout, cache)
    if op == "im2col":
        x, fh, fw, padding, stride = args
        return lib.im2col_indices(x, fh, fw, padding=padding, stride=stride)
    if op == "col2im":
        cols, n, c, h, w, fh, fw, padding, stride = args
        return lib.col2im_indices(cols, (n, c, h, w), fh, fw, padding=padding, stride=stride)
    if op == "avg_pool_options":
        x, k, stride, pad, ceil_mode, count_include_pad = args
        return lib.Avgpool(
            k, stride=stride, padding=pad, ceil_mode=ceil_mode, count_include_pad=count_include_pad
        ).forward(x)
    if op == "output_sizes":
        return _output_sizes()
    if op == "output_size":
        (rows,) = args
        return np.array(
            [lib.pooled_size(int(size), int(k), int(s), int(p), ceil_mode=bool(ceil)) for size, k, s, p, ceil in rows],
            dtype=np.int64,
        )
    if op == "im2col_reference_ms":
        return _im2col_timings(*args)
    raise ValueError(f"op={op!r} is not a reference operation")


def _im2col_timings(size_list, repeats):
    """Milliseconds per call (best of `repeats`) of the library's im2col_indices on batches of 8 images
    of 8 channels, 3x3 windows, stride 1, pad 1, one per size in size_list (compiled kernels if built)."""
    import timeit

    times = []
    for size in size_list:
        x = np.random.default_rng(int(size)).standard_normal((8, 8, int(size), int(size)))
        times.append(
            1e3
            * min(timeit.repeat(lambda x=x: lib.im2col_indices(x, 3, 3, padding=1, stride=1), number=1, repeat=repeats))
        )
    return np.array(times)


# --- inputs drawn at grade time by the hidden tests ------------------------------------------------


def batch(rng, h, w, images=(1, 3)):
    """Shape (N, C, h, w) with N drawn from rng.integers(*images) and C from rng.integers(1, 4)."""
    return (int(rng.integers(*images)), int(rng.integers(1, 4)), h, w)


def positive_dout(rng):
    """A draw_dout: shape -> rng.uniform(0.5, 2.0, shape). No gradient is zero (or near it),
    so one sent to the wrong cell always shows."""
    return lambda shape: rng.uniform(0.5, 2.0, size=shape)


# --- recording the expected values of a bundle ----------------------------------------------------

RECORD_OPTION = "--record-expected"


def pytest_addoption(parser):
    parser.addoption(
        RECORD_OPTION,
        metavar="FILE",
        default=None,
        help="compute expected values with the library and write every one looked up to FILE (.npz)",
    )


def pytest_configure(config):
    path = config.getoption(RECORD_OPTION)
    if not path:
        return
    from pooltools import expected

    recorded = {}

    def record(op, *args):
        result = np.asarray(reference(op, *args))
        recorded[expected.call_key(op, *args)] = result
        return result

    expected.use_source(record)
    config._expected_record = (path, recorded)


def pytest_sessionfinish(session):
    state = getattr(session.config, "_expected_record", None)
    if state is None:
        return
    from pooltools import expected, notebook

    path, recorded = state
    for call in notebook.expected_calls():
        expected.value(*call)
    tmp = path + ".tmp.npz"
    np.savez_compressed(tmp, **recorded)
    os.replace(tmp, path)
