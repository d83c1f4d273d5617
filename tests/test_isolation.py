"""OS-level isolation: attacks on the machine, graded in a class with honest students.

Each attack in tests/malicious/ (steal_hidden, write_venv, classmates, signal_grader,
outlive_grading, fill_disk) is first graded at the `none` level, where it is shown to work
(its printed evidence is in its own feedback). Then a class (honest students before, after
and graded in parallel with the attackers) is graded with the real `cs231n-pool grade-all`
at `full` and at `uid`: the attackers gain nothing, the honest students score full marks in
that run and in the next, the hidden-test text appears in no student-visible output, no
process outlives grading, nothing is left in the shared temp folders, and the grader's
numpy and the assignment folder are byte-identical afterwards.
"""

import csv
import glob
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from test_grader_security import ALL_TESTS, MALICIOUS, SOLUTION, write_mini_assignment

from cs231n_pool.grading import isolation

HIDDEN_MARKER = "hidden-test-secret-5d41402abc4b2a76"
ATTACKS = ("steal_hidden", "write_venv", "classmates", "signal_grader", "outlive_grading", "fill_disk")
SITE = Path(np.__file__).resolve().parents[1]
FULL = sum(ALL_TESTS.values())

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the uid and full levels need a grader running as root")


@pytest.fixture(scope="module")
def assignment(tmp_path_factory):
    return write_mini_assignment(tmp_path_factory.mktemp("iso") / "mini", f"# {HIDDEN_MARKER}\n")


