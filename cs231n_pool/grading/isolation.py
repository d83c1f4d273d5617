"""OS-level isolation of the processes that run student code: levels, probing, and entering them.

Levels, strongest first (docs/isolation.md says what each one defends against):

- ``full``: a dedicated unprivileged uid/gid (no supplementary groups, no capabilities) inside
  new user, mount, PID, IPC and network namespaces: no network (a down loopback only), a
  minimal read-only filesystem (the interpreter's standard library, numpy, /usr), a size-capped
  tmpfs as working directory and /tmp, and a PID namespace whose processes all die with it.
- ``uid``: the dedicated uid/gid only (e.g. in a container that forbids user namespaces).
- ``none``: the grader's own user (a student running the public tests on their laptop).

``auto`` picks the strongest level the machine permits. `resolve_level` probes once per process.

This module is imported by the grader and also loaded by file path into the pre-fork server
(server.py), so it uses the standard library only. The functions that enter a level run in the
forked process that becomes the student's, before any student code.
"""

import contextlib
import ctypes
import os
import shutil
import stat
import sys
import time

LEVELS = ("full", "uid", "none")
CHOICES = ("auto", *LEVELS)
UID_BASE = 0x60000000  # session uid = UID_BASE + the keeper's pid: unique among live sessions
INNER_ID = 1000  # the student's uid and gid inside the user namespace
MAX_PROCESSES = 64  # RLIMIT_NPROC of the session uid: bounds a fork bomb
SHARED_TMP = ("/tmp", "/var/tmp", "/dev/shm")  # world-writable places swept at the uid level

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 4, 36, 38
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(os.uname().machine)

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]


class IsolationUnavailable(RuntimeError):
    """The requested isolation level cannot be provided on this machine."""


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags):
    _check(_libc.unshare(flags), "unshare")


def prctl(option, value):
    _check(_libc.prctl(option, value, 0, 0, 0), f"prctl({option})")


def mount(source, target, fstype, flags, data=None):
    enc = lambda s: s.encode() if isinstance(s, str) else s  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


# --- choosing a level --------------------------------------------------------------------------


def _probe(level):
    """Whether a forked child can enter `level`: its namespaces (with the uid/gid maps a
    keeper writes), its filesystem view and the switch to the dedicated uid."""
    if level == "none":
        return True
    if os.geteuid() != 0 or (level == "full" and SYS_PIVOT_ROOT is None):
        return False
    to_child_r, to_child_w = os.pipe()
    to_parent_r, to_parent_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(to_child_w)
            os.close(to_parent_r)
            target = UID_BASE
            if level == "full":
                unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWPID)
                os.write(to_parent_w, b"U")
                if os.read(to_child_r, 1) != b"G":
                    raise OSError("no uid map")
                build_root([], {}, 1)
                target = INNER_ID
            drop_privileges(target)
            code = 0
        finally:
            os._exit(code)
    os.close(to_child_r)
    os.close(to_parent_w)
    try:
        if level == "full" and os.read(to_parent_r, 1) == b"U":
            try:
                write_id_maps(pid, UID_BASE)
                os.write(to_child_w, b"G")
            except OSError:
                pass
    finally:
        os.close(to_child_w)
        os.close(to_parent_r)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


_AVAILABLE: dict[str, bool] = {}


def available(level):
    if level not in _AVAILABLE:
        _AVAILABLE[level] = _probe(level)
    return _AVAILABLE[level]


def resolve_level(requested="auto"):
    """The level in force for `requested` (auto: the strongest available); raises
    IsolationUnavailable when an explicit level cannot be provided."""
    if requested not in CHOICES:
        raise IsolationUnavailable(f"isolation={requested!r} must be one of {', '.join(CHOICES)}")
    if requested == "auto":
        return next(level for level in LEVELS if available(level))
    if not available(requested):
        why = (
            "the grader is not running as root, so it cannot switch to another uid"
            if os.geteuid() != 0
            else "this machine does not permit user, mount, PID, IPC and network namespaces"
        )
        raise IsolationUnavailable(f"--isolation {requested} is not available: {why}")
    return requested


def add_isolation_argument(parser):
    parser.add_argument(
        "--isolation",
        choices=CHOICES,
        default="auto",
        help="how student code is isolated: full (own uid in namespaces), uid (own uid only), "
        "none (the grader's user); auto picks the strongest available (default)",
    )


def warn_if_unisolated(command, level, paths=()):
    """Say loudly what student code can reach at the levels below full."""
    if level == "none":
        print(
            f"cs231n-pool {command}: WARNING: isolation level 'none': student code runs as your own user and "
            f"can read and write what you can, including the hidden tests. Grade untrusted code as root "
            f"(levels 'full' or 'uid'); see docs/isolation.md.",
            file=sys.stderr,
        )
    readable = exposed(paths) if level == "uid" else []
    if readable:
        print(
            f"cs231n-pool {command}: WARNING: isolation level 'uid' cannot hide files every user may read, "
            f"and these are: {', '.join(readable)} (chmod o-rwx them, or grade at level 'full')",
            file=sys.stderr,
        )


# --- the session's identity and cleanup (run by the keeper, as root) ---------------------------


def session_uid(keeper_pid):
    return UID_BASE + keeper_pid


