"""The message channel between the grader and the child process that runs student code.

A message is one frame on a pipe::

    4 bytes   big-endian length J of the JSON header (at most MAX_HEADER_BYTES)
    J bytes   UTF-8 JSON: {"body": <encoded value>, "blobs": [n0, n1, ...], ...}
    n0 + n1 + ... bytes: the arrays named in the body, each as a complete .npy file

Values are encoded as tagged JSON (``{"t": "int", "v": 3}``, ``{"t": "nd", "i": 0}``, ...),
arrays as .npy bytes read back with ``np.load(..., allow_pickle=False)``. Nothing on this
channel is ever unpickled or evaluated, so a hostile child can send wrong data but cannot
run code in the grader. The grader checks every length against its limits before reading.

This module is loaded by the child driver by file path (it must not import cs231n_pool),
so it depends on the standard library and numpy only.
"""

import io
import json
import math
import os
import select
import struct
import time

import numpy as np

MAX_HEADER_BYTES = 1 << 20
NUMERIC_KINDS = "biuf"  # bool, signed int, unsigned int, float


def safe_text(text):
    """`text` with anything UTF-8 cannot encode (lone surrogates) escaped, so that pytest,
    JSON and the terminal can always write what the child sent."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


class WireError(Exception):
    """The peer sent something that is not a valid frame (or closed the pipe)."""


class WireTimeout(WireError):
    """No complete frame arrived before the deadline."""


class WireClosed(WireError):
    """The peer closed the pipe before a complete frame arrived."""


def array_to_npy(arr):
    """Serialize a numeric ndarray as .npy bytes (no pickle, exact dtype and shape)."""
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr, order="C"), allow_pickle=False)
    return buf.getvalue()


def npy_to_array(data):
    """Read .npy bytes into a plain numeric ndarray; anything else raises WireError."""
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as exc:  # malformed bytes from an untrusted peer
        raise WireError(f"invalid array payload: {type(exc).__name__}: {exc}") from None
    if type(arr) is not np.ndarray or arr.dtype.kind not in NUMERIC_KINDS:
        raise WireError(f"array payload has non-numeric dtype {arr.dtype!r}")
    return arr


def encode_frame(header, blobs):
    """Build one frame from a JSON-able header dict and a list of bytes blobs."""
    header = dict(header, blobs=[len(b) for b in blobs])
    head = json.dumps(header, allow_nan=True).encode("utf-8")
    return struct.pack(">I", len(head)) + head + b"".join(blobs)


def write_frame(fd, header, blobs=(), deadline=None):
    """Write one frame; with a deadline (time.monotonic), a peer that stops reading cannot
    block the writer past it (WireTimeout). A deadline needs a non-blocking fd."""
    data = memoryview(encode_frame(header, list(blobs)))
    while data:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([], [fd], [], remaining)[1]:
                raise WireTimeout("timed out writing to the child")
        try:
            written = os.write(fd, data)
        except BlockingIOError:
            continue
        data = data[written:]


def _read_exact(fd, n, deadline):
    """Read exactly n bytes from fd, waiting at most until `deadline` (time.monotonic)."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WireTimeout("timed out waiting for the child")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                raise WireTimeout("timed out waiting for the child")
        chunk = os.readv(fd, [view[got:]])
        if chunk == 0:
            raise WireClosed("the child closed the channel")
        got += chunk
    return bytes(buf)


