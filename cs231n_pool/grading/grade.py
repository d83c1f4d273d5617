"""`cs231n-pool grade ASSIGNMENT SUBMISSION`: grade one submission (folder or .zip).

How a submission is graded:

1. The assignment folder is read into memory (a snapshot) before any student code runs.
2. A fresh private temp dir gets a pristine copy of the instructor's tests and
   assignment.toml (written from the snapshot, never from the live folder), its own
   pytest.ini (so no ini or conftest.py above it is picked up), and a copy of the
   student file and of the notebooks next to it (nothing else from the submission is used;
   the notebooks' graded exercises are taken out of them, and their written answers are
   collected for the feedback).
3. pytest runs in a subprocess with the grading plugin; the plugin runs every call into the
   submission in a sandboxed child (sandbox.py) and writes the verdicts to a results file in
   the private temp dir after all student processes are gone.
4. The grader trusts that file only if pytest exited normally. Processes left behind are
   killed; any change the submission made to the assignment folder is undone from the
   snapshot and reported.

Exit status 0 whenever grading completed, whatever the score; 2 when the assignment itself
cannot be graded (bad config, no graded tests, pytest internal error).
"""

import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import zipfile

from ..cli_args import CONFIG_NAME, UsageError, assignment_folder, existing_path, output_file, positive
from .config import ConfigError, load_config
from .feedback import collapse_import_failure, written_answers
from .results import (
    GradingResults,
    gradescope_json,
    gradescope_results,
    report_json,
    text_table,
    validate_plugin_results,
    write_output,
)

SKIP_DIRS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".git"}
MAX_SUBMISSION_BYTES = 5 << 20  # largest student file accepted
MAX_ZIP_BYTES = 100 << 20  # total uncompressed size of a submission zip
MAX_ZIP_MEMBERS = 2000
MAX_ASSIGNMENT_BYTES = 200 << 20  # the assignment folder is held in memory
MAX_DEPTH = 20  # folder levels searched for the student file
MAX_ENTRIES = 20000  # files and folders listed in a submission folder
MAX_NOTEBOOK_BYTES = 20 << 20  # largest notebook accepted (outputs included)
MAX_NOTEBOOKS = 20  # notebooks taken from a submission
TOTAL_TIMEOUT = 1800.0  # seconds for one whole grading run (the per-test limits apply inside)
PYTEST_INI = "[pytest]\n"


class GradingError(RuntimeError):
    """The assignment could not be graded (an instructor-side problem, not the student's)."""


class SubmissionRejected(ValueError):
    """The submission archive is unsafe or unreadable; graded as if the file were missing."""


# --- snapshot of the assignment folder -----------------------------------------------------


def _walk_files(root, caches=None):
    """[(relative path, lstat)] of every file under root, without recursion or following links.

    Skipped cache folders named __pycache__ are appended to `caches` when it is a list."""
    found, pending = [], [""]
    while pending:
        rel = pending.pop()
        try:
            with os.scandir(os.path.join(root, rel)) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            child = os.path.join(rel, entry.name)
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS:
                    pending.append(child)
                elif entry.name == "__pycache__" and caches is not None:
                    caches.append(child)
            else:
                try:
                    found.append((child, entry.stat(follow_symlinks=False)))
                except OSError:
                    continue
    return sorted(found)


def snapshot_tree(root):
    """{relative path: bytes} of every regular file under root (caches skipped, links not followed)."""
    files, total = {}, 0
    for rel, st in _walk_files(root):
        if not stat.S_ISREG(st.st_mode):
            continue
        total += st.st_size
        if total > MAX_ASSIGNMENT_BYTES:
            raise GradingError(f"the assignment folder {root} holds more than {MAX_ASSIGNMENT_BYTES} bytes")
        with open(os.path.join(root, rel), "rb") as f:
            files[rel] = f.read(st.st_size + 1)
    return files


