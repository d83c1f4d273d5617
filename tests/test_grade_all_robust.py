"""Bad input never crashes the grader, and grade-all no classmate can break.

Each unreadable or hostile submission is graded with the real `cs231n-pool grade` on the toy
assignment: exit status 0, score 0, and a one-line reason in the feedback. grade-all is run on
a class with loose files, colliding and duplicate names, stale output, a worker that is
killed and a worker that is stopped: each costs only its own entry.
"""

import csv
import glob
import io
import json
import os
import tempfile
import zipfile

import pytest
from test_grading_commands import TOY_SOLUTION, cli, make_toy, student


@pytest.fixture
def toy(tmp_path):
    return make_toy(tmp_path / "toy")


def graded(toy, submission, *extra):
    result = cli("grade", toy, submission, *extra)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def rejected(toy, submission):
    """The one-line reason a submission was rejected with (and it scored 0)."""
    results = graded(toy, submission)
    assert results["score"] == 0
    lines = [line for line in results["output"].splitlines() if line.startswith("submission rejected: ")]
    assert len(lines) == 1, results["output"]
    return lines[0].removeprefix("submission rejected: ")


def zip_bytes(name, data, method=zipfile.ZIP_DEFLATED, flags=0):
    """A one-member zip; `flags` are or-ed into the member's general-purpose bits afterwards
    (zipfile would reset them), in its local header and in the central directory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as zf:
        zf.writestr(name, data)
    raw = bytearray(buffer.getvalue())
    central = raw.index(b"PK\x01\x02")
    for offset in (6, central + 8):
        raw[offset] |= flags & 0xFF
        raw[offset + 1] |= flags >> 8
    return bytes(raw)


def nested_folder(root, depth):
    """root/d/d/.../d, `depth` levels (os.makedirs would recurse too deep)."""
    path = str(root)
    for _ in range(depth):
        path = os.path.join(path, "d")
        os.mkdir(path)


def remove_nested(root, depth):
    """Undo nested_folder from the bottom up: shutil.rmtree (and so pytest's clean-up of old
    temporary folders) recurses once per level and would fail on 1100 levels."""
    for level in range(depth, 0, -1):
        os.rmdir(os.path.join(str(root), *["d"] * level))


def corrupt_stream(method):
    """A zip whose toy.py stream is damaged in the middle (headers intact)."""
    data = bytearray(zip_bytes("toy.py", TOY_SOLUTION * 20, method))
    start = 30 + len("toy.py")
    for i in range(start + 20, start + 60):
        data[i] ^= 0x5A
    return bytes(data)


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_corrupt_streams_are_rejected(toy, tmp_path, method):
    path = tmp_path / "corrupt.zip"
    path.write_bytes(corrupt_stream(method))
    assert rejected(toy, path).startswith("cannot read the zip: ")


def test_bad_member_names_encryption_links_and_nesting(toy, tmp_path):
    bad_name = zip_bytes("AAAA.py", "x = 1", flags=0x800).replace(b"AAAA.py", b"\xff\xfeAA.py")
    (tmp_path / "name.zip").write_bytes(bad_name)
    assert rejected(toy, tmp_path / "name.zip").startswith("cannot read the zip: 'utf-8' codec can't decode byte 0xff")
    (tmp_path / "enc.zip").write_bytes(zip_bytes("toy.py", TOY_SOLUTION, flags=0x1))
    assert rejected(toy, tmp_path / "enc.zip") == "zip member 'toy.py' is encrypted"
    link = zipfile.ZipInfo("toy.py")
    link.external_attr = 0o120777 << 16
    with zipfile.ZipFile(tmp_path / "link.zip", "w") as zf:
        zf.writestr(link, "/etc/passwd")
    assert rejected(toy, tmp_path / "link.zip") == "zip member 'toy.py' is a symbolic link"
    deep = "/".join(["d"] * 1100) + "/toy.py"
    (tmp_path / "deep.zip").write_bytes(zip_bytes(deep, TOY_SOLUTION))
    assert rejected(toy, tmp_path / "deep.zip") == f"zip member {'d/' * 50!r}... nests deeper than 20 levels"
    (tmp_path / "junk.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip: no toy.py
    assert "the submission has no toy.py" in graded(toy, tmp_path / "junk.zip")["output"]


def test_bad_folders(toy, tmp_path):
    deep = tmp_path / "deep"
    deep.mkdir()
    nested_folder(deep, 1100)
    try:
        assert rejected(toy, deep) == "the submission's folders nest deeper than 20 levels"
    finally:
        remove_nested(deep, 1100)
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "toy.py").symlink_to(toy / "toy.py")
    assert rejected(toy, linked) == "toy.py is a symbolic link"
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / "toy.py")
    assert rejected(toy, fifo) == "toy.py is not a regular file"
    huge = tmp_path / "huge"
    huge.mkdir()
    with open(huge / "toy.py", "wb") as f:
        f.truncate(6 << 20)  # sparse: no disk used
    assert rejected(toy, huge) == f"toy.py is larger than {5 << 20} bytes"
    many = tmp_path / "many"
    many.mkdir()
    for i in range(20001):
        (many / f"f{i}").touch()
    assert rejected(toy, many) == "the submission holds more than 20000 files and folders"
    (tmp_path / "notes.txt").write_text("hello")
    assert rejected(toy, tmp_path / "notes.txt") == "the submission is neither a folder, a .zip nor a .py file"


def test_grade_a_bare_py_file(toy, tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(TOY_SOLUTION)
    assert graded(toy, path)["score"] == 3


def test_lone_surrogates_from_the_child(toy, tmp_path):
    source = TOY_SOLUTION.replace("    return x * 2\n", "    raise ValueError('bad \\udcff byte')\n")
    results = graded(toy, student(tmp_path, "s", source))
    test = next(t for t in results["tests"] if t["name"].endswith("test_double"))
    assert test["score"] == 0 and "ValueError: bad \\udcff byte" in test["output"]
    text = cli("grade", toy, student(tmp_path, "t", source), "--format", "text")
    assert text.returncode == 0 and "bad \\udcff byte" in text.stdout


def test_restore_never_reads_a_planted_giant(toy):
    from cs231n_pool.grading.grade import restore_tree, snapshot_tree

    snapshot = snapshot_tree(toy)
    with open(toy / "tests" / "giant.bin", "wb") as f:
        f.truncate(1 << 40)  # 1 TiB, sparse: reading it would never finish
    with open(toy / "toy.py", "r+b") as f:
        f.truncate(1 << 40)
    assert restore_tree(toy, snapshot) == [os.path.join("tests", "giant.bin"), "toy.py"]
    assert snapshot_tree(toy) == snapshot


KILL_WORKER = """
import os, signal
def _grade_all_pids():
    pid, found = os.getppid(), []
    while pid > 1:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if b"grade-all" in f.read():
                found.append(pid)
        with open(f"/proc/{pid}/stat") as f:
            pid = int(f.read().rsplit(")", 1)[1].split()[1])
    return found
