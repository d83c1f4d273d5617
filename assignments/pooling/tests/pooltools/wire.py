"""Messages between the test process and the process running the student's code.

A frame is a 4-byte length and a JSON header, then for each array in it an 8-byte length and
the array in .npy format (``allow_pickle=False``): plain numbers and arrays cross, never a
pickled object. Values that are neither stay in the student's process and cross as a
reference ``{"t": "ref", "id": n, "type": "ClassName"}``.
"""

import io
import json
import struct

import numpy as np

NUMERIC_KINDS = "biufc"


def encode(value, blobs, keep):
    """JSON-able node for value; arrays go to blobs, other objects to keep(value) -> ref node."""
    if isinstance(value, np.generic) and value.dtype.kind in NUMERIC_KINDS:
        value = np.asarray(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in NUMERIC_KINDS:
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        blobs.append(buffer.getvalue())
        return {"t": "array", "i": len(blobs) - 1}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"t": "value", "v": value}
    if isinstance(value, (tuple, list)):
        return {"t": type(value).__name__, "v": [encode(v, blobs, keep) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"t": "dict", "v": {k: encode(v, blobs, keep) for k, v in value.items()}}
    return keep(value)


def decode(node, blobs, resolve):
    """Inverse of encode; resolve(ref node) gives the object a reference stands for."""
    kind = node["t"]
    if kind == "array":
        return np.load(io.BytesIO(blobs[node["i"]]), allow_pickle=False)
    if kind == "value":
        return node["v"]
    if kind in ("tuple", "list"):
        items = [decode(v, blobs, resolve) for v in node["v"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {k: decode(v, blobs, resolve) for k, v in node["v"].items()}
    if kind == "ref":
        return resolve(node)
    raise ValueError(f"unknown node type {kind!r}")


def write_frame(stream, header, blobs=()):
    data = json.dumps(dict(header, blobs=len(blobs))).encode()
    parts = [struct.pack("<I", len(data)), data]
    for blob in blobs:
        parts += [struct.pack("<Q", len(blob)), blob]
    stream.write(b"".join(parts))
    stream.flush()


def _read_exact(stream, size):
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise EOFError("the other process closed the connection")
        data += chunk
    return bytes(data)


def read_frame(stream):
    """(header dict, list of blobs); EOFError when the other side has gone."""
    (size,) = struct.unpack("<I", _read_exact(stream, 4))
    header = json.loads(_read_exact(stream, size))
    blobs = []
    for _ in range(header.pop("blobs")):
        (size,) = struct.unpack("<Q", _read_exact(stream, 8))
        blobs.append(_read_exact(stream, size))
    return header, blobs
