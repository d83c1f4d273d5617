"""The student notebooks, executed top to bottom on a real Jupyter kernel inside a released bundle.

A bundle is written with the real entry point (`cs231n-pool release`). Each notebook then runs
twice, with the kernel's working directory at the bundle root (where Jupyter starts a notebook
that sits next to pooling_layers.py):

* with the solution filled in (the reference pooling_layers.py copied over the stub, and the
  committed notebooks, whose few in-notebook exercises keep their BEGIN/END SOLUTION blocks, over
  the released ones): no cell may raise, and the digits convnet must print a test accuracy of at
  least 0.95;
* against the untouched stub: execution must stop at the first cell tagged "your-code", with
  NotImplementedError, so a student never meets an error that is not their own TODO.

The kernel is a kernelspec named "python3", written into a temporary JUPYTER_PATH, that runs the
python of a fresh venv holding only the bundle's requirements.txt: the notebooks work without the
kit (which that venv cannot import).
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from bundle_venv import fresh_venv
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
NOTEBOOK_NAMES = [path.name for path in NOTEBOOKS]
SOLUTION = REPO / "assignments" / "pooling" / "pooling_layers.py"
YOUR_CODE = "your-code"
MAX_NOTEBOOK_BYTES = 300_000
CELL_TIMEOUT = 300  # seconds; the slowest cell (training the digits convnet twice) takes a few seconds
ACCURACY_LINE = re.compile(r"test accuracy: ([0-9.]+) \((\w+) pooling\)")


def _release_command():
    script = Path(sys.executable).with_name("cs231n-pool")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cs231n_pool.cli"]


@pytest.fixture(scope="module")
def bundle_python(tmp_path_factory, stub_bundle):
    """python of a fresh venv with only the bundle's requirements.txt installed."""
    return fresh_venv(tmp_path_factory.mktemp("venv") / "venv", stub_bundle)


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory, bundle_python):
    """JUPYTER_PATH with a python3 kernelspec running the fresh venv's python; headless matplotlib."""
    root = tmp_path_factory.mktemp("jupyter")
    spec_dir = root / "data" / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [str(bundle_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (cs231n_pool tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(root / "data"))
        mp.setenv("JUPYTER_RUNTIME_DIR", str(root / "runtime"))
        mp.setenv("MPLBACKEND", "Agg")
        yield


@pytest.fixture(scope="module")
def stub_bundle(tmp_path_factory):
    """The student bundle exactly as `cs231n-pool release` writes it."""
    out = tmp_path_factory.mktemp("release") / "pooling"
    result = subprocess.run(
        _release_command() + ["release", "assignments/pooling", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"release failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return out


@pytest.fixture(scope="module")
def solved_bundle(stub_bundle, tmp_path_factory):
    """The released bundle with the solution filled in: student file and in-notebook exercises."""
    out = tmp_path_factory.mktemp("solved") / "pooling"
    shutil.copytree(stub_bundle, out)
    shutil.copy(SOLUTION, out / "pooling_layers.py")
    for path in NOTEBOOKS:
        shutil.copy(path, _bundle_notebook(out, path.name))
    return out


def _bundle_notebook(bundle: Path, name: str) -> Path:
    path = bundle / name
    assert path.is_file(), (
        f"{name} is not at the bundle root next to pooling_layers.py "
        f"(Jupyter runs a notebook in its own folder); bundle holds "
        f"{sorted(str(p.relative_to(bundle)) for p in bundle.rglob('*.ipynb'))}"
    )
    return path


def _execute(path: Path, cwd: Path):
    """Run every cell until the first error; return the executed notebook."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute()
    except CellExecutionError:
        pass  # the error is recorded in the cell's outputs; the callers inspect it
    return nb


def _errors(nb):
    return [
        (index, out)
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.output_type == "error"
    ]


def _describe(errors):
    return "\n".join(
        f"cell {index}: {out.ename}: {out.evalue}\n" + "\n".join(out.traceback)[-2000:] for index, out in errors
    )


def _stdout(nb) -> str:
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.output_type == "stream" and out.name == "stdout"
    )


def _first_your_code(nb) -> int:
    return next(
        index
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and YOUR_CODE in cell.metadata.get("tags", [])
    )


def test_notebooks_exist():
    assert len(NOTEBOOKS) >= 6, f"expected the six notebooks of the assignment, found {NOTEBOOK_NAMES}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NOTEBOOK_NAMES)
def test_committed_notebook_is_clean(path):
    assert path.stat().st_size < MAX_NOTEBOOK_BYTES, f"{path.name} is {path.stat().st_size} bytes"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    dirty = [
        index
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts"
    assert any(YOUR_CODE in cell.metadata.get("tags", []) for cell in code), f"{path.name} has no your-code cell"
    untagged = [
        index
        for index, cell in enumerate(nb.cells)
        if "### BEGIN SOLUTION" in cell.source
        and (cell.cell_type != "code" or YOUR_CODE not in cell.metadata.get("tags", []))
    ]
    assert not untagged, f"{path.name}: cells {untagged} hold a solution but are not your-code cells"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


def test_kernel_runs_the_fresh_venv_without_the_kit(kernel_env, bundle_python, tmp_path):
    code = "import sys\nprint(sys.executable)\ntry:\n    import cs231n_pool\nexcept ImportError as exc:\n    print(exc)"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert _stdout(nb).splitlines() == [str(bundle_python), "No module named 'cs231n_pool'"]


def test_every_notebook_opens_with_the_same_setup_cell():
    firsts = {
        path.name: next(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        for path in NOTEBOOKS
    }
    assert len(set(firsts.values())) == 1, f"the first code cells differ: {sorted(firsts)}"
    setup = next(iter(firsts.values()))
    assert setup.startswith("# Setup: run this cell first.") and 'if "google.colab" in sys.modules:' in setup
    assert 'pip", "install", "--quiet", "-r", "requirements.txt"' in setup and "drive.mount(" in setup


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NOTEBOOK_NAMES)
def test_released_notebook_is_the_committed_one_without_solutions(stub_bundle, path):
    committed = nbformat.read(path, as_version=4)
    released = nbformat.read(_bundle_notebook(stub_bundle, path.name), as_version=4)
    assert len(released.cells) == len(committed.cells), f"the released {path.name} has a different number of cells"
    for index, (mine, theirs) in enumerate(zip(committed.cells, released.cells, strict=False)):
        assert theirs.cell_type == mine.cell_type
        assert theirs.metadata.get("tags", []) == mine.metadata.get("tags", []), f"cell {index} lost its tags"
        assert "BEGIN SOLUTION" not in theirs.source, f"cell {index} of the released {path.name} leaks a solution"
        if "### BEGIN SOLUTION" in mine.source:
            assert "NotImplementedError" in theirs.source, f"cell {index}: the solution was not replaced by a TODO"
        else:
            assert theirs.source == mine.source, f"cell {index} of the released {path.name} was changed"
        if theirs.cell_type == "code":
            assert not theirs.outputs and theirs.execution_count is None, (
                f"cell {index} of the released {path.name} has outputs"
            )


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_runs_with_solution(kernel_env, solved_bundle, name):
    nb = _execute(_bundle_notebook(solved_bundle, name), solved_bundle)
    errors = _errors(nb)
    assert not errors, f"{name} fails with the reference solution:\n{_describe(errors)}"
    unexecuted = [
        index for index, cell in enumerate(nb.cells) if cell.cell_type == "code" and cell.execution_count is None
    ]
    assert not unexecuted, f"{name}: cells {unexecuted} did not run"
    if name.startswith("06"):
        accuracies = {kind: float(value) for value, kind in ACCURACY_LINE.findall(_stdout(nb))}
        assert set(accuracies) == {"max", "average"}, f"accuracy lines not found, got {accuracies}"
        assert min(accuracies.values()) >= 0.95, f"digits convnet test accuracy too low: {accuracies}"


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_stops_at_first_todo_with_stub(kernel_env, stub_bundle, name):
    nb = _execute(_bundle_notebook(stub_bundle, name), stub_bundle)
    errors = _errors(nb)
    first = _first_your_code(nb)
    assert errors, f"{name} ran to the end against the stub: its your-code cells never call the student's code"
    index, error = errors[0]
    assert index == first and error.ename == "NotImplementedError", (
        f"{name} must stop with NotImplementedError at cell {first} (the first your-code cell), "
        f"but stopped at:\n{_describe(errors)}"
    )


def _setup_cell():
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    return next(cell.source for cell in nb.cells if cell.cell_type == "code")


@pytest.fixture
def fake_colab(tmp_path, monkeypatch):
    """Run the setup cell as on Colab: google.colab is imported, /content is tmp_path/content, pip is recorded.

    Returns run(bundle_place) -> (folder it chose or the exception, pip commands, drive mounts)."""
    import glob as glob_module
    import subprocess as subprocess_module
    import types

    content = tmp_path / "content"
    real_glob = glob_module.glob
    calls = {"pip": [], "mount": []}
    drive = types.SimpleNamespace(mount=lambda where: calls["mount"].append(where))
    colab = types.ModuleType("google.colab")
    colab.drive = drive
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setattr(glob_module, "glob", lambda pattern: real_glob(pattern.replace("/content", str(content), 1)))
    monkeypatch.setattr(subprocess_module, "run", lambda cmd, **kw: calls["pip"].append((cmd, kw)))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    code = "\n".join(line for line in _setup_cell().splitlines() if not line.startswith("%"))  # IPython magics

    def run(place):
        if place is not None:
            (content / place / "pooltools").mkdir(parents=True)
            (content / place / "pooltools" / "__init__.py").write_text("")
        try:
            exec(compile(code, "setup cell", "exec"), {})
        except FileNotFoundError as exc:
            return exc, calls
        return Path.cwd(), calls

    return run, content


def test_setup_cell_on_colab_finds_an_uploaded_folder(fake_colab):
    run, content = fake_colab
    folder, calls = run("pooling")
    assert folder == content / "pooling" and str(folder) in sys.path
    assert calls["mount"] == []
    assert calls["pip"] == [
        ([sys.executable, "-m", "pip", "install", "--quiet", "-r", "requirements.txt"], {"check": True})
    ]


def test_setup_cell_on_colab_mounts_drive_and_finds_the_folder_there(fake_colab):
    run, content = fake_colab
    folder, calls = run("drive/MyDrive/cs231n/pooling")
    assert folder == content / "drive" / "MyDrive" / "cs231n" / "pooling"
    assert calls["mount"] == ["/content/drive"] and len(calls["pip"]) == 1


def test_setup_cell_on_colab_says_what_to_do_without_a_folder(fake_colab):
    run, _ = fake_colab
    error, calls = run(None)
    assert str(error) == (
        "no assignment folder found: put the whole folder (pooling_layers.py, pooltools/, "
        "requirements.txt) in your Google Drive, or upload and unzip it, then rerun this cell"
    )
    assert calls["mount"] == ["/content/drive"] and calls["pip"] == []
