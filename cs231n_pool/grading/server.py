"""The pre-fork server: imports numpy once, then forks one isolated process per session.

Started by sandbox.py as ``python -I -S -B server.py CONFIG_JSON`` (one server per grading
process and isolation level). It never runs student code itself, and like child.py it never
imports cs231n_pool: it loads wire.py, child.py and isolation.py by file path, so a forked
student process finds nothing of the reference implementation in sys.modules.

For each request (a JSON config and four file descriptors, received over a Unix socket) it
forks a *keeper*, which stays root and trusted, and the keeper forks the *student process*:

1. the keeper picks the session uid (isolation.session_uid) and, at the full level, unshares
   a PID namespace so that the student process is its init: when it dies, all it started dies;
2. the student process enters the level (isolation.py): user, mount, IPC and network
   namespaces, the keeper writes its uid/gid maps, it builds its filesystem view, drops to the
   unprivileged uid, sets its resource limits, and only then loads the student's file;
3. the keeper reports ``{"pid", "uid"}`` (or ``{"error"}``) on the session's control socket,
   waits for the student process, kills every process left with the session uid, removes
   what that uid left in the shared temp folders, and reports ``{"status"}``.
"""

import contextlib
import json
import os
import signal
import socket
import sys


def _load(name, path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _send(ctl, message):
    try:
        ctl.sendall(json.dumps(message).encode() + b"\n")
    except OSError:
        pass  # the session is gone; the keeper still cleans up


def _children_of(pid):
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat[stat.rfind(b")") + 2 :].split()[1]) == pid:
            found.append(int(entry))
    return found


def _close_all_but(keep):
    """Close every file descriptor not in `keep` (no /proc needed: it may be out of view)."""
    start = 0
    for fd in sorted(keep):
        if start < fd:  # os.closerange(n, n) would close everything from n on
            os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, 1 << 20)


