"""Run a student's file in an isolated child process and call into it from the grader.

The grader (the pytest process that decides verdicts) never imports student code. Each
`Session` gets one fresh process, forked for it by a pre-fork server (server.py, started once
per grading process and isolation level, ``python -I -S -B``, numpy imported once) with:

- the isolation level in force (isolation.py): at ``full`` a dedicated unprivileged uid in its
  own user, mount, PID, IPC and network namespaces with a minimal read-only filesystem and a
  size-capped tmpfs as working directory; at ``uid`` the dedicated uid only; at ``none`` the
  grader's user and a fresh temporary working directory;
- a copy of the student file in its working directory, a scrubbed environment (PATH,
  HOME/TMPDIR = the working directory, one BLAS thread), numpy as the only importable
  third-party package, and an import hook that refuses the assignment's forbidden modules;
- RLIMIT_AS (the memory limit), RLIMIT_CORE 0, an RLIMIT_FSIZE cap and, with its own uid,
  RLIMIT_NPROC; it is killed with SIGKILL when the time limit runs out and when the session
  ends, and processes the student starts are killed after every call (all processes of the
  session uid; at ``none``, its descendants and the orphans that come back to the grader).

Requests and replies travel over a dedicated pipe pair (see wire.py): JSON plus .npy bytes,
never pickle. The child's stdout/stderr go to a third pipe read into a bounded buffer.

Failures surface in the grader as `SubmissionFailure` subclasses (AssertionError), so the
test that made the call fails with a readable message and the rest of the run goes on.
The methods a test calls set ``__tracebackhide__`` so pytest shows the test's own line
and this message, not the sandbox's internals.
"""

import ast
import atexit
import contextlib
import ctypes
import hashlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import isolation, wire

HERE = os.path.dirname(os.path.abspath(__file__))
CHILD_PATH = os.path.join(HERE, "child.py")
WIRE_PATH = os.path.join(HERE, "wire.py")
SERVER_PATH = os.path.join(HERE, "server.py")
ISOLATION_PATH = os.path.join(HERE, "isolation.py")
STARTUP_SECONDS = 60.0  # numpy import on a loaded machine; no student code runs before "ready"
ISOLATION_ENV = "CS231N_POOL_ISOLATION"  # the level grade/grade-all chose, for the pytest run
# Standard modules a submission commonly imports, loaded once by the server.
PRELOAD = (
    "math",
    "itertools",
    "functools",
    "collections",
    "typing",
    "dataclasses",
    "time",
    "random",
    "numpy.lib.stride_tricks",
    "importlib.util",
    "traceback",
    "resource",
    "select",
    "struct",
    "io",
)


class SubmissionFailure(AssertionError):
    """Base class: the submission failed a call. A test that meets it fails (not errors)."""


class StudentError(SubmissionFailure):
    """Student code raised an exception (any BaseException, incl. SystemExit, KeyboardInterrupt)."""

    def __init__(self, what, type_name, message, traceback_text):
        self.type_name = type_name
        self.message = message
        self.traceback = traceback_text
        text = f"{what} raised {type_name}: {message}"
        if traceback_text:
            text += "\n" + traceback_text.rstrip()
        super().__init__(text)


class StudentTimeout(SubmissionFailure):
    """A call did not finish within the wall-clock limit; the child was killed."""


class StudentCrashed(SubmissionFailure):
    """The child exited, was killed (e.g. by the memory limit) or broke the protocol."""

    def __init__(self, message, returncode=None):
        self.returncode = returncode
        super().__init__(message)


class ForbiddenImport(SubmissionFailure):
    """The submission imports a module the assignment forbids."""

    def __init__(self, message, module):
        self.module = module
        super().__init__(message)


class MissingSubmission(SubmissionFailure):
    """The submission folder does not contain the student file."""


