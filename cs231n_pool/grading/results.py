"""Gradescope-style results: building them, checking them, printing them, writing them."""
import os
import stat

GRADESCOPE_TEST_KEYS = ("name", "score", "max_score", "status", "output", "visibility")
STATUSES = ("passed", "failed")


def total(results):
    """(score, max_score) of a results dict."""
    tests = results["tests"]
    return sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)


def fmt_points(x):
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def validate_plugin_results(payload):
    """Check the JSON written by the pytest plugin; returns its test records or raises ValueError."""
    if not isinstance(payload, dict) or not isinstance(payload.get("tests"), list):
        raise ValueError("results file has no tests list")
    tests = []
    for record in payload["tests"]:
        if not isinstance(record, dict) or not all(k in record for k in GRADESCOPE_TEST_KEYS):
            raise ValueError(f"malformed test record {record!r:.200}")
        if record["status"] not in STATUSES:
            raise ValueError(f"bad status {record['status']!r}")
        tests.append({k: record[k] for k in GRADESCOPE_TEST_KEYS})
    return tests


def gradescope_results(tests, execution_time, output=""):
    """The dict Gradescope reads from /autograder/results/results.json."""
    score = sum(t["score"] for t in tests)
    return {
        "score": score,
        "execution_time": round(execution_time, 3),
        "output": output,
        "tests": tests,
    }


def text_table(results, title=""):
    """A readable report: one row per test, the failure output under each failed test, the total."""
    tests = results["tests"]
    width = max([len(t["name"]) for t in tests] + [4])
    lines = [title] if title else []
    lines.append(f"{'test'.ljust(width)}  {'points':>7}  status")
    lines.append("-" * (width + 17))
    for t in tests:
        points = f"{fmt_points(t['score'])}/{fmt_points(t['max_score'])}"
        lines.append(f"{t['name'].ljust(width)}  {points:>7}  {t['status']}")
    failed = [t for t in tests if t["status"] != "passed" and t["output"]]
    for t in failed:
        lines.append("")
        lines.append(f"== {t['name']} ({t['visibility']})")
        lines.extend("   " + line for line in t["output"].splitlines())
    if results.get("output"):
        lines.append("")
        lines.append(results["output"])
    score, max_score = total(results)
    lines.append("")
    lines.append(f"Score: {fmt_points(score)}/{fmt_points(max_score)}")
    return "\n".join(lines) + "\n"


def write_output(path, data):
    """Write bytes or text at path, replacing whatever is there without following a link.

    Output paths appear on the grader's command line, so a submission can find them and
    plant a symbolic link there while it runs; the grader must not write through it.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.islink(folder):
        raise OSError(f"{folder} is a symbolic link; refusing to write {os.path.basename(path)} there")
    os.makedirs(folder, exist_ok=True)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None:
        if stat.S_ISDIR(mode):
            raise OSError(f"{path} is a folder")
        os.remove(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