def read_frame(fd, deadline=None, max_blob_bytes=None):
    """Read one frame; returns (header dict, list of blob bytes).

    `max_blob_bytes` caps the total size of the arrays in the frame; a larger claim
    raises WireError before any of it is read.
    """
    (head_len,) = struct.unpack(">I", _read_exact(fd, 4, deadline))
    if head_len > MAX_HEADER_BYTES:
        raise WireError(f"header of {head_len} bytes exceeds the {MAX_HEADER_BYTES}-byte limit")
    data = _read_exact(fd, head_len, deadline)
    try:
        header = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # bad UTF-8 / JSON, or nesting too deep
        raise WireError(f"invalid header: {type(exc).__name__}") from None
    sizes = header.get("blobs") if isinstance(header, dict) else None
    if not isinstance(sizes, list) or not all(type(s) is int and s >= 0 for s in sizes):
        raise WireError("invalid header: missing blob sizes")
    if max_blob_bytes is not None and sum(sizes) > max_blob_bytes:
        raise WireError(f"reply of {sum(sizes)} bytes exceeds the {max_blob_bytes}-byte limit")
    blobs = [_read_exact(fd, s, deadline) for s in sizes]
    return header, blobs


# --- tagged values -------------------------------------------------------------------------


class Ref:
    """Wire-level reference to an object that lives in the child (id only)."""

    __slots__ = ("id",)

    def __init__(self, ref_id):
        self.id = ref_id


def encode_value(value, blobs):
    """Encode arguments sent to the child: arrays, plain scalars, str, None, containers, Refs."""
    if isinstance(value, Ref):
        return {"t": "ref", "id": value.id}
    if value is None:
        return {"t": "none"}
    if type(value) in (bool, np.bool_):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, (int, np.integer)):
        return {"t": "int", "v": int(value)}
    if isinstance(value, (float, np.floating)):
        return {"t": "float", "v": _float_to_json(float(value))}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in NUMERIC_KINDS:
            raise TypeError(f"only numeric arrays can be sent to a submission, got dtype {value.dtype}")
        blobs.append(array_to_npy(np.asarray(value)))
        return {"t": "nd", "i": len(blobs) - 1}
    if isinstance(value, (list, tuple)):
        tag = "list" if isinstance(value, list) else "tuple"
        return {"t": tag, "v": [encode_value(v, blobs) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("dict keys sent to a submission must be str")
        return {"t": "dict", "v": [[k, encode_value(v, blobs)] for k, v in value.items()]}
    raise TypeError(f"cannot send a {type(value).__name__} to a submission")


def _float_to_json(x):
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _float_from_json(v):
    if isinstance(v, str) and v in ("nan", "inf", "-inf"):
        return float(v)
    if type(v) in (int, float):
        return float(v)
    raise WireError(f"invalid float {v!r}")


MAX_DEPTH = 32


def decode_value(node, blobs, make_ref, depth=0):
    """Decode a tagged value; `make_ref(id, type_name)` builds the local stand-in for a Ref.

    Strict: any unknown tag or malformed field raises WireError.
    """
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if not isinstance(node, dict) or not isinstance(node.get("t"), str):
        raise WireError("invalid value")
    tag = node["t"]
    if tag == "none":
        return None
    if tag == "bool" and type(node.get("v")) is bool:
        return node["v"]
    if tag == "int" and type(node.get("v")) is int:
        return node["v"]
    if tag == "float":
        return _float_from_json(node.get("v"))
    if tag == "str" and isinstance(node.get("v"), str):
        return safe_text(node["v"])
    if tag == "nd":
        index = node.get("i")
        if type(index) is not int or not 0 <= index < len(blobs):
            raise WireError("invalid array reference")
        return npy_to_array(blobs[index])
    if tag in ("list", "tuple") and isinstance(node.get("v"), list):
        items = [decode_value(v, blobs, make_ref, depth + 1) for v in node["v"]]
        return items if tag == "list" else tuple(items)
    if tag == "dict" and isinstance(node.get("v"), list):
        out = {}
        for pair in node["v"]:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                raise WireError("invalid dict entry")
            out[pair[0]] = decode_value(pair[1], blobs, make_ref, depth + 1)
        return out
    if tag == "ref" and type(node.get("id")) is int:
        type_name = node.get("type", "")
        return make_ref(node["id"], safe_text(type_name[:200]) if isinstance(type_name, str) else "")
    raise WireError(f"invalid value with tag {tag!r}")