def _same_content(path, st, data):
    """Whether the file at path holds exactly `data`, reading at most len(data) + 1 bytes."""
    if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as f:
        return f.read(len(data) + 1) == data


def write_tree(files, dest):
    for rel, data in files.items():
        path = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def restore_tree(root, files):
    """Undo every change under root relative to the snapshot; returns the changed paths.

    Links the submission may have planted are removed, never followed, and permissions it
    took away are given back; a file that still cannot be restored raises GradingError.
    """
    caches = []
    current = dict(_walk_files(root, caches))
    changed = sorted(
        set(current) ^ set(files)
        | {
            rel
            for rel, st in current.items()
            if rel in files and not _same_content(os.path.join(root, rel), st, files[rel])
        }
    )
    for rel in changed:
        try:
            _restore_file(root, rel, files.get(rel))
        except OSError as exc:
            raise GradingError(
                f"could not restore {os.path.join(root, rel)} after the submission changed it: "
                f"{exc}; restore the assignment folder before grading more"
            ) from None
    for rel in caches:  # a __pycache__ the submission planted next to a test must not survive either
        shutil.rmtree(os.path.join(root, rel), ignore_errors=True)
    return changed


def _restore_file(root, rel, data):
    """Write `data` at root/rel (or remove the file when data is None) without following links."""
    folder = root
    for part in rel.split(os.sep)[:-1]:
        folder = os.path.join(folder, part)
        if os.path.islink(folder) or (os.path.exists(folder) and not os.path.isdir(folder)):
            os.remove(folder)
        if not os.path.isdir(folder):
            os.mkdir(folder)
        os.chmod(folder, os.stat(folder).st_mode | stat.S_IRWXU)
    path = os.path.join(root, rel)
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)
    if data is not None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)


# --- the student's file ----------------------------------------------------------------------


def _depth(rel):
    return rel.replace("\\", "/").count("/")


def fetch_student_file(submission, student_file, dest_dir):
    """Copy the submission's student file (the shallowest one of that name) into dest_dir.

    `submission` is a folder, a .zip or the student's .py file itself. Returns a note for the
    feedback ("" when the file was at the top). Raises SubmissionRejected, with a one-line
    reason, for anything unsafe or unreadable; a missing file is not an error (every test
    then fails).
    """
    kind = _kind(submission)
    if kind == "py":
        rel, data = os.path.basename(submission), _read_regular(submission, os.path.basename(submission))
    else:
        found = _find(submission, kind, lambda name: name == student_file, MAX_SUBMISSION_BYTES)
        rel, data = found[0] if found else (None, None)
    if data is None:
        return f"the submission has no {student_file}"
    with open(os.path.join(dest_dir, student_file), "wb") as f:
        f.write(data)
    return "" if _depth(rel) == 0 else f"graded {_printable(rel)}"


def fetch_notebooks(submission, dest_dir):
    """Copy the notebooks (.ipynb) of a folder or .zip submission into dest_dir: those of the
    shallowest folder holding one (their graded exercises are extracted from them). Returns
    their names; raises SubmissionRejected like fetch_student_file."""
    kind = _kind(submission)
    if kind == "py":
        return []
    found = _find(submission, kind, lambda name: name.endswith(".ipynb"), MAX_NOTEBOOK_BYTES)
    names = []
    for rel, data in found[:MAX_NOTEBOOKS]:
        name = os.path.basename(rel.rstrip("/"))
        with open(os.path.join(dest_dir, name), "wb") as f:
            f.write(data)
        names.append(name)
    return names


