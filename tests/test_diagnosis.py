"""The grader's diagnosis of failed checks (cs231n_pool.grading.diagnosis), called directly.

End to end, through the graded tests and the real sandbox, every mutant of the catalogue is
checked in tests/test_mutants.py; here each misconception's own result is fed back to
`diagnose` on a fixed input, so a broken reference shows at once and by name. The student
bundle never carries the diagnosis: the release self-check fails when it would.
"""

import numpy as np
import pytest
from bundle_venv import POOLING

import cs231n_pool as lib
from cs231n_pool.grading.config import load_config
from cs231n_pool.grading.diagnosis import MISCONCEPTIONS, PREFIX, causes, diagnose
from cs231n_pool.grading.release import ReleaseError, check_contents, write_bundle

RTOL, ATOL = 1e-7, 1e-12
rng = np.random.default_rng(5)
X = -rng.uniform(1.0, 2.0, size=(2, 3, 7, 6))  # all negative: zero padding shows
X[0, 0, :2, :2] = X[0, 0, 0, 0]  # a tied window
X[1, 2, 3, 3] = np.nan
DOUT = {key: rng.uniform(0.5, 2.0, size=shape) for key, shape in [("3x2/1p1", (2, 3, 7, 7)), ("2x2/2", (2, 3, 3, 3))]}
EARLIER = -rng.uniform(1.0, 2.0, size=X.shape)


def _param(ph, pw, stride, pad):
    return {"pool_height": ph, "pool_width": pw, "stride": stride, "pad": pad}


def _cases(op):
    """(args, wanted, context) of `op` on inputs where each misconception of op shows."""
    if op in ("max_pool_forward", "avg_pool_forward"):
        forward = lib.max_pool_forward_naive if op.startswith("max") else lib.avg_pool_forward_naive
        for ph, pw, s, p in [(3, 2, 2, 1), (2, 3, 3, 0), (2, 2, 2, 1), (3, 2, 1, 1)]:
            yield (X, ph, pw, s, p), forward(X, _param(ph, pw, s, p))[0], {}
    elif op in ("max_pool_backward", "avg_pool_backward"):
        forward = lib.max_pool_forward_naive if op.startswith("max") else lib.avg_pool_forward_naive
        backward = lib.max_pool_backward_naive if op.startswith("max") else lib.avg_pool_backward_naive
        for (ph, pw, s, p), dout in [((3, 2, 1, 1), DOUT["3x2/1p1"]), ((2, 2, 2, 0), DOUT["2x2/2"])]:
            yield (X, ph, pw, s, p, dout), backward(dout, forward(X, _param(ph, pw, s, p))[1]), {}
    elif op == "im2col":
        x = rng.standard_normal((2, 2, 5, 6))
        for fh, fw, pad, s in [(2, 3, 1, 1), (3, 3, 1, 2)]:
            yield (x, fh, fw, pad, s), lib.im2col_indices(x, fh, fw, padding=pad, stride=s), {}
    elif op == "col2im":
        for fh, fw, pad, s in [(3, 3, 1, 1), (2, 3, 0, 1)]:
            shape = lib.im2col_indices(np.zeros((2, 2, 5, 6)), fh, fw, padding=pad, stride=s).shape
            cols = rng.standard_normal(shape)
            yield (
                (cols, 2, 2, 5, 6, fh, fw, pad, s),
                lib.col2im_indices(cols, (2, 2, 5, 6), fh, fw, padding=pad, stride=s),
                {},
            )
    elif op == "maxpool_forward":
        for size, s, p in [(2, 2, 0), (3, 2, 1)]:
            yield (
                (X, size, s, p),
                lib.max_pool_forward_naive(X, _param(size, size, s, p))[0],
                {"default_stride": s == size, "earlier": ()},
            )
    elif op == "maxpool_backward":
        dout = DOUT["2x2/2"]
        wanted = lib.max_pool_backward_naive(dout, lib.max_pool_forward_naive(X, _param(2, 2, 2, 0))[1])
        yield (X, 2, 2, 0, dout), wanted, {"earlier": (EARLIER,)}