class Listener:
    """A TCP listener on 127.0.0.1 that records everything sent to it."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = bytearray()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                while chunk := conn.recv(65536):
                    self.received += chunk

    def close(self):
        self.sock.close()


@pytest.fixture
def listener():
    listen = Listener()
    yield listen
    listen.close()


def attack_source(attack, port, armed):
    return (
        SOLUTION.read_text()
        + f"\n\nATTACK_PORT = {port}\nARMED = {armed}\n# ---- attack: {attack}\n"
        + (MALICIOUS / f"{attack}.py").read_text()
    )


def tree_digest(root):
    digest = hashlib.sha256()
    for path in sorted(Path(root).rglob("*")):
        if "__pycache__" in path.parts:
            continue
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def machine_state(assignment):
    """What the attacks must not change: numpy's files, site-packages' listing, the assignment."""
    return tree_digest(SITE / "numpy"), sorted(os.listdir(SITE)), tree_digest(assignment)


def grade_all(assignment, class_dir, out, level, *extra):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cs231n_pool.cli",
            "grade-all",
            str(assignment),
            str(class_dir),
            "--out",
            str(out),
            "--jobs",
            "2",
            "--isolation",
            level,
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    with open(out / "grades.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    return proc, rows


def leftovers(wait=3.0):
    """Processes of a session uid or named by the outlive attack; files the fill attack left.

    A process killed at a session's end can take a moment to be reaped on a loaded machine, so
    the check waits up to `wait` seconds for the lists to empty before it reports them."""
    deadline = time.monotonic() + wait
    while True:
        procs, files = _leftovers_now()
        if (not procs and not files) or time.monotonic() > deadline:
            return procs, files
        time.sleep(0.1)


def _leftovers_now():
    procs = [p for p in filter(str.isdigit, os.listdir("/proc")) if (isolation._uids_of(p) or 0) >= isolation.UID_BASE]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "cs231n-outlive":
                procs.append(pid)
        except OSError:
            pass
    files = glob.glob("/tmp/cs231n-fill-*") + [
        e.path
        for folder in isolation.SHARED_TMP
        if os.path.isdir(folder)
        for e in os.scandir(folder)
        if e.stat(follow_symlinks=False).st_uid >= isolation.UID_BASE
    ]
    return procs, files


def clean_up_after_none():
    """The none level does not contain the attacks: undo what they did to this machine."""
    for path in (SITE / "numpy" / "testing" / "_cs231n_planted.py", SITE / "_cs231n_planted.pth"):
        path.unlink(missing_ok=True)
    for path in glob.glob("/tmp/cs231n-fill-*"):
        os.remove(path)


def feedback(out, student):
    return (out / student / "results.json").read_text()


def test_attacks_succeed_at_level_none(assignment, tmp_path, listener):
    """The naive level: each attack does what it claims (evidence in its own feedback)."""
    class_dir = tmp_path / "class"
    for attack in ATTACKS:
        (class_dir / attack).mkdir(parents=True)
        (class_dir / attack / "pooling_layers.py").write_text(attack_source(attack, listener.port, False))
    (class_dir / "honest").mkdir()
    (class_dir / "honest" / "pooling_layers.py").write_bytes(SOLUTION.read_bytes())
    out = tmp_path / "out"
    try:
        proc, rows = grade_all(assignment, class_dir, out, "none")
        assert "WARNING: isolation level 'none'" in proc.stderr
        assert HIDDEN_MARKER in feedback(out, "steal_hidden")
        assert HIDDEN_MARKER.encode() in listener.received and b"NET-OK" in listener.received
        assert "VENV-WRITE-OK" in feedback(out, "write_venv")
        assert (SITE / "_cs231n_planted.pth").exists()
        assert "READ-CLASSMATE" in feedback(out, "classmates")
        assert "CAN-SIGNAL" in feedback(out, "signal_grader")
        assert "FILLED-MB 80" in feedback(out, "fill_disk") and glob.glob("/tmp/cs231n-fill-*")
        assert json.loads(feedback(out, "honest"))["isolation"] == "none"
    finally:
        clean_up_after_none()


@needs_root
@pytest.mark.parametrize("level", ["full", "uid"])
def test_attacks_fail_in_a_class(assignment, tmp_path, listener, level):
    class_dir = tmp_path / "class"
    honest = ["aaron", "mia", "zoe"]  # graded before, in parallel with, and after the attackers
    for name in honest:
        (class_dir / name).mkdir(parents=True)
        (class_dir / name / "pooling_layers.py").write_bytes(SOLUTION.read_bytes())
    for attack in ATTACKS:
        folder = class_dir / ("m_" + attack if attack < "n" else "y_" + attack)
        folder.mkdir()
        (folder / "pooling_layers.py").write_text(attack_source(attack, listener.port, True))
    before = machine_state(assignment)
    out = tmp_path / "out"
    proc, rows = grade_all(assignment, class_dir, out, level)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr
    assert len(rows) == len(honest) + len(ATTACKS) and all(row["status"] == "graded" for row in rows.values())
    for name, row in rows.items():
        results = json.loads(feedback(out, name))
        assert results["isolation"] == level
        assert float(row["score"]) == results["score"]
        text = json.dumps(results)
        assert HIDDEN_MARKER not in text, name
        for evidence in ("VENV-WRITE-OK", "READ-CLASSMATE", "WROTE-CLASSMATE", "FORGED", "CAN-SIGNAL", "NET-OK"):
            assert evidence not in text, (name, evidence)
        assert results["score"] == FULL, (name, row)  # honest marks; the attackers gain nothing beyond them
    assert HIDDEN_MARKER.encode() not in listener.received
    if level == "full":
        assert listener.received == b""  # no network at all (at uid the loopback is reachable)
        fill = json.loads(feedback(out, "m_fill_disk" if "m_fill_disk" in rows else "y_fill_disk"))
        assert "FILLED-MB 80" not in json.dumps(fill)  # the tmpfs is capped below 80 MB
    assert HIDDEN_MARKER not in (out / "grades.csv").read_text()
    assert leftovers() == ([], [])
    assert machine_state(assignment) == before
    # The next run: the honest students again score full marks.
    again, rows = grade_all(assignment, class_dir, tmp_path / "again", level)
    assert all(float(rows[name]["score"]) == FULL for name in honest), rows
    assert leftovers() == ([], [])


PROBE = """\
import os, socket


