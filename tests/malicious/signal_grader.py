# At import: walk up the grader's processes. ARMED (prepended by the test): SIGSTOP the
# grade-all process and SIGKILL the worker; otherwise only probe with signal 0. Print what worked.
import os
import signal


def _ancestors():
    pid = os.getppid()
    found = [pid]  # the parent, even when it is a namespace's init (pid 1)
    while pid > 1:
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            break
        if pid > 1:
            found.append(pid)
    return found


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


for _pid in _ancestors():
    _sig = 0
    if ARMED:  # noqa: F821
        _sig = signal.SIGSTOP if b"grade-all" in _cmdline(_pid) else signal.SIGKILL
    try:
        os.kill(_pid, _sig)
        print("CAN-SIGNAL", _pid)
    except OSError as _exc:
        print("SIGNAL-FAILED", _pid, type(_exc).__name__)