def _diagnosed(misconception):
    """(the line diagnose gives for the misconception's own result, whether any case applied)."""
    seen = []
    for op in misconception.ops:
        for args, wanted, context in _cases(op):
            with np.errstate(all="ignore"):
                try:
                    result = misconception.compute(args, context)
                except (ValueError, IndexError):
                    continue
            if result is None:
                continue
            actual = np.where(np.ma.getmaskarray(result), 123.0, np.ma.getdata(result))  # any value where masked
            if np.allclose(actual, wanted, equal_nan=True) if actual.shape == wanted.shape else False:
                continue
            seen.append(diagnose(op, args, actual, wanted, RTOL, ATOL, context))
    return seen


@pytest.mark.parametrize("misconception", MISCONCEPTIONS, ids=lambda m: m.name)
def test_each_misconception_is_named_on_its_own_result(misconception):
    seen = _diagnosed(misconception)
    assert seen, f"{misconception.name}: no input of the cases shows it"
    assert PREFIX + misconception.cause in seen, seen


def test_right_values_and_random_values_get_no_cause():
    for op in (
        "max_pool_forward",
        "max_pool_backward",
        "avg_pool_forward",
        "avg_pool_backward",
        "im2col",
        "col2im",
        "maxpool_forward",
        "maxpool_backward",
    ):
        for args, wanted, context in _cases(op):
            assert diagnose(op, args, wanted.copy(), wanted, RTOL, ATOL, context) is None
            noise = rng.standard_normal(wanted.shape)
            assert diagnose(op, args, noise, wanted, RTOL, ATOL, context) is None
            assert diagnose(op, args, "not an array", wanted, RTOL, ATOL, context) is None


def test_a_float64_result_of_a_float32_input_is_an_upcast():
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    wanted = lib.max_pool_forward_naive(x, _param(2, 2, 2, 0))[0]
    line = diagnose("max_pool_forward", (x, 2, 2, 2, 0), wanted.astype(np.float64), wanted, 1e-5, 1e-6)
    assert line == causes()["max_forward_upcasts_float32"]
    assert diagnose("max_pool_forward", (x, 2, 2, 2, 0), wanted.astype(np.float64) + 1, wanted, 1e-5, 1e-6) is None


def test_a_bare_output_is_a_missing_cache():
    wanted = lib.max_pool_forward_naive(X, _param(2, 2, 2, 0))[0]
    assert diagnose("max_pool_forward:result", (X, 2, 2, 2, 0), wanted, wanted, RTOL, ATOL) == (
        "Likely cause: max_pool_forward_naive returns only out, so its result cannot be unpacked as out, cache; "
        "return (out, cache): backward needs the cache."
    )
    assert diagnose("max_pool_forward:result", (X, 2, 2, 2, 0), wanted + 1, wanted, RTOL, ATOL) is None


def test_the_zero_padding_cause_reads_as_the_rule():
    x = -1.0 - np.arange(16.0).reshape(1, 1, 4, 4)
    wanted = lib.max_pool_forward_naive(x, _param(2, 2, 2, 1))[0]
    zero_padded = lib.max_pool_forward_naive(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), _param(2, 2, 2, 0))[0]
    assert diagnose("max_pool_forward", (x, 2, 2, 2, 1), zero_padded, wanted, RTOL, ATOL) == (
        "Likely cause: max pooling pads with zeros, so an all-negative window at the border returns 0; pad with "
        "-inf so padding never wins."
    )


@pytest.mark.parametrize(
    "text",
    [
        "Likely cause: anything",
        "from cs231n_pool.grading.diagnosis import diagnose",
        causes()["max_pool_pads_with_zeros"][len(PREFIX) :],
    ],
)
def test_release_refuses_a_bundle_with_the_diagnosis(tmp_path, text):
    cfg = load_config(POOLING)
    out = tmp_path / "out"
    write_bundle(cfg, str(out))
    assert check_contents(cfg, str(out))  # the bundle as written carries none of it
    (out / "pooltools" / "extra.py").write_text(f"# {text}\n")
    with pytest.raises(ReleaseError) as info:
        check_contents(cfg, str(out))
    assert str(info.value).startswith("pooltools/extra.py contains the grader's diagnosis of failed checks: ")


def test_release_refuses_a_diagnosis_module(tmp_path):
    cfg = load_config(POOLING)
    out = tmp_path / "out"
    write_bundle(cfg, str(out))
    (out / "pooltools" / "diagnosis.py").write_text("\n")
    with pytest.raises(ReleaseError) as info:
        check_contents(cfg, str(out))
    assert str(info.value) == "pooltools/diagnosis.py contains the grader's diagnosis of failed checks: 'diagnosis.py'"