def _read_all(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


class _Warm:
    """A keeper whose student process is already set up (namespaces, filesystem view) and waits
    for a session; `key` is what that preparation depended on."""

    def __init__(self, pid, sock, key):
        self.pid = pid
        self.sock = sock
        self.key = key

    def hand_over(self, message, fds):
        socket.send_fds(self.sock, [message], fds)
        self.sock.close()

    def discard(self):
        self.sock.close()  # the keeper sees the end of its socket and ends its student process


class Server:
    def __init__(self, config, iso, child, wire, np):
        self.config = config
        self.iso = iso
        self.child = child
        self.wire = wire
        self.np = np
        self.sock = socket.socket(fileno=config["sock_fd"])
        self.warm = None

    def serve(self):
        """Hand each request to a prepared keeper, then prepare the next one while it runs."""
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # keepers are reaped by the kernel
        while True:
            try:
                message, fds, _, _ = socket.recv_fds(self.sock, 1 << 16, 6)
            except OSError:
                return
            if not message:
                return  # the grader closed its end
            if len(fds) != 6:
                for fd in fds:
                    os.close(fd)
                continue
            request = json.loads(message)
            key = (request["level"], request["disk_mb"], request["uid_dir"])
            warm, self.warm = self.warm, None
            if warm is None or warm.key != key:
                if warm is not None:
                    warm.discard()
                warm = self._prepare(request, key)
            warm.hand_over(message, fds)
            for fd in fds:
                os.close(fd)
            self.warm = self._prepare(request, key)

    def _prepare(self, params, key):
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            try:
                mine.close()
                self.keeper(params, theirs)
            finally:
                os._exit(1)
        theirs.close()
        return _Warm(pid, mine, key)

    # --- the keeper: root, trusted, one per session ---------------------------------------------
    def keeper(self, params, hand):
        iso = self.iso
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        self.sock.close()
        iso.prctl(iso.PR_SET_PDEATHSIG, signal.SIGKILL)
        level = params["level"]
        uid = iso.session_uid(os.getpid()) if level != "none" else os.getuid()
        work = None
        if level == "uid":
            work = os.path.join(params["uid_dir"], str(uid))
            os.mkdir(work, 0o700)
            os.chown(work, uid, uid)
        iso.prctl(iso.PR_SET_CHILD_SUBREAPER, 1)  # orphans of the student come back here
        if level == "full":
            iso.unshare(iso.CLONE_NEWPID)
        to_child_r, to_child_w = os.pipe()
        to_keeper_r, to_keeper_w = os.pipe()
        status_r, status_w = os.pipe()  # at the full level, the namespace's init reports the student's status
        hand_keeper, hand_student = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            try:
                for fd in (to_child_w, to_keeper_r, status_r):
                    os.close(fd)
                hand.close()
                hand_keeper.close()
                self.student(params, level, uid, work, hand_student, to_child_r, to_keeper_w, status_w)
            finally:
                os._exit(127)
        for fd in (to_child_r, to_keeper_w, status_w):
            os.close(fd)
        hand_student.close()
        try:
            if level == "full" and os.read(to_keeper_r, 1) == b"U":
                iso.write_id_maps(pid, uid)
                os.write(to_child_w, b"G")
            prepared = os.read(to_keeper_r, 1)
        except OSError:
            prepared = b""
        message, fds, _, _ = socket.recv_fds(hand, 1 << 16, 6)  # wait for a session
        if not message or len(fds) != 6:
            os.kill(pid, signal.SIGKILL)
            os._exit(0)
        ctl = socket.socket(fileno=fds[0])
        try:
            if prepared == b"P":
                socket.send_fds(hand_keeper, [message], fds[1:])
            for fd in fds[1:]:
                os.close(fd)
            hand_keeper.close()
            setup = prepared + _read_all(to_keeper_r)
        except OSError as exc:
            setup = b"Ekeeper: " + str(exc).encode()
        if setup == b"PK":
            student = _children_of(pid)[0] if level == "full" else pid
            _send(ctl, {"pid": pid, "student_pid": student, "uid": uid, "keeper_pid": os.getpid()})
        else:
            error = setup.lstrip(b"P")[1:].decode("utf-8", "replace")[:2000]
            _send(ctl, {"error": error or "the sandbox did not start"})
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        reported = _read_all(status_r)
        if reported.strip().lstrip(b"-").isdigit():
            status = int(reported)
        self._kill_children()  # orphans that came back here
        if level == "uid":  # at full the PID namespace already ended with its init
            iso.kill_uid(uid)
            iso.remove_files_of(uid)
            import shutil

            shutil.rmtree(work, ignore_errors=True)
        _send(ctl, {"status": os.waitstatus_to_exitcode(status)})
        os._exit(0)

    @staticmethod
    def _kill_children():
        """Kill the orphans that came back to this subreaper."""
        for _ in range(1000):
            pids = _children_of(os.getpid())
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass

    # --- the student process: enters the level, then runs the driver ---------------------------
    def student(self, params, level, uid, work, hand, to_child_r, to_keeper_w, status_w):
        iso = self.iso
        try:
            os.setsid()
            if level == "full":  # prepared before any session is known
                iso.unshare(iso.CLONE_NEWUSER | iso.CLONE_NEWNS | iso.CLONE_NEWNET | iso.CLONE_NEWIPC)
                os.write(to_keeper_w, b"U")
                if os.read(to_child_r, 1) != b"G":
                    raise RuntimeError("the keeper did not map the session uid")
                iso.build_root(self.config["trees"], self.config["links"], params["disk_mb"])
                work = "/tmp"
            os.write(to_keeper_w, b"P")
        except BaseException as exc:  # noqa: BLE001
            os.write(to_keeper_w, b"E" + f"{type(exc).__name__}: {exc}".encode("utf-8", "replace"))
            os._exit(127)
        message, fds, _, _ = socket.recv_fds(hand, 1 << 16, 5)
        hand.close()
        if not message or len(fds) != 5:
            os._exit(0)
        request = json.loads(message)
        req_r, resp_w, out_w, source_fd, code_fd = fds
        try:
            work = request["work"] if level == "none" else work
            source, code = os.pread(source_fd, 1 << 30, 0), os.pread(code_fd, 1 << 30, 0)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(out_w, 1)
            os.dup2(out_w, 2)
            keep = {0, 1, 2, req_r, resp_w, to_keeper_w, to_child_r, status_w}
            site = self.config["site_dir"]
            mapping = {self.config["numpy_dir"]: site}
            if level == "uid":  # a Python under /root is not reachable by the session uid by name
                via_fds = iso.reachable_through_fds([site, *self.config["stdlib_dirs"]])
                mapping = {self.config["numpy_dir"]: via_fds.get(site, site), **via_fds}
                keep |= {int(via.rsplit("/", 1)[1]) for via in via_fds.values()}
            _close_all_but(keep)
            os.chdir(work)
            student_file = os.path.join(work, request["file_name"])
            fd = os.open(student_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(source)
            os.environ.update(HOME=work, TMPDIR=work)
            if level == "full":
                self._become_init(status_w, (req_r, resp_w, to_keeper_w, to_child_r))
            os.close(status_w)
            if level != "none":
                self.child.set_limits(request["memory_mb"], request["file_mb"], iso.MAX_PROCESSES)
                iso.drop_privileges(iso.INNER_ID if level == "full" else uid)
                if level == "uid":
                    iso.prctl(iso.PR_SET_DUMPABLE, 1)  # its own /proc/self/fd paths must stay readable
            else:
                self.child.set_limits(request["memory_mb"], request["file_mb"], None)
            iso.prctl(iso.PR_SET_PDEATHSIG, signal.SIGKILL)  # after the uid switch, which clears it
            iso.redirect_paths(mapping)
            os.write(to_keeper_w, b"K")
        except BaseException as exc:  # setup failed: say why, never run student code  # noqa: BLE001
            try:
                os.write(to_keeper_w, b"E" + f"{type(exc).__name__}: {exc}".encode("utf-8", "replace"))
            finally:
                os._exit(127)
        os.close(to_keeper_w)
        os.close(to_child_r)
        config = dict(request, req_fd=req_r, resp_fd=resp_w, student_file=student_file, code=code)
        self.child.run_session(config, self.wire, self.np)
        os._exit(0)

    def _become_init(self, status_w, fds):
        """Fork: the parent stays the PID namespace's init (root, out of the student's reach;
        its death kills the namespace) and reports how the student process ended."""
        pid = os.fork()
        if pid == 0:
            return
        self.iso.prctl(self.iso.PR_SET_PDEATHSIG, signal.SIGKILL)  # the keeper's death ends the namespace
        for fd in fds:
            os.close(fd)
        for fd in (0, 1, 2):
            os.close(fd)
        while True:
            done, status = os.waitpid(-1, 0)
            if done == pid:
                os.write(status_w, str(status).encode())
                os._exit(0)


def main():
    config = json.loads(sys.argv[1])
    sys.path[:0] = [config["numpy_dir"]]
    import numpy as np

    for name in config["preload"]:  # imported once here, so each session need not read them
        with contextlib.suppress(ImportError):
            __import__(name)
    import gc

    gc.freeze()  # forked children need not traverse (and so copy) the objects loaded so far
    iso = _load("_cs231n_pool_isolation", config["isolation_path"])
    iso.prctl(iso.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != config["parent_pid"]:
        os._exit(1)  # the grader died before prctl took effect
    wire = _load("_cs231n_pool_wire", config["wire_path"])
    child = _load("_cs231n_pool_child", config["child_path"])
    import shutil

    os.chdir("/")  # the folder of numpy links was needed for the imports only: nothing stays behind
    shutil.rmtree(os.path.dirname(config["numpy_dir"]), ignore_errors=True)  # even if we are killed
    Server(config, iso, child, wire, np).serve()


if __name__ == "__main__":
    main()