@dataclass(frozen=True)
class Limits:
    timeout: float = 10.0  # wall-clock seconds the submission may run per Submission (= per test)
    memory_mb: int = 2048  # RLIMIT_AS of the child
    output_bytes: int = 10000  # captured student output kept per session
    file_mb: int = 64  # RLIMIT_FSIZE: largest file the child may write
    reply_mb: int = 256  # largest reply (sum of its arrays) the grader accepts
    disk_mb: int = 64  # size of the child's private tmpfs (full isolation)


def describe_exit(returncode):
    if returncode is None:
        return "is still running"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        hint = " (memory limit or crash)" if -returncode in (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT) else ""
        return f"was killed by {name}{hint}"
    return f"exited with status {returncode}"


# --- static check --------------------------------------------------------------------------

# (sha256 of the source, forbidden modules) -> find_forbidden_imports result
_STATIC_HITS: dict[tuple[bytes, tuple[str, ...]], Any] = {}


def find_forbidden_imports(source, forbidden):
    """Forbidden modules named by the source: import statements and __import__/import_module
    calls with a constant name. Returns a list of (line, module)."""
    forbidden = set(forbidden)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []  # the child reports the SyntaxError when it loads the file
    hits = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if called in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                names = [node.args[0].value]
        hits += [(node.lineno, name) for name in names if name.partition(".")[0] in forbidden]
    return sorted(hits)


# --- process bookkeeping -------------------------------------------------------------------

_LIVE_CHILDREN: set[int] = set()
_SUBREAPER = None


def become_subreaper():
    """Make orphaned descendants of our children re-parent to us so that they can be killed."""
    global _SUBREAPER
    if _SUBREAPER is None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            _SUBREAPER = libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
        except (OSError, AttributeError):
            _SUBREAPER = False
    return _SUBREAPER


def _process_table():
    """{pid: ppid} for every process we can see (Linux /proc)."""
    table = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return table
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        table[int(entry)] = int(fields[1])
    return table


def kill_tree(pid):
    """SIGKILL `pid`, its process group and all its descendants, and reap what is ours."""
    table = _process_table()
    found, frontier = {pid}, {pid}
    while frontier:
        frontier = {p for p, ppid in table.items() if ppid in frontier} - found
        found |= frontier
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    _kill_and_reap(found)


def _our_children():
    me = os.getpid()
    return {pid for pid, ppid in _process_table().items() if ppid == me}


def _kill_and_reap(pids):
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    for pid in pids:
        _reap(pid)


def _reap(pid, wait_seconds=2.0):
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return  # not our child (or already reaped)
        if done or time.monotonic() > deadline:
            return
        time.sleep(0.005)


class _OutputCapture(threading.Thread):
    """Drain the child's stdout/stderr pipe, keeping only the first `limit` bytes."""

    def __init__(self, fd, limit):
        super().__init__(daemon=True)
        self.fd = fd
        self.limit = limit
        self.head = bytearray()
        self.total = 0

    def run(self):
        try:
            while True:
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    break
                self.total += len(chunk)
                room = self.limit - len(self.head)
                if room > 0:
                    self.head += chunk[:room]
        finally:
            os.close(self.fd)

    def text(self):
        out = self.head.decode("utf-8", "replace")
        if self.total > len(self.head):
            out += f"\n[... {self.total - len(self.head)} more bytes of output truncated]"
        return out


def _numpy_path_dir(tmp):
    """A directory exposing only numpy (and its bundled libraries) to the child."""
    site = _site_dir()
    lib = os.path.join(tmp, "lib")
    os.mkdir(lib)
    for name in os.listdir(site):
        if name == "numpy" or (name.startswith("numpy") and name.endswith(".libs")):
            os.symlink(os.path.join(site, name), os.path.join(lib, name))
    return lib


def _site_dir():
    return os.path.dirname(os.path.dirname(os.path.abspath(np.__file__)))


