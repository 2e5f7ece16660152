"""The walkthrough notebook (examples/walkthrough.ipynb) runs end to end on real MNIST.

It is executed in a fresh Python kernel (nbclient, ipykernel), whose inline matplotlib
backend draws with Agg, so no display is needed; a cell that raises fails the test.
Outputs are not committed.
"""

import os
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient

import mlp_numpy

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "walkthrough.ipynb"


def test_the_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(code) >= 10
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


def test_the_notebook_runs_end_to_end(tmp_path, monkeypatch):
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend
    # The kernel runs in tmp_path: relative entries of PYTHONPATH must become absolute.
    entries = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(str(Path(e).resolve()) for e in entries if e))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    figures = [out for out in outputs if "image/png" in out.get("data", {})]
    text = "".join(out.get("text", "") for out in outputs)
    assert "dL/dW1 (64, 784)" in text  # the first layer's gradient is there to print
    assert "misclassified" in text
    assert len(figures) == 3  # the curves, the first layer's weights, the misclassified digits
    model = mlp_numpy.load(tmp_path / "walkthrough.safetensors")
    assert model.network.layers == (784, 64, 10)
    assert model.layers()[0].weight.dtype == np.float32