def _uids_of(pid):
    """The real uid of a live process (None for a zombie, already dead, or one that is gone)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"State:") and line.split()[1] == b"Z":
                    return None
                if line.startswith(b"Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def processes_of(uid, exclude=()):
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in exclude and _uids_of(p) == uid]


def kill_uid(uid, exclude=()):
    """SIGKILL every process whose real uid is `uid` (but `exclude`), until none is left."""
    for _ in range(1000):
        pids = processes_of(uid, exclude)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, 9)
        time.sleep(0.001)


def remove_files_of(uid):
    """Remove what `uid` left in the world-writable folders (the uid level has no private tmpfs)."""
    for folder in SHARED_TMP:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.remove(entry.path)
            except OSError:
                pass


def write_id_maps(pid, uid):
    """Map the student's inner uid/gid to the session uid, and inner root to root (for setup only)."""
    for name in ("uid_map", "gid_map"):
        with open(f"/proc/{pid}/{name}", "w") as f:
            f.write(f"0 0 1\n{INNER_ID} {uid} 1\n")


# --- entering a level (run in the student's process, before any student code) ------------------


def _bind(source, root, readonly=True):
    """Bind `source` at the same path under `root`, read-only, no setuid, no devices."""
    target = root + source
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    mount(source, target, None, MS_BIND | MS_REC)
    flags = MS_BIND | MS_REMOUNT | MS_NOSUID | (MS_RDONLY if readonly else 0)
    mount(None, target, None, flags | (MS_NODEV if os.path.isdir(source) else 0))


def _staging_point(trees):
    """An existing folder to build the new root on: mounting over it must not hide any of `trees`."""
    for candidate in ("/tmp", "/mnt", "/media", "/srv", "/run"):
        if os.path.isdir(candidate) and not any(t == candidate or t.startswith(candidate + "/") for t in trees):
            return candidate
    raise OSError("no folder to build the sandbox's filesystem on: every candidate holds a grading tree")


def build_root(trees, links, disk_mb, inodes=4096):
    """A fresh filesystem view: `trees` read-only at their own paths, /usr (and the top-level
    links into it), /dev/null, /dev/zero, /dev/urandom, and a size-capped tmpfs at /tmp that is
    also the working directory. Everything else of the grader's machine is out of sight."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = _staging_point(trees)  # mount point of the new root in this mount namespace only
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=8m,nr_inodes=4096,mode=0755")
    # /tmp first: a tree that lives under /tmp (a venv there) is then bound inside it, not hidden by it
    os.makedirs(root + "/tmp", mode=0o755)
    mount(
        "tmpfs",
        root + "/tmp",
        "tmpfs",
        MS_NOSUID | MS_NODEV,
        f"size={disk_mb}m,nr_inodes={inodes},mode=0700,uid={INNER_ID},gid={INNER_ID}",
    )
    for tree in ["/usr", *trees]:
        if os.path.exists(tree) and not tree.startswith("/usr/"):
            _bind(tree, root)
    for link, target in links.items():  # e.g. a venv's bin/python -> the interpreter bound above
        os.makedirs(os.path.dirname(root + link), exist_ok=True)
        if not os.path.lexists(root + link):
            os.symlink(target, root + link)
    for name in ("bin", "lib", "lib64", "sbin"):
        if os.path.islink("/" + name):
            os.symlink(os.readlink("/" + name), os.path.join(root, name))
    for device in ("/dev/null", "/dev/zero", "/dev/urandom"):
        _bind(device, root, readonly=False)
    mount(None, root, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chdir(root)
    _check(_libc.syscall(SYS_PIVOT_ROOT, b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/tmp")


def drop_privileges(uid):
    """Become `uid`/`uid` with no supplementary groups and no capabilities, for good."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def reachable_through_fds(paths):
    """For the uid level: {path: '/proc/self/fd/N'} for directories the session uid cannot reach
    by name (e.g. a Python under /root). The fds are opened now, as root, and stay open."""
    mapping = {}
    for path in paths:
        if not os.path.isdir(path) or _world_traversable(path):
            continue
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        mapping[path] = f"/proc/self/fd/{fd}"
    return mapping


def _world_traversable(path):
    """Whether any user can reach `path`: x on every folder above it; r on it (and x on a folder)."""
    parts = os.path.abspath(path).split(os.sep)
    for i in range(2, len(parts) + 1):
        try:
            mode = os.stat(os.sep.join(parts[:i]) or os.sep).st_mode
        except OSError:
            return False
        last = i == len(parts)
        need = (stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)) if last else stat.S_IXOTH
        if mode & need != need:
            return False
    return True


def redirect_paths(mapping):
    """Point sys.path and every loaded module's __path__ and __file__ at the paths `mapping` gives."""

    def move(path):
        for real, via in mapping.items():
            if path == real or path.startswith(real + os.sep):
                return via + path[len(real) :]
        return path

    sys.path[:] = [move(p) for p in sys.path]
    for module in list(sys.modules.values()):
        paths = getattr(module, "__path__", None)
        if isinstance(paths, list):
            paths[:] = [move(p) for p in paths]
        if isinstance(getattr(module, "__file__", None), str):
            module.__file__ = move(module.__file__)


def exposed(paths):
    """The given paths that every user can read (the uid level cannot hide those)."""
    return [p for p in paths if os.path.exists(p) and _world_traversable(p)]