os.kill(_grade_all_pids()[-2], signal.SIG)  # the worker, a fork of grade-all (the last one)
"""


def test_grade_all_entries_collisions_stale_output_and_broken_workers(toy, tmp_path):
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    student(class_dir, "alice", TOY_SOLUTION)
    (class_dir / "bob.py").write_text(TOY_SOLUTION)
    (class_dir / "carol_toy.py").write_text(TOY_SOLUTION.replace("return x * 2", "return x"))
    student(class_dir, "grades.csv", TOY_SOLUTION)
    student(class_dir, "dave", TOY_SOLUTION)
    (class_dir / "dave.zip").write_bytes(zip_bytes("toy.py", TOY_SOLUTION))
    (class_dir / "notes.txt").write_text("not a submission")
    (class_dir / "eve.zip").write_bytes(corrupt_stream(zipfile.ZIP_DEFLATED))
    student(class_dir, "killer", TOY_SOLUTION + KILL_WORKER.replace("signal.SIG", "signal.SIGKILL"))
    student(class_dir, "stopper", TOY_SOLUTION + KILL_WORKER.replace("signal.SIG", "signal.SIGSTOP"))
    out = tmp_path / "out"
    (out / "ghost").mkdir(parents=True)
    (out / "ghost" / "results.json").write_text('{"score": 999}')
    (out / "grades.csv").write_text("student,score\nghost,999\n")
    result = cli("grade-all", toy, class_dir, "--out", out, "--jobs", "2", "--isolation", "none", "--budget", "30")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    with open(out / "grades.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert {name: (row["score"], row["status"]) for name, row in rows.items()} == {
        "alice": ("3", "graded"),
        "bob": ("3", "graded"),
        "carol": ("2", "graded"),
        "eve": ("0", "no file"),
        "killer": ("", "could not grade: the grading worker was killed by signal 9 before sending results"),
        "stopper": ("", "could not grade: grading took longer than the 30 s allowed per submission"),
        "grades.csv": ("", "could not grade: the student name 'grades.csv' collides with the report's own files"),
        "dave": ("", "could not grade: submitted more than once: dave, dave.zip"),
        "notes.txt": ("", "could not grade: is not a folder, .zip or .py file"),
    }
    assert "cannot read the zip" in json.loads((out / "eve" / "results.json").read_text())["output"]
    assert not (out / "ghost").exists()
    assert (out / "killer" / "error.txt").read_text().startswith("could not grade: the grading worker was killed")
    for line in ("skipped dave: submitted more than once: dave, dave.zip", "could not grade killer"):
        assert line in result.stderr
    # The killed and the stopped worker could not clean up: their temporary folders went anyway.
    assert glob.glob(os.path.join(tempfile.gettempdir(), "cs231n-pool-worker-*")) == []
