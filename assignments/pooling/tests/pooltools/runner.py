"""Call the student's file in a separate process, with a time and a memory limit.

``Submission(path, limits, forbidden).session()`` starts one Python process that loads the
file; ``s.call(name, *args)``, ``s.call_method(handle, name, *args)`` and
``s.getattr(handle, name)`` run code in it. Arrays, numbers, strings and tuples, lists and
dicts of them are copied across (wire.py); any other object stays in that process and comes
back as a :class:`Handle` that can be passed back to it.

The time limit is a budget per Submission (the tests make one per test) for loading the file
and every call; the memory limit caps the process's address space (Linux). A failure
raises a :class:`SubmissionFailure` (an AssertionError), so the test fails with its message.
"""

import ast
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from typing import NamedTuple

from . import wire

HERE = os.path.dirname(os.path.abspath(__file__))
STARTUP_SECONDS = 60.0  # starting Python and importing numpy does not count against the limit


class Limits(NamedTuple):
    timeout: float = 10.0  # seconds of wall clock per Submission (per test)
    memory_mb: int = 2048  # address-space limit of the process running the student's code
    output_bytes: int = 10000  # printed output kept per Submission


class SubmissionFailure(AssertionError):
    """The student's code failed a call (an exception, the time limit, a crash, a forbidden import)."""


class Handle:
    """An object that lives in the student's process (e.g. a Maxpool), passed back by reference."""

    def __init__(self, session, ref_id, type_name):
        self.session, self.id, self.type_name = session, ref_id, type_name

    def __repr__(self):
        return f"<{self.type_name} object in your code's process>"


def find_forbidden_imports(source, forbidden):
    """[(line, module)] for import statements and __import__/import_module calls naming a forbidden module."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []  # loading the file reports the SyntaxError
    hits = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if called in ("__import__", "import_module"):
                names = [node.args[0].value]
        hits += [(node.lineno, name) for name in names if name.partition(".")[0] in forbidden]
    return sorted(hits)


class Session:
    """One process running the student's file; use as ``with submission.session() as s:``."""

    def __init__(self, submission):
        self.submission = submission
        self.proc = None
        self.replies = queue.Queue()
        self.dead = None  # why the process stopped, once it has

    def __enter__(self):
        __tracebackhide__ = True
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _start(self):
        __tracebackhide__ = True
        sub = self.submission
        config = {
            "wire_dir": HERE,
            "memory_mb": sub.limits.memory_mb,
            "forbidden": list(sub.forbidden),
            "student_file": sub.path,
            "module_name": sub.module_name,
        }
        self.workdir = tempfile.mkdtemp(prefix="pooltools-")
        self.output = tempfile.TemporaryFile()  # noqa: SIM115  (closed by close(), after the process ends)
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-B", os.path.join(HERE, "_child.py"), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.output,
            cwd=self.workdir,
            env=env,
        )
        threading.Thread(target=self._read_replies, daemon=True).start()
        self._wait(time.monotonic() + STARTUP_SECONDS, "starting Python for your code")
        self._request({"op": "load"}, [], f"importing {os.path.basename(sub.path)}")

    def _read_replies(self):
        try:
            while True:
                self.replies.put(wire.read_frame(self.proc.stdout))
        except (EOFError, OSError, ValueError):
            self.replies.put(None)

    def close(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                stream.close()
            self.output.seek(0)
            self.submission.outputs.append(
                self.output.read(self.submission.limits.output_bytes).decode("utf-8", "replace")
            )
            self.output.close()
            self.proc = None
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _fail(self, reason):
        __tracebackhide__ = True
        self.dead = reason
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        raise SubmissionFailure(reason)

    def _wait(self, deadline, what):
        __tracebackhide__ = True
        try:
            frame = self.replies.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            self._fail(
                f"{what} did not finish within the time limit "
                f"({self.submission.limits.timeout:g} s per test); it was stopped"
            )
        if frame is None:
            code = self.proc.wait()
            hint = " (the memory limit, or a crash)" if code != 0 else ""
            self._fail(f"{what}: the process running your code stopped with status {code}{hint}")
        return frame

    def _request(self, header, blobs, what):
        __tracebackhide__ = True
        if self.dead:
            raise SubmissionFailure(f"{what}: your code's process stopped earlier in this test ({self.dead})")
        sub = self.submission
        start = time.monotonic()
        try:
            wire.write_frame(self.proc.stdin, header, blobs)
            reply, reply_blobs = self._wait(start + sub.limits.timeout - sub.spent, what)
        except OSError:
            self._fail(f"{what}: the process running your code stopped")
        finally:
            sub.spent += time.monotonic() - start
        if reply.get("ok"):
            return wire.decode(reply["body"], reply_blobs, lambda ref: Handle(self, ref["id"], ref["type"]))
        if reply.get("forbidden"):
            raise SubmissionFailure(f"{what}: your code imports {reply['forbidden']!r}, which this assignment forbids")
        trace = f"\n{reply['traceback'].rstrip()}" if reply.get("traceback") else ""
        raise SubmissionFailure(f"{what} raised {reply['type']}: {reply['message']}{trace}")

    def _args(self, args, kwargs):
        blobs = []

        def keep(value):
            if isinstance(value, Handle) and value.session is self:
                return {"t": "ref", "id": value.id}
            raise TypeError(f"cannot send {type(value).__name__} to your code's process")

        return wire.encode(list(args), blobs, keep), wire.encode(dict(kwargs), blobs, keep), blobs

    def call(self, name, *args, **kwargs):
        """The student's top-level ``name(*args, **kwargs)``."""
        __tracebackhide__ = True
        a, k, blobs = self._args(args, kwargs)
        return self._request({"op": "call", "name": name, "args": a, "kwargs": k}, blobs, f"{name}()")

    def call_method(self, handle, name, *args, **kwargs):
        """``handle.name(*args, **kwargs)`` in the student's process."""
        __tracebackhide__ = True
        a, k, blobs = self._args(args, kwargs)
        return self._request(
            {"op": "call_method", "target": handle.id, "name": name, "args": a, "kwargs": k},
            blobs,
            f"{handle.type_name}.{name}()",
        )

    def getattr(self, handle, name):
        """``handle.name``, read in the student's process."""
        __tracebackhide__ = True
        return self._request(
            {"op": "getattr", "target": handle.id, "name": name}, [], f"reading {handle.type_name}.{name}"
        )


class Submission:
    """The student's file under test; ``session()`` starts a process running it."""

    def __init__(self, path, limits=Limits(), forbidden=()):  # noqa: B008  (Limits is immutable)
        self.path = os.path.abspath(path)
        self.limits = limits
        self.forbidden = tuple(forbidden)
        self.module_name = os.path.splitext(os.path.basename(path))[0]
        self.outputs = []  # what the code printed, per session
        self.spent = 0.0  # seconds the code ran, all sessions together

    def session(self):
        __tracebackhide__ = True
        if not os.path.isfile(self.path):
            raise SubmissionFailure(f"there is no {os.path.basename(self.path)} in {os.path.dirname(self.path)}")
        with open(self.path, encoding="utf-8", errors="replace") as f:
            hits = find_forbidden_imports(f.read(), set(self.forbidden))
        if hits:
            where = ", ".join(f"line {line}: {name}" for line, name in hits[:5])
            raise SubmissionFailure(f"your file imports modules this assignment forbids ({where}); remove them")
        return Session(self)

    def output(self):
        """Everything the student's code printed in this Submission's sessions."""
        return "\n".join(text for text in self.outputs if text)
