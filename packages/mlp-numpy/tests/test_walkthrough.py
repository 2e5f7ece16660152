"""The notebooks in examples/ run end to end: walkthrough.ipynb on real MNIST,
small-data.ipynb on data it makes itself. They import only what mlp_numpy exports, and
write only into a temporary folder.

Each runs in a fresh Python kernel (nbclient, ipykernel), whose inline matplotlib backend
draws with Agg, so no display is needed; a cell that raises fails the test. The kernel's
working folder and its TMPDIR are empty folders of the test's own, so that a file written
anywhere but a temporary folder is seen. Outputs are not committed.
"""

import ast
import os
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

import mlp_numpy
from mlp_numpy import spec as spec_module

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = ["walkthrough.ipynb", "small-data.ipynb"]
OTHER_MODULES = {"matplotlib", "numpy", "mnist_data", "tempfile", "pathlib"}


def code_of(name: str) -> list[str]:
    notebook = nbformat.read(EXAMPLES / name, as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_notebook_is_committed_without_outputs(name):
    notebook = nbformat.read(EXAMPLES / name, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(code) >= 8
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_notebook_uses_only_what_mlp_numpy_exports(name):
    """`import mlp_numpy` and the spec's classes; every `mlp_numpy.<name>` in __all__."""
    tree = ast.parse("\n".join(code_of(name)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name == "mlp_numpy" or alias.name.split(".")[0] in OTHER_MODULES
        elif isinstance(node, ast.ImportFrom):
            if node.module == "mlp_numpy.spec":
                assert all(hasattr(spec_module, alias.name) for alias in node.names)
            else:
                assert node.module.split(".")[0] in OTHER_MODULES, node.module
        elif isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "mlp_numpy":
            assert node.attr in mlp_numpy.__all__, f"mlp_numpy.{node.attr} is not exported"


def run(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list, Path, Path]:
    """Execute the notebook in `tmp_path`/work with TMPDIR `tmp_path`/tmp; its outputs."""
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend
    # The kernel runs in another folder: relative entries of PYTHONPATH must become absolute.
    entries = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(str(Path(e).resolve()) for e in entries if e))
    work, temporary = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    notebook = nbformat.read(EXAMPLES / name, as_version=4)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": work}}
    )
    client.execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    return outputs, work, temporary


def texts_and_figures(outputs: list) -> tuple[str, list]:
    figures = [out for out in outputs if "image/png" in out.get("data", {})]
    return "".join(out.get("text", "") for out in outputs), figures


def test_the_walkthrough_runs_end_to_end(tmp_path, monkeypatch):
    outputs, work, temporary = run("walkthrough.ipynb", tmp_path, monkeypatch)
    text, figures = texts_and_figures(outputs)
    assert "dL/dW1 (64, 784)" in text  # the first layer's gradient is there to print
    assert "the step with momentum is" in text
    assert "misclassified" in text
    assert len(figures) == 3  # the curves, the first layer's weights, the misclassified digits
    assert list(work.iterdir()) == []  # nothing written beside the notebook
    (saved,) = temporary.glob("*/walkthrough.safetensors")
    model = mlp_numpy.load(saved)
    assert model.network.layers == (784, 64, 10)
    assert model.layers()[0].weight.dtype == np.float32


def test_the_small_data_notebook_runs_without_a_download(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_MIRROR", str(tmp_path / "no-mnist-here"))
    outputs, work, temporary = run("small-data.ipynb", tmp_path, monkeypatch)
    text, figures = texts_and_figures(outputs)
    assert len(figures) == 3  # the spirals, the moons, the fitted curve
    assert "test accuracy" in text and "test mean squared error" in text
    assert "np.unique(labels, return_inverse=True)" in text  # the bad-data section
    assert "labels.argmax(axis=1)" in text and "test: x: expected shape (N, 2)" in text
    assert list(work.iterdir()) == []
    (saved,) = temporary.glob("*/curve.safetensors")
    assert mlp_numpy.load(saved).network.task == "regression"