def _interpreter_files():
    """The interpreter's binary and shared libpython: student code may start `sys.executable`."""
    files = {os.path.realpath(sys.executable)}
    with open("/proc/self/maps") as f:
        files |= {line.split()[-1] for line in f if "libpython" in line and line.split()[-1].startswith("/")}
    return sorted(files)


def _interpreter_links():
    """{sys.executable: its real path} when it is a link (a venv's bin/python)."""
    real = os.path.realpath(sys.executable)
    return {} if real == sys.executable else {sys.executable: real}


class _Server:
    """One pre-fork server (server.py) for this process and an isolation level."""

    def __init__(self, level):
        self.level = level
        self.tmp = tempfile.mkdtemp(prefix="cs231n-pool-server-")
        self.uid_dir = None
        if level == "uid":  # the session uid must reach its working folder: /tmp, not ours
            self.uid_dir = tempfile.mkdtemp(prefix="cs231n-pool-uid-", dir="/tmp")
            os.chmod(self.uid_dir, 0o711)
        stdlib = os.path.dirname(os.path.abspath(os.__file__))
        site = _site_dir()
        numpy_trees = [
            os.path.join(site, n)
            for n in sorted(os.listdir(site))
            if n == "numpy" or (n.startswith("numpy") and n.endswith(".libs"))
        ]
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = {
            "sock_fd": theirs.fileno(),
            "parent_pid": os.getpid(),
            "numpy_dir": _numpy_path_dir(self.tmp),
            "site_dir": site,
            "stdlib_dirs": [stdlib],
            "trees": [stdlib, *numpy_trees, *_interpreter_files()],
            "links": _interpreter_links(),
            "wire_path": WIRE_PATH,
            "child_path": CHILD_PATH,
            "isolation_path": ISOLATION_PATH,
            "preload": list(PRELOAD),
        }
        env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "PYTHONIOENCODING": "utf-8",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", SERVER_PATH, json.dumps(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            cwd=self.tmp,
            env=env,
            pass_fds=(theirs.fileno(),),
            start_new_session=True,
        )
        theirs.close()

    def alive(self):
        """Works in forks of the process that started it too (grade-all shares one server)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat", "rb") as f:
                return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
        except OSError:
            return False

    def spawn(self, request, fds):
        socket.send_fds(self.sock, [json.dumps(request).encode()], fds)

    def close(self):
        self.sock.close()
        try:
            self.proc.kill()
            self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for folder in (self.tmp, self.uid_dir):
            if folder:
                shutil.rmtree(folder, ignore_errors=True)


_SERVERS: dict[str, "_Server"] = {}


def start_server(level):
    """Start the pre-fork server of `level` now, so that processes forked from this one share it."""
    _server(level)


def _server(level):
    server = _SERVERS.get(level)
    if server is None or not server.alive():
        if server is not None:
            server.close()
        server = _SERVERS[level] = _Server(level)
    return server


_ENDED: list[Any] = []  # children killed at the end of their session whose keeper has not yet reported


def wait_for_sessions(timeout=10.0):
    """Wait until every ended session's keeper reported that all its processes are gone;
    returns how many did not report in time."""
    deadline = time.monotonic() + timeout
    late = 0
    for child in _ENDED:
        late += child.wait(max(0.0, deadline - time.monotonic())) is None
        child.ctl.close()
    _ENDED.clear()
    return late


def _collect_ended():
    for child in list(_ENDED):
        if child.wait(0) is not None:
            child.ctl.close()
            _ENDED.remove(child)


@atexit.register
def _close_servers():
    wait_for_sessions()
    for server in _SERVERS.values():
        server.close()
    _SERVERS.clear()


def _memfd(data):
    fd = os.memfd_create("cs231n-pool-source")
    os.write(fd, data)
    return fd


_COMPILED: dict[str, bytes] = {}  # sha256 of the source -> marshalled code object (b"" when it does not compile)


class _Child:
    """The student process of one session, as reported by its keeper over the control socket."""

    def __init__(self, ctl):
        self.ctl = ctl
        self.pid = None  # the process to kill: the student's, or at full the namespace's init
        self.student_pid = None  # the student's own process
        self.keeper_pid = None  # its keeper, forked by the server
        self.uid = None
        self.returncode = None
        self._buffer = b""

    def message(self, deadline):
        """The keeper's next message, or None when it is gone or the deadline passed."""
        while b"\n" not in self._buffer:
            remaining = max(0.0, deadline - time.monotonic())
            if not select.select([self.ctl], [], [], remaining)[0]:
                return None
            chunk = self.ctl.recv(65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            return None

    def has_strays(self):
        """Whether the student started processes that are still there: the children of its
        keeper (orphans come back to it, a subreaper; at full to the namespace's init), of that
        init and of the student. Reads three small /proc files instead of the process table."""
        expected = {self.pid, self.student_pid}
        for pid in {self.keeper_pid, self.pid, self.student_pid}:
            try:
                with open(f"/proc/{pid}/task/{pid}/children") as f:
                    if set(map(int, f.read().split())) - expected:
                        return True
            except (OSError, ValueError):
                return True  # gone or unreadable: let the full sweep decide
        return False

    def wait(self, timeout):
        """Wait for the keeper's final status (it comes after every process of the session died)."""
        if self.returncode is None:
            message = self.message(time.monotonic() + timeout)
            if isinstance(message, dict) and type(message.get("status")) is int:
                self.returncode = message["status"]
        return self.returncode


# --- the parent-side API -------------------------------------------------------------------


class Handle:
    """An opaque reference to an object that lives in the child (e.g. a cache or a layer).

    It can only be passed back to the same session; it never turns into a student-defined
    object in the grader.
    """

    __slots__ = ("_session", "id", "type_name")

    def __init__(self, session, ref_id, type_name):
        self._session = session
        self.id = ref_id
        self.type_name = type_name

    def __repr__(self):
        return f"<Handle #{self.id} to a {self.type_name!s} in the submission>"

    def __array__(self, *args, **kwargs):
        __tracebackhide__ = True
        raise SubmissionFailure(
            f"expected an array from the submission, got {self!r} (only plain numeric ndarrays cross the sandbox)"
        )


class Session:
    """One child process running the submission; use as a context manager.

    The child dies with the grader: the server is SIGKILLed (PR_SET_PDEATHSIG) when the thread
    that started it exits (a later session starts a new one), and each keeper and child in
    turn when its parent dies.
    """

    def __init__(self, submission):
        self.submission = submission
        self.limits = submission.limits
        self.level = submission.isolation
        self.proc = None
        self.tmp = None
        self.capture = None
        self.dead_reason = None
        self._req_w = self._resp_r = None
        self._children_before = set()

    # --- lifecycle ------------------------------------------------------------------------
    def __enter__(self):
        __tracebackhide__ = True
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def start(self):
        __tracebackhide__ = True
        sub = self.submission
        source = sub.check_static()
        _collect_ended()
        if self.level == "none":
            become_subreaper()
            self._children_before = _our_children()
            self.tmp = tempfile.mkdtemp(prefix="cs231n-pool-child-")
        request = {
            "level": self.level,
            "work": self.tmp,
            "uid_dir": None,
            "memory_mb": self.limits.memory_mb,
            "file_mb": self.limits.file_mb,
            "disk_mb": self.limits.disk_mb,
            "forbidden": list(sub.forbidden),
            "file_name": os.path.basename(sub.student_file),
            "module_name": sub.module_name,
        }
        server = _server(self.level)
        request["uid_dir"] = server.uid_dir
        req_r, self._req_w = os.pipe()
        os.set_blocking(self._req_w, False)  # writes wait with a deadline (wire.write_frame)
        self._resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        ctl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.proc = _Child(ctl)
        source_fd, code_fd = _memfd(source), _memfd(sub.compiled(source))
        try:
            server.spawn(request, [theirs.fileno(), req_r, resp_w, out_w, source_fd, code_fd])
        except OSError as exc:
            self.dead_reason = "not started"
            raise StudentCrashed(f"starting the submission: the sandbox server is not running ({exc})") from None
        finally:
            theirs.close()
            for fd in (req_r, resp_w, out_w, source_fd, code_fd):
                os.close(fd)
        self.capture = _OutputCapture(out_r, self.limits.output_bytes)
        self.capture.start()
        started = self.proc.message(time.monotonic() + STARTUP_SECONDS)
        if not isinstance(started, dict) or type(started.get("pid")) is not int:
            self.dead_reason = "not started"
            error = started.get("error") if isinstance(started, dict) else "no answer from the sandbox server"
            raise StudentCrashed(f"starting the submission: the sandbox could not be set up ({error})")
        self.proc.pid, self.proc.uid = started["pid"], started.get("uid")
        self.proc.student_pid = started.get("student_pid", self.proc.pid)
        self.proc.keeper_pid = started.get("keeper_pid")
        _LIVE_CHILDREN.add(self.proc.pid)
        header, _ = self._receive(
            time.monotonic() + STARTUP_SECONDS,
            "starting the submission",
            f"the {STARTUP_SECONDS:g} s allowed to start the submission's process",
        )
        if header.get("op") != "ready":
            self._fail_protocol("starting the submission", "unexpected first message")
        self._request({"op": "load"}, [], f"importing {os.path.basename(sub.student_file)}")

    def close(self):
        if self.proc is not None:
            if self.proc.pid is not None:
                self._kill(self.dead_reason or "closed")
                _LIVE_CHILDREN.discard(self.proc.pid)
            if self.proc not in _ENDED:
                self.proc.ctl.close()
        for fd in (self._req_w, self._resp_r):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._req_w = self._resp_r = None
        if self.capture is not None:
            self.capture.join(timeout=1.0)
            self.submission.outputs.append(self.capture.text())
            self.capture = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def _kill(self, reason):
        """SIGKILL the child, everything it started, and any orphan it left behind."""
        if self.dead_reason is None:
            self.dead_reason = reason
        if reason == "exited":  # it closed the channel: let the keeper report how it ended
            self.proc.wait(timeout=2)
        if self.proc.returncode is not None:
            return
        descendants = self._descendants() if self.level == "none" else ()
        for kill in (os.killpg, os.kill):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(self.proc.pid, signal.SIGKILL)
        _kill_and_reap(descendants)
        if self.level == "none" or reason == "exited":
            self.proc.wait(timeout=5)
            if self.level == "none":
                self._kill_orphans()
        else:
            # Its keeper reports once every process of the session is gone (at full the PID
            # namespace ends with its init; at uid it kills the uid): collected before the
            # verdicts are written (wait_for_sessions), not on the test's time.
            _ENDED.append(self.proc)

    def _descendants(self):
        table = _process_table()
        found, frontier = set(), {self.proc.pid}
        while frontier:
            frontier = {pid for pid, ppid in table.items() if ppid in frontier} - found
            found |= frontier
        return found

    def _kill_orphans(self):
        """Kill processes re-parented to the grader (double-forked by student code)."""
        if not _SUBREAPER:
            return
        orphans = _our_children() - self._children_before - _LIVE_CHILDREN - server_pids()
        orphans.discard(self.proc.pid)
        _kill_and_reap(orphans)

    def _after_call(self):
        """Processes the student started must not outlive the call."""
        if self.level != "none":
            if self.proc.has_strays():
                isolation.kill_uid(self.proc.uid, exclude=(self.proc.student_pid,))
            return
        leftovers = self._descendants()
        if leftovers:
            _kill_and_reap(leftovers)
        self._kill_orphans()

    # --- protocol -------------------------------------------------------------------------
    def _receive(self, deadline, what, limit_text):
        __tracebackhide__ = True
        try:
            return wire.read_frame(self._resp_r, deadline, max_blob_bytes=self.limits.reply_mb << 20)
        except wire.WireTimeout:
            self._timed_out(what, limit_text)
        except wire.WireClosed:
            self._kill("exited")
            raise StudentCrashed(
                f"{what}: the submission's process {describe_exit(self.proc.returncode)}{self._output_hint()}",
                self.proc.returncode,
            ) from None
        except wire.WireError as exc:
            self._fail_protocol(what, str(exc))

    def _timed_out(self, what, limit_text):
        __tracebackhide__ = True
        self._kill("timeout")
        raise StudentTimeout(f"{what} did not finish within {limit_text}; it was stopped") from None

    def _fail_protocol(self, what, detail):
        __tracebackhide__ = True
        self._kill("protocol")
        raise StudentCrashed(f"{what}: the submission's process sent an invalid reply ({detail})")

    def _output_hint(self):
        if self.capture is None:
            return ""
        self.capture.join(timeout=0.5)
        text = self.capture.text().strip()
        return f"\nits last output:\n{text[-2000:]}" if text else ""

    def _request(self, header, blobs, what):
        __tracebackhide__ = True
        if self.dead_reason is not None:
            raise StudentCrashed(
                f"{what}: the submission's process is no longer running "
                f"(it stopped earlier in this test: {self.dead_reason})"
            )
        sub = self.submission
        limit_text = f"the {self.limits.timeout:g} s (wall clock) the submission may run per test"
        start = time.monotonic()
        deadline = start + self.limits.timeout - sub.spent
        try:
            wire.write_frame(self._req_w, header, blobs, deadline)
            reply, reply_blobs = self._receive(deadline, what, limit_text)
        except wire.WireTimeout:
            self._timed_out(what, limit_text)
        except OSError:
            self._kill("exited")
            raise StudentCrashed(
                f"{what}: the submission's process {describe_exit(self.proc.returncode)}", self.proc.returncode
            ) from None
        finally:
            sub.spent += time.monotonic() - start
        self._after_call()
        if reply.get("ok") is True:
            return wire.decode_value(
                reply.get("body"), reply_blobs, lambda ref_id, type_name: Handle(self, ref_id, type_name)
            )
        error = reply.get("error")
        if reply.get("ok") is not False or not isinstance(error, dict):
            self._fail_protocol(what, "malformed reply")
        fields = {k: wire.safe_text(str(error.get(k) or "")[:8000]) for k in ("type", "message", "traceback")}
        forbidden = wire.safe_text(str(error.get("forbidden") or "")[:200])
        if forbidden:
            raise ForbiddenImport(
                f"{what}: the submission imports {forbidden!r}, which this assignment forbids", forbidden
            )
        raise StudentError(what, fields["type"] or "an exception", fields["message"], fields["traceback"])

    def _encode_args(self, args, kwargs):
        blobs = []
        return (
            wire.encode_value(list(self._localize(args)), blobs),
            wire.encode_value(self._localize(kwargs), blobs),
            blobs,
        )

    def _localize(self, value):
        """Replace Handles by wire refs, checking they belong to this session."""
        if isinstance(value, Handle):
            if value._session is not self:
                raise ValueError(f"{value!r} belongs to another session")
            return wire.Ref(value.id)
        if isinstance(value, (list, tuple)):
            return type(value)(self._localize(v) for v in value)
        if isinstance(value, dict):
            return {k: self._localize(v) for k, v in value.items()}
        return value

    # --- calls ----------------------------------------------------------------------------
    def call(self, name, *args, **kwargs):
        """Call the submission's top-level `name`; arrays and scalars come back as ndarrays."""
        __tracebackhide__ = True
        args_node, kwargs_node, blobs = self._encode_args(args, kwargs)
        result = self._request(
            {"op": "call", "name": name, "args": args_node, "kwargs": kwargs_node}, blobs, f"{name}()"
        )
        return _scalars_to_arrays(result)

    def call_method(self, handle, name, *args, **kwargs):
        """Call `handle.name(*args, **kwargs)` in the child."""
        __tracebackhide__ = True
        target = self._localize(handle)
        args_node, kwargs_node, blobs = self._encode_args(args, kwargs)
        result = self._request(
            {"op": "call_method", "target": target.id, "name": name, "args": args_node, "kwargs": kwargs_node},
            blobs,
            f"{handle.type_name}.{name}()",
        )
        return _scalars_to_arrays(result)

    def getattr(self, handle, name):
        """`handle.name`: a plain value (array, number, str, None, tuple of those) or a Handle."""
        __tracebackhide__ = True
        target = self._localize(handle)
        return self._request(
            {"op": "getattr", "target": target.id, "name": name}, [], f"reading {handle.type_name}.{name}"
        )


def server_pids():
    return {server.proc.pid for server in _SERVERS.values()}


def _scalars_to_arrays(value):
    if type(value) in (bool, int, float):
        return np.asarray(value)
    if isinstance(value, tuple):
        return tuple(_scalars_to_arrays(v) for v in value)
    return value


class Submission:
    """The student file under test. `session()` starts a child; `call()` is a one-call session.

    `limits.timeout` is a wall-clock budget for the submission's code across all sessions of
    this object (importing the file and every call; not the time to start Python). The pytest
    plugin makes one Submission per test, so it is the time limit per test.
    """

    def __init__(self, student_file, limits=Limits(), forbidden=(), module_name=None, isolation_level=None):
        self.student_file = os.path.abspath(student_file)
        self.isolation = isolation_level or isolation.resolve_level(os.environ.get(ISOLATION_ENV, "auto"))
        self.limits = limits
        self.forbidden = tuple(forbidden)
        self.module_name = module_name or os.path.splitext(os.path.basename(student_file))[0]
        self.outputs = []  # captured output of every session, in order
        self.spent = 0.0  # seconds spent waiting for the submission's code, all sessions together

    def check_static(self):
        """The student file's bytes; fails if it is missing or names a forbidden module.

        The child gets exactly these bytes, so the file cannot change between check and run."""
        __tracebackhide__ = True
        if not os.path.isfile(self.student_file):
            raise MissingSubmission(f"the submission has no {os.path.basename(self.student_file)}")
        with open(self.student_file, "rb") as f:
            source = f.read()
        key = (hashlib.sha256(source).digest(), self.forbidden)
        if key not in _STATIC_HITS:
            _STATIC_HITS[key] = find_forbidden_imports(source, self.forbidden)
        hits = _STATIC_HITS[key]
        if hits:
            where = ", ".join(f"line {line}: {name}" for line, name in hits[:5])
            raise ForbiddenImport(
                f"the submission imports modules this assignment forbids ({where}); "
                f"every graded test fails until they are removed",
                hits[0][1],
            )
        return source

    def compiled(self, source):
        """The student file compiled once per grading process (marshal bytes, or b"" so that
        the child compiles it and reports the SyntaxError itself)."""
        import marshal

        key = hashlib.sha256(source).digest()
        if key not in _COMPILED:
            try:
                code = compile(source, os.path.basename(self.student_file), "exec", dont_inherit=True)
                _COMPILED[key] = marshal.dumps(code)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                _COMPILED[key] = b""
        return _COMPILED[key]

    def session(self):
        """A child process for several calls that share objects: ``with sub.session() as s: ...``"""
        return Session(self)

    def call(self, name, *args, **kwargs):
        __tracebackhide__ = True
        with self.session() as s:
            return s.call(name, *args, **kwargs)

    def output(self):
        """All output the submission printed in this test's sessions (each bounded)."""
        return "\n".join(text for text in self.outputs if text)
