"""Package your work: ``python submit.py`` writes submission.zip with pooling_layers.py and the notebooks.

Before zipping it runs the public tests and prints your score, then checks each notebook:
every code cell was run, top to bottom in one session, without an error, and no TODO is left
in a cell where code was asked for. Problems are printed as warnings; the zip is written
anyway, so you can always hand in what you have. Upload submission.zip as your submission.
"""

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
STUDENT_FILE = "pooling_layers.py"
ZIP_NAME = "submission.zip"
YOUR_CODE = "your-code"
TODO = re.compile(r"raise NotImplementedError|#\s*TODO")
SCORE = re.compile(r"^Score: (\S+)$", re.MULTILINE)


def public_score():
    """The Score line of the public tests (None when pytest printed none) and pytest's output."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--color=no"],
        cwd=HERE,
        capture_output=True,
        text=True,
    )
    scores = SCORE.findall(proc.stdout)
    return (scores[-1] if scores else None), proc.stdout + proc.stderr


def unfinished_functions(path):
    """Names of the functions of the student file that still raise NotImplementedError."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            raises = [n for n in ast.walk(node) if isinstance(n, ast.Raise) and n.exc is not None]
            if any("NotImplementedError" in ast.unparse(n.exc) for n in raises):
                names.append(node.name)
    return names


def notebook_warnings(path):
    """What is wrong with one notebook, as sentences (empty when it is ready)."""
    try:
        with open(path, encoding="utf-8") as f:
            cells = json.load(f)["cells"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        return [f"it cannot be read as a notebook ({type(exc).__name__}: {exc}); it is zipped as it is"]
    warnings, counts, not_run = [], [], []
    for number, cell in enumerate(cells, start=1):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] != "code" or not source.strip():
            continue
        first = source.strip().splitlines()[0][:60]
        if cell.get("execution_count") is None:
            not_run.append(number)
        else:
            counts.append(cell["execution_count"])
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                warnings.append(f"cell {number} ({first!r}) raised {out.get('ename')}: {out.get('evalue')}")
        if YOUR_CODE in cell.get("metadata", {}).get("tags", []) and TODO.search(source):
            warnings.append(f"cell {number} ({first!r}) still has a TODO")
    if not_run:
        warnings.append(
            f"{len(not_run)} code cell(s) were not run (cells {', '.join(map(str, not_run[:8]))}"
            f"{', ...' if len(not_run) > 8 else ''})"
        )
    if counts != sorted(counts) or len(set(counts)) != len(counts):
        warnings.append("the cells were not run top to bottom: restart the kernel and run all cells")
    return warnings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-tests", action="store_true", help="do not run the public tests first")
    args = parser.parse_args(argv)
    warnings = []
    student = os.path.join(HERE, STUDENT_FILE)
    if not os.path.isfile(student):
        print(f"error: {STUDENT_FILE} is missing from {HERE}; nothing to submit", file=sys.stderr)
        return 1
    if not args.skip_tests:
        score, output = public_score()
        if score is None:
            warnings.append(f"the public tests did not run:\n{output[-2000:]}")
        else:
            print(f"public tests: {score}")
    try:
        unfinished = unfinished_functions(student)
    except SyntaxError as exc:
        warnings.append(f"{STUDENT_FILE} has a syntax error: {exc}")
        unfinished = []
    if unfinished:
        warnings.append(f"{STUDENT_FILE} still raises NotImplementedError in: {', '.join(unfinished)}")
    notebooks = sorted(name for name in os.listdir(HERE) if name.endswith(".ipynb"))
    for name in notebooks:
        warnings += [f"{name}: {text}" for text in notebook_warnings(os.path.join(HERE, name))]
    zip_path = os.path.join(HERE, ZIP_NAME)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in [STUDENT_FILE] + notebooks:
            zf.write(os.path.join(HERE, name), name)
    print(f"wrote {zip_path}:")
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            print(f"  {info.filename} ({info.file_size} bytes)")
    for text in warnings:
        print(f"warning: {text}")
    if warnings:
        print(
            f"{len(warnings)} warning(s): fix them and run `python submit.py` again before the deadline, "
            f"or submit as is."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