def probe(outside):
    out = [str(os.getresuid()), str(os.getresgid()), str(os.getgroups()), str(os.getpid()), os.getcwd(),
           str(os.path.exists(outside)), str(os.path.exists("/proc/1"))]
    for path in (os.__file__, os.path.join(os.path.dirname(os.__file__), "planted.py")):
        try:
            open(path, "a").close()
            out.append("writable")
        except OSError as exc:
            out.append(os.strerror(exc.errno))
    import numpy

    for folder in (os.path.dirname(os.__file__), os.path.dirname(numpy.__file__)):
        out.append("read-only" if os.statvfs(folder).f_flag & os.ST_RDONLY else "writable mount")
    try:
        socket.create_connection(("127.0.0.1", 9), timeout=1)
        out.append("connected")
    except OSError as exc:
        out.append(os.strerror(exc.errno))
    st = os.statvfs("/tmp")
    out.append(str(st.f_blocks * st.f_frsize >> 20))
    import numpy.testing  # a lazy import still works: numpy is bound read-only

    return "|".join(out)
"""


@needs_root
def test_full_level_identity_filesystem_and_network(tmp_path):
    """Inside a full-level session: its own uid/gid, no groups, no capabilities (seen from
    outside), PID 2 of its namespace, a read-only interpreter, a 64 MB tmpfs at /tmp, no
    network, nothing of the grader's files."""
    from cs231n_pool.grading.sandbox import Submission

    (tmp_path / "probe.py").write_text(PROBE)
    with Submission(tmp_path / "probe.py", isolation_level="full").session() as s:
        info = s.call("probe", str(tmp_path / "probe.py")).split("|")
        status = Path(f"/proc/{s.proc.student_pid}/status").read_text().splitlines()
        outer_uid = s.proc.uid
    assert info == [
        "(1000, 1000, 1000)",
        "(1000, 1000, 1000)",
        "[]",
        "2",
        "/tmp",
        "False",
        "False",
        "Permission denied",
        "Read-only file system",
        "read-only",
        "read-only",
        "Network is unreachable",
        "64",
    ]
    fields = dict(line.split(":", 1) for line in status)
    assert fields["Uid"].split() == [str(outer_uid)] * 4 and fields["Gid"].split() == [str(outer_uid)] * 4
    assert outer_uid >= isolation.UID_BASE and fields["Groups"].strip() == ""
    assert int(fields["CapEff"], 16) == 0 and int(fields["CapPrm"], 16) == 0
    assert fields["NoNewPrivs"].strip() == "1"
    assert leftovers() == ([], [])


@needs_root
def test_uid_level_identity():
    """At uid: the dedicated uid/gid, no groups, no capabilities, and its own working folder."""
    import tempfile

    from cs231n_pool.grading.sandbox import Submission

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "probe.py").write_text(PROBE)
        with Submission(Path(tmp) / "probe.py", isolation_level="uid").session() as s:
            info = s.call("probe", str(Path(tmp) / "probe.py")).split("|")
            outer_uid = s.proc.uid
    uid = f"({outer_uid}, {outer_uid}, {outer_uid})"
    assert info[:3] == [uid, uid, "[]"] and info[5] == "False"
    assert info[7:9] == ["Permission denied", "Permission denied"]
    assert leftovers() == ([], [])


def test_levels_the_machine_cannot_provide_fail_clearly(monkeypatch):
    monkeypatch.setattr(isolation.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(isolation, "_AVAILABLE", {})
    for level in ("full", "uid"):
        with pytest.raises(
            isolation.IsolationUnavailable,
            match=rf"^--isolation {level} is not available: the grader is not running as root, "
            r"so it cannot switch to another uid$",
        ):
            isolation.resolve_level(level)
    assert isolation.resolve_level("auto") == "none"
    with pytest.raises(
        isolation.IsolationUnavailable, match=r"^isolation='bogus' must be one of auto, full, uid, none$"
    ):
        isolation.resolve_level("bogus")


@needs_root
def test_auto_is_full_here_and_recorded(tmp_path):
    """CI runs as root on a kernel with namespaces: auto must mean full there, not degrade."""
    assert isolation.resolve_level("auto") == "full"
