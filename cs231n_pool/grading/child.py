"""Child-side driver: runs in the sandboxed process and executes student code.

Loaded by file path into the pre-fork server (server.py), whose forked student process calls
`run_session` once it has entered its isolation level. It must not import cs231n_pool (the
student could then reach the reference implementation through sys.modules), so it uses only
the standard library, numpy and the wire module the server loaded by path. Everything here
runs in the same process as student code, so the grader trusts nothing it sends: the parent
validates every frame.

Protocol: the driver sends {"op": "ready"} once numpy is imported, then answers one reply
per request. Requests: load, call, call_method, getattr. Replies: {"ok": true, "body": v}
or {"ok": false, "error": {"type", "message", "traceback", "forbidden"}}.
"""

import contextlib
import os
import resource
import sys
import traceback

MAX_TEXT = 8000


def set_limits(memory_mb, file_mb, processes=None):
    """Address space, core dumps, file size and (for a dedicated uid) the number of processes.
    A limit the OS refuses (macOS rejects some RLIMIT_AS values) is skipped: students' local
    runs still work; grading runs on Linux."""
    limits = [(resource.RLIMIT_AS, memory_mb << 20), (resource.RLIMIT_CORE, 0), (resource.RLIMIT_FSIZE, file_mb << 20)]
    if processes is not None:
        limits.append((resource.RLIMIT_NPROC, processes))
    for which, value in limits:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(which, (value, value))


class ForbiddenImportError(ImportError):
    """Raised by the import hook for a module the assignment forbids."""


class ForbiddenImportHook:
    """Meta-path finder that refuses the configured top-level packages (and their submodules)."""

    def __init__(self, forbidden):
        self.forbidden = frozenset(forbidden)

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top in self.forbidden:
            raise ForbiddenImportError(f"importing {fullname!r} is not allowed in this assignment", name=fullname)
        return None


def flush_output():
    """Flush the student's prints so they land in the capture before the reply is sent."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # the student may have replaced or closed the stream
            pass


class Driver:
    def __init__(self, config, wire, np):
        self.config = config
        self.wire = wire
        self.np = np
        self.req_fd = config["req_fd"]
        self.resp_fd = config["resp_fd"]
        self.objects = {}
        self.module = None

    # --- conversions ----------------------------------------------------------------------
    def keep(self, obj):
        ref_id = len(self.objects) + 1
        self.objects[ref_id] = obj
        return {"t": "ref", "id": ref_id, "type": type(obj).__name__[:200]}

    def plain(self, value, blobs, depth=0):
        """Encode `value` if it is plain data (numeric array, scalar, str, None, tuple of those)."""
        np = self.np
        if value is None:
            return {"t": "none"}
        if type(value) is str:
            return {"t": "str", "v": value}
        if type(value) in (bool, int, float):
            return self.wire.encode_value(value, [])
        if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in self.wire.NUMERIC_KINDS:
            try:
                arr = np.array(value, copy=True, subok=False)
            except Exception:
                return None
            if type(arr) is not np.ndarray or arr.dtype.kind not in self.wire.NUMERIC_KINDS:
                return None
            blobs.append(self.wire.array_to_npy(arr))
            return {"t": "nd", "i": len(blobs) - 1}
        if type(value) in (tuple, list) and depth < 8:
            items = [self.plain(v, blobs, depth + 1) for v in value]
            if all(item is not None for item in items):
                return {"t": "tuple", "v": items}
        return None

    def encode_result(self, value, blobs):
        encoded = self.plain(value, blobs)
        if encoded is not None:
            return encoded
        if type(value) in (tuple, list):
            return {"t": "tuple", "v": [self.plain(v, blobs) or self.keep(v) for v in value]}
        return self.keep(value)

    def resolve(self, ref_id):
        if ref_id not in self.objects:
            raise LookupError(f"unknown handle #{ref_id}")
        return self.objects[ref_id]

    def decode(self, node, blobs):
        return self.wire.decode_value(node, blobs, lambda ref_id, _type: self.resolve(ref_id))

    # --- requests -------------------------------------------------------------------------
    def load(self):
        import importlib.util

        path = self.config["student_file"]
        name = self.config["module_name"]
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        if self.config.get("code"):  # compiled by the grader from the same bytes (marshal)
            import marshal

            exec(marshal.loads(self.config["code"]), module.__dict__)
        else:
            spec.loader.exec_module(module)
        self.module = module
        return None

    def handle(self, request, blobs):
        op = request.get("op")
        if op == "load":
            return self.load()
        if self.module is None:
            raise RuntimeError("the submission is not loaded")
        name = request.get("name")
        if not isinstance(name, str):
            raise TypeError("request without a name")
        if op == "getattr":
            target = self.resolve(request["target"])
            value = getattr(target, name)
            return value
        args = self.decode(request.get("args", {"t": "list", "v": []}), blobs)
        kwargs = self.decode(request.get("kwargs", {"t": "dict", "v": []}), blobs)
        if op == "call":
            if not hasattr(self.module, name):
                raise AttributeError(f"the submission does not define {name!r}")
            func = getattr(self.module, name)
        elif op == "call_method":
            func = getattr(self.resolve(request["target"]), name)
        else:
            raise ValueError(f"unknown request {op!r}")
        return func(*args, **kwargs)

    def error_reply(self, exc):
        frames = traceback.extract_tb(exc.__traceback__)
        here = os.path.abspath(__file__)
        # Only the student's frames: not this driver's, nor the import machinery's (a syntax error).
        user_frames = [
            f for f in frames if os.path.abspath(f.filename) != here and not f.filename.startswith("<frozen")
        ]
        text = "".join(traceback.format_list(user_frames))
        text += "".join(traceback.format_exception_only(type(exc), exc))
        text = text.replace(os.path.dirname(self.config["student_file"]) + os.sep, "")  # show "pooling_layers.py"
        forbidden = None
        err = exc
        while err is not None:
            if isinstance(err, ForbiddenImportError):
                forbidden = err.name
                break
            err = err.__cause__ or err.__context__
        try:
            message = str(exc)
        except BaseException:
            message = "<str() of the exception failed>"
        return {
            "ok": False,
            "error": {
                "type": type(exc).__name__[:200],
                "message": message[:MAX_TEXT],
                "traceback": text[-MAX_TEXT:],
                "forbidden": forbidden,
            },
        }

    def serve(self):
        self.wire.write_frame(self.resp_fd, {"op": "ready"})
        while True:
            try:
                request, blobs = self.wire.read_frame(self.req_fd)
            except self.wire.WireClosed:
                return
            reply_blobs = []
            try:
                result = self.handle(request, blobs)
                reply = {"ok": True, "body": self.encode_result(result, reply_blobs)}
            except BaseException as exc:  # student code may raise anything, incl. SystemExit
                reply_blobs = []
                try:
                    reply = self.error_reply(exc)
                except BaseException:
                    reply = {
                        "ok": False,
                        "error": {
                            "type": "Exception",
                            "message": "unprintable error",
                            "traceback": "",
                            "forbidden": None,
                        },
                    }
            flush_output()
            self.wire.write_frame(self.resp_fd, reply, reply_blobs)


def run_session(config, wire, np):
    """Serve one session: refuse the forbidden imports, then answer the grader's requests."""
    sys.meta_path.insert(0, ForbiddenImportHook(config["forbidden"]))
    sys.argv = [config["student_file"]]
    Driver(config, wire, np).serve()