def _kind(submission):
    """'folder', 'zip' or 'py'; SubmissionRejected for anything else."""
    try:
        mode = os.lstat(submission).st_mode
    except OSError as exc:
        raise SubmissionRejected(f"cannot read the submission: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISREG(mode) and submission.endswith(".py"):
        return "py"
    if stat.S_ISREG(mode) and zipfile.is_zipfile(submission):
        return "zip"
    raise SubmissionRejected("the submission is neither a folder, a .zip nor a .py file")


def _find(submission, kind, match, limit):
    """[(relative path, bytes)] of the files whose name matches, in the shallowest folder holding one."""
    return _from_folder(submission, match, limit) if kind == "folder" else _from_zip(submission, match, limit)


def _printable(name):
    """A name from the submission, safe to print and to encode (bad bytes escaped)."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8")[:300]


def _read_regular(path, shown, limit=MAX_SUBMISSION_BYTES):
    """The bytes of a regular file (no link, device or FIFO), at most `limit` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        reason = "is a symbolic link" if exc.errno == errno.ELOOP else f"cannot be read ({exc.strerror})"
        raise SubmissionRejected(f"{_printable(shown)} {reason}") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise SubmissionRejected(f"{_printable(shown)} is not a regular file")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise SubmissionRejected(f"{_printable(shown)} is larger than {limit} bytes")
    return data


def _from_folder(folder, match, limit):
    """Breadth-first, without following links, within MAX_DEPTH levels and MAX_ENTRIES entries."""
    found, entries, level = [], 0, [""]
    for _ in range(MAX_DEPTH + 1):
        deeper = []
        for rel in level:
            try:
                with os.scandir(os.path.join(folder, rel)) as it:
                    listing = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                raise SubmissionRejected(f"cannot list {_printable(rel or '.')}: {exc.strerror}") from None
            entries += len(listing)
            if entries > MAX_ENTRIES:
                raise SubmissionRejected(f"the submission holds more than {MAX_ENTRIES} files and folders")
            for entry in listing:
                child = os.path.join(rel, entry.name)
                if match(entry.name):
                    found.append(child)
                elif entry.is_dir(follow_symlinks=False) and entry.name not in SKIP_DIRS:
                    deeper.append(child)
        if found:
            parent = os.path.dirname(found[0])  # the files of one folder, never a mix of two
            return [
                (rel, _read_regular(os.path.join(folder, rel), rel, limit))
                for rel in found
                if os.path.dirname(rel) == parent
            ]
        if not deeper:
            return []
        level = deeper
    raise SubmissionRejected(f"the submission's folders nest deeper than {MAX_DEPTH} levels")


def _from_zip(path, match, limit):
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise SubmissionRejected(f"the zip has {len(infos)} members (limit {MAX_ZIP_MEMBERS})")
            if sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
                raise SubmissionRejected(f"the zip expands to more than {MAX_ZIP_BYTES} bytes")
            for info in infos:
                _check_member(info)
            found = sorted(
                (
                    i
                    for i in infos
                    if not i.is_dir()
                    and match(i.filename.rstrip("/").split("/")[-1])
                    and not SKIP_DIRS.union({"__MACOSX"}).intersection(i.filename.split("/"))
                ),
                key=lambda i: (_depth(i.filename), i.filename),
            )
            if not found:
                return []
            parent = os.path.dirname(found[0].filename)  # the files of one folder, never a mix of two
            files = []
            for info in (i for i in found if os.path.dirname(i.filename) == parent):
                if info.file_size > limit:
                    raise SubmissionRejected(f"{_printable(info.filename)} is larger than {limit} bytes")
                with zf.open(info) as f:
                    data = f.read(limit + 1)
                if len(data) > limit:
                    raise SubmissionRejected(f"{_printable(info.filename)} is larger than {limit} bytes")
                files.append((info.filename, data))
            return files
    except SubmissionRejected:
        raise
    except Exception as exc:  # any corrupt stream, bad name, encryption or unknown method  # noqa: BLE001
        text = _printable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise SubmissionRejected(f"cannot read the zip: {text}") from None


def _check_member(info):
    name = info.filename.replace("\\", "/")
    parts = name.split("/")
    if name.startswith("/") or ".." in parts or (len(parts[0]) == 2 and parts[0][1] == ":"):
        raise SubmissionRejected(f"zip member {_printable(info.filename)!r} escapes the submission folder")
    if len(parts) > MAX_DEPTH + 1:
        raise SubmissionRejected(
            f"zip member {_printable(info.filename[:100])!r}... nests deeper than {MAX_DEPTH} levels"
        )
    if info.flag_bits & 0x1:
        raise SubmissionRejected(f"zip member {_printable(info.filename)!r} is encrypted")
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        raise SubmissionRejected(f"zip member {_printable(info.filename)!r} is a symbolic link")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise SubmissionRejected(f"zip member {_printable(info.filename)!r} is not a regular file")


# --- running pytest --------------------------------------------------------------------------


def _pytest_env(submission_dir, tmp_dir, seed, isolation):
    """pytest's environment: no PYTEST_* options, the submission folder, and a private TMPDIR
    (removed after the run, so the sandboxes' temp dirs go even if pytest is killed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k not in ("PYTHONSTARTUP",)}
    # One BLAS thread: the references are small, and idle OpenBLAS threads spin on the cores
    # the sandboxed processes need.
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.update(
        CS231N_POOL_SUBMISSION=submission_dir,
        PYTHONDONTWRITEBYTECODE="1",
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        TMPDIR=tmp_dir,
        CS231N_POOL_ISOLATION=isolation,
    )
    if seed is not None:
        env["CS231N_POOL_SEED"] = str(seed)
    return env


_PRELOADED = False


def preload_pytest():
    """Import pytest, numpy and the kit once, so that each grading run forks pytest instead of
    starting a fresh interpreter (grade-all calls this before it forks its workers)."""
    global _PRELOADED
    import pytest  # noqa: F401

    from . import checks, pytest_plugin  # noqa: F401

    try:  # numpy is loaded already, so its environment variables come too late here
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)
    except ImportError:
        pass
    _PRELOADED = True


class _ForkedPytest:
    """pytest.main(args) in a forked process, with the same contract as the Popen it replaces:
    its own session, cwd, environment and output file; `wait(timeout)` and `returncode`."""

    def __init__(self, args, cwd, env, log):
        self.returncode = None
        self.pid = os.fork()
        if self.pid == 0:
            code = 3
            try:
                os.setsid()
                os.chdir(cwd)
                os.environ.clear()
                os.environ.update(env)
                tempfile.tempdir = env["TMPDIR"]
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.dup2(log.fileno(), 1)
                os.dup2(log.fileno(), 2)
                import pytest

                code = int(pytest.main(args))
            finally:
                sys.stdout.flush()
                os._exit(code)
        self._pidfd = os.pidfd_open(self.pid)

    def wait(self, timeout=None):
        import select

        if self.returncode is None:
            if not select.select([self._pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired("pytest", timeout)
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
            os.close(self._pidfd)
        return self.returncode


def _run_pytest(copy_dir, results_path, env, timeout, extra=()):
    """Run pytest on the pristine copy; returns (returncode, output tail)."""
    from .sandbox import _kill_and_reap, _our_children, become_subreaper

    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-rN",
        "--color=no",
        "-p",
        "no:cacheprovider",
        "-p",
        "cs231n_pool.grading.pytest_plugin",
        "-c",
        os.path.join(copy_dir, "pytest.ini"),
        "--rootdir",
        copy_dir,
        "--confcutdir",
        copy_dir,
        "--grading-results",
        results_path,
        *extra,
    ]
    if timeout is not None:
        cmd += ["--grading-timeout", str(timeout)]
    cmd.append("tests")
    become_subreaper()
    before = _our_children()
    with tempfile.TemporaryFile() as log:
        if _PRELOADED:
            proc = _ForkedPytest(cmd[3:], copy_dir, env, log)
        else:
            proc = subprocess.Popen(
                cmd,
                cwd=copy_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            proc.wait(timeout=TOTAL_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        # Anything still running was started by the submission: kill it before trusting files.
        _kill_and_reap(_our_children() - before)
        log.seek(0, os.SEEK_END)
        log.seek(max(0, log.tell() - 20000))
        tail = log.read().decode("utf-8", "replace")
    return proc.returncode, tail


def _read_results(path):
    try:
        with open(path, encoding="utf-8") as f:
            return validate_plugin_results(json.load(f))
    except (OSError, ValueError) as exc:
        raise GradingError(f"the grading plugin wrote no usable results ({exc})") from None


def grade_submission(assignment_dir, submission, timeout=None, seed=None, snapshot=None, isolation="auto"):
    """Grade one submission (folder, .zip or .py file) against the assignment's public + hidden tests.

    Returns the Gradescope results dict: score, execution_time, output, tests[] with name,
    score, max_score, status, output, visibility, the isolation level that was in force, the
    submission's status (feedback.py: graded, no file, does not import; the reason said once in
    output) and its written answers.
    Raises GradingError when the assignment itself cannot be graded. `snapshot` (from
    snapshot_tree) is the trusted content of the assignment folder; by default it is read now.
    """
    from .isolation import IsolationUnavailable, resolve_level

    try:
        level = resolve_level(isolation)
    except IsolationUnavailable as exc:
        raise GradingError(str(exc)) from None
    start = time.monotonic()
    root = os.path.abspath(assignment_dir)
    if not os.path.lexists(submission):
        raise GradingError(f"submission={submission!r} does not exist")
    load_config(root)  # ConfigError (a usage mistake) for a wrong folder; the verdicts use the copy's config
    if snapshot is None:
        snapshot = snapshot_tree(root)
    notes = []
    workdir = tempfile.mkdtemp(prefix="cs231n-pool-grade-")
    try:
        copy_dir = os.path.join(workdir, "assignment")
        sub_dir = os.path.join(workdir, "submission")
        os.makedirs(sub_dir)
        os.makedirs(copy_dir)
        _write_test_copy(snapshot, copy_dir)
        try:
            cfg = load_config(copy_dir)
        except ConfigError as exc:
            raise GradingError(f"{assignment_dir} (as snapshotted): {exc}") from None
        try:
            note = fetch_student_file(os.path.abspath(submission), cfg.student_file, sub_dir)
        except SubmissionRejected as exc:
            note = f"submission rejected: {exc}"
        if note:
            notes.append(note)
        try:
            fetch_notebooks(os.path.abspath(submission), sub_dir)
        except SubmissionRejected as exc:  # the student file is still graded
            notes.append(f"the notebooks were not read: {exc}")
        written = written_answers(sub_dir)
        results_path = os.path.join(workdir, "results.json")
        tmp_dir = os.path.join(workdir, "tmp")
        os.makedirs(tmp_dir)
        env = _pytest_env(sub_dir, tmp_dir, seed, level)
        returncode, tail = _run_pytest(copy_dir, results_path, env, timeout)
        changed = restore_tree(root, snapshot)
        if changed:
            notes.append(
                "the submission changed files of the assignment folder during grading; they were "
                "restored and did not affect the verdicts: " + ", ".join(changed[:10])
            )
        if returncode in (0, 1):
            tests = _read_results(results_path)
        elif returncode in (2, None) or returncode < 0:
            # pytest was interrupted or killed (by a signal the submission may have sent):
            # its results file is not trusted; every test is recorded as failed.
            notes.append(f"the grading run was interrupted (pytest status {returncode}); no test is credited")
            tests = _collect_only(snapshot, workdir, env)
        elif returncode == 5:
            raise GradingError(f"no graded tests were collected in {assignment_dir}/tests")
        else:
            raise GradingError(f"pytest failed with status {returncode}:\n{tail}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if not tests:
        raise GradingError(f"no graded tests (@pytest.mark.points) in {assignment_dir}/tests")
    results = gradescope_results(tests, time.monotonic() - start, "\n".join(notes))
    results, _ = collapse_import_failure(dict(results, isolation=level, written=written), cfg.student_file)
    return results


def grading_files(snapshot):
    """The part of an assignment snapshot that grading uses: assignment.toml and tests/."""
    return {rel: data for rel, data in snapshot.items() if rel == CONFIG_NAME or rel.split(os.sep)[0] == "tests"}


def _write_test_copy(snapshot, copy_dir):
    """The tests and assignment.toml of `snapshot`, written afresh into `copy_dir`, with our pytest.ini."""
    os.makedirs(copy_dir, exist_ok=True)
    write_tree(grading_files(snapshot), copy_dir)
    with open(os.path.join(copy_dir, "pytest.ini"), "w") as f:
        f.write(PYTEST_INI)


def _collect_only(snapshot, workdir, env):
    """Records (all failed, none credited) for every graded test, without running student code.

    The interrupted run's copy of the tests may have been edited by the submission (which may
    also have done the interrupting), so the tests are collected from a fresh copy of the
    snapshot, and nothing the collection reports is credited."""
    copy_dir = tempfile.mkdtemp(prefix="collect-", dir=workdir)
    _write_test_copy(snapshot, copy_dir)
    path = os.path.join(workdir, "collected.json")
    returncode, tail = _run_pytest(copy_dir, path, env, None, extra=("--collect-only",))
    if returncode != 0:
        raise GradingError(f"collecting the tests failed with status {returncode}:\n{tail}")
    return [
        dict(t, score=0, status="failed", output="not credited: the grading run was interrupted")
        for t in _read_results(path)
    ]


# --- command line ------------------------------------------------------------------------------


def add_arguments(parser):
    from .isolation import add_isolation_argument

    parser.add_argument("assignment", type=assignment_folder, help="assignment folder (holds assignment.toml)")
    parser.add_argument(
        "submission", type=existing_path, help="submission folder or .zip holding the student file, or that file"
    )
    parser.add_argument(
        "--format",
        choices=("gradescope", "json", "text"),
        default="gradescope",
        help="gradescope: results.json schema; json: the same plus max_score and the "
        "submission path; text: a table (default: gradescope)",
    )
    parser.add_argument(
        "--out",
        type=output_file,
        metavar="FILE",
        help="write the results here instead of stdout (the score line is still printed)",
    )
    parser.add_argument(
        "--timeout",
        type=positive(float),
        metavar="SECONDS",
        help="wall-clock seconds the submission may run per test (default: assignment.toml)",
    )
    parser.add_argument("--seed", type=int, help="seed of the random test inputs (default: fresh)")
    add_isolation_argument(parser)


def render(results, fmt, submission=""):
    """The text of one report format, written from the results model."""
    model = GradingResults.from_dict(results, submission)
    if fmt == "text":
        return text_table(model, f"Grading {submission}")
    return json.dumps(report_json(model) if fmt == "json" else gradescope_json(model), indent=2) + "\n"


def run(args):
    from .isolation import IsolationUnavailable, resolve_level, warn_if_unisolated

    try:
        level = resolve_level(args.isolation)
    except IsolationUnavailable as exc:
        raise UsageError(f"argument --isolation: {exc}") from None
    warn_if_unisolated("grade", level, (str(args.assignment), str(args.submission)))
    try:
        results = grade_submission(
            str(args.assignment), str(args.submission), timeout=args.timeout, seed=args.seed, isolation=level
        )
    except GradingError as exc:
        print(f"cs231n-pool grade: {exc}", file=sys.stderr)
        return 1
    text = render(results, args.format, str(args.submission))
    if args.out:
        try:
            write_output(args.out, text)
        except OSError as exc:
            print(f"cs231n-pool grade: cannot write --out {args.out}: {exc}", file=sys.stderr)
            return 1
        total = sum(t["max_score"] for t in results["tests"])
        print(f"Score: {results['score']:g}/{total:g} ({args.submission}); results written to {args.out}")
    else:
        sys.stdout.write(text)
    return 0
