"""The process that runs the student's file: ``python -I -B _child.py CONFIG_JSON``.

It limits its own address space, refuses the assignment's forbidden imports, loads the
student's file, then answers call requests on stdin/stdout (see wire.py) until stdin closes.
What the student's code prints goes to stderr, which the test process keeps.
"""

import importlib.abc
import importlib.util
import json
import os
import sys
import traceback


def _limit_memory(memory_mb):
    try:
        import resource
    except ImportError:  # Windows: no address-space limit; the time limit still applies
        resource = None
    if resource is not None:
        limit = memory_mb << 20
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ValueError, OSError):  # macOS refuses RLIMIT_AS; the time limit still applies
            pass


class _Forbid(importlib.abc.MetaPathFinder):
    def __init__(self, forbidden):
        self.forbidden = set(forbidden)

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.forbidden:
            raise ImportError(f"forbidden import: {name}", name=name)
        return None


def main():
    config = json.loads(sys.argv[1])
    sys.path.insert(0, config["wire_dir"])
    import numpy  # noqa: F401  (imported before the memory limit and before any student code)
    import wire

    channel_in = os.fdopen(os.dup(0), "rb")
    channel_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # print() of the student goes to stderr, not into the protocol
    for stream in (sys.stdout, sys.stderr):  # unbuffered: the process may be killed at any moment
        stream.reconfigure(line_buffering=True, write_through=True)
    sys.stdin = open(os.devnull)  # noqa: SIM115  (the student's stdin, open for the process's life)
    _limit_memory(config["memory_mb"])
    sys.meta_path.insert(0, _Forbid(config["forbidden"]))
    objects = {}

    def keep(value):
        objects[len(objects) + 1] = value
        return {"t": "ref", "id": len(objects), "type": type(value).__name__}

    def reply_error(exc):
        forbidden = (
            str(exc)[len("forbidden import: ") :]
            if isinstance(exc, ImportError) and str(exc).startswith("forbidden import: ")
            else None
        )
        frames = traceback.extract_tb(exc.__traceback__)
        student = [f for f in frames if os.path.abspath(f.filename) == config["student_file"]]
        text = "".join(traceback.format_list(student[-5:]))
        wire.write_frame(
            channel_out,
            {
                "ok": False,
                "type": type(exc).__name__,
                "message": str(exc)[:4000],
                "traceback": text,
                "forbidden": forbidden,
            },
        )

    wire.write_frame(channel_out, {"ok": True, "op": "ready"})
    module = None
    while True:
        try:
            header, blobs = wire.read_frame(channel_in)
        except EOFError:
            return
        try:
            if header["op"] == "load":
                spec = importlib.util.spec_from_file_location(config["module_name"], config["student_file"])
                module = importlib.util.module_from_spec(spec)
                sys.modules[config["module_name"]] = module
                spec.loader.exec_module(module)
                result = None
            elif header["op"] == "getattr":
                result = getattr(objects[header["target"]], header["name"])
            else:
                args = wire.decode(header["args"], blobs, lambda ref: objects[ref["id"]])
                kwargs = wire.decode(header["kwargs"], blobs, lambda ref: objects[ref["id"]])
                owner = module if header["op"] == "call" else objects[header["target"]]
                result = getattr(owner, header["name"])(*args, **kwargs)
            out_blobs = []
            body = wire.encode(result, out_blobs, keep)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt of student code too
            reply_error(exc)
            continue
        wire.write_frame(channel_out, {"ok": True, "body": body}, out_blobs)


if __name__ == "__main__":
    main()
