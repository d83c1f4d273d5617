"""Expected values of the public tests and notebook checks, looked up by the exact call.

Every expected value is the result of a reference operation (``op``) on fixed arguments. It
is stored in ``expected.npz`` next to this file under a key computed from the op's name and
the exact bytes of its arguments (see :func:`call_key`), so a check finds its value only for
the inputs it was computed on. The file is read with ``allow_pickle=False``.

The course staff's tools may install a *source* with :func:`use_source`: a function
``source(op, *args) -> ndarray`` that computes the values instead (the grader does that, and
so does the release tool when it writes ``expected.npz``).
"""

import hashlib
import os

import numpy as np

STORE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "expected.npz")

_source = None
_store = None


class MissingExpectedValue(LookupError):
    """No value is stored for this call: the inputs of a test or check were changed."""


def use_source(source):
    """Compute expected values with ``source(op, *args)`` instead of reading expected.npz (None: read it)."""
    global _source
    _source = source


def call_key(op, *args):
    """Hex key of ``op(*args)``: the op name and each argument's type, dtype, shape and bytes."""
    digest = hashlib.sha256(op.encode())
    for arg in args:
        if isinstance(arg, np.ndarray):
            arr = np.ascontiguousarray(arg, dtype=arg.dtype.newbyteorder("<"))
            digest.update(f"|array {arr.dtype.str} {arr.shape}|".encode())
            digest.update(arr.tobytes())
        elif isinstance(arg, (bool, int, float, str)) or arg is None:
            digest.update(f"|{type(arg).__name__} {arg!r}|".encode())
        else:
            raise TypeError(f"call_key: argument of type {type(arg).__name__} cannot be keyed, got {arg!r}")
    return "k" + digest.hexdigest()[:40]


def _describe(op, args):
    parts = [f"array{arg.shape} {arg.dtype}" if isinstance(arg, np.ndarray) else repr(arg) for arg in args]
    return f"{op}({', '.join(parts)})"


def value(op, *args):
    """The expected result of ``op(*args)`` as an ndarray."""
    if _source is not None:
        return np.asarray(_source(op, *args))
    global _store
    if _store is None:
        if not os.path.isfile(STORE_PATH):
            raise MissingExpectedValue(f"{STORE_PATH} is missing: download the assignment folder again")
        with np.load(STORE_PATH, allow_pickle=False) as data:
            _store = {name: data[name] for name in data.files}
    key = call_key(op, *args)
    if key not in _store:
        raise MissingExpectedValue(
            f"no expected value is stored for {_describe(op, args)}: the inputs of this "
            f"check were changed; restore the original tests and notebooks"
        )
    return _store[key]
