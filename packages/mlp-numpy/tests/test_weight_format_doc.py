"""The code of docs/weight-format.md runs: its writer makes a file that mlp_numpy and the
safetensors library both load, and its reader reads it back."""

import re
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

import mlp_numpy
from mlp_numpy.preprocessing import standardized
from mlp_numpy.weights import load_weights

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "weight-format.md"


def section_code(title: str) -> str:
    """The Python blocks of one `## title` section of the document."""
    text = DOCUMENT.read_text()
    section = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert blocks, f"no Python code under '## {title}'"
    return "\n".join(blocks)


def test_the_documents_writer_makes_a_valid_version_2_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    written: dict = {}
    exec(compile(section_code("Writing a file without this project"), "writer", "exec"), written)
    path = tmp_path / "model.safetensors"
    loaded = load_weights(path)
    assert loaded.format_version == 2 and loaded.preprocessing == standardized()
    assert loaded.network.layers == (784, 128, 10)
    for (weight, bias), layer in zip(written["layers"], loaded.layers, strict=True):
        assert np.array_equal(layer.weight, weight) and np.array_equal(layer.bias, bias)
    assert set(load_file(path)) == {
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
    }
    assert (path.stat().st_mode & 0o777) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]

    # The document's reader reads it back, and its `prepare` is the reference formula.
    read: dict = {}
    exec(compile(section_code("Reading a file without this project"), "reader", "exec"), read)
    assert read["preprocessing"] == standardized().to_dict()
    for (weight, _), layer in zip(read["layers"], loaded.layers, strict=True):
        assert np.array_equal(weight, layer.weight)
    images = np.random.default_rng(1).integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
    prepared = read["prepare"](images, read["preprocessing"])
    assert prepared.tobytes() == standardized().apply(images).tobytes()
    model = mlp_numpy.load(path)
    np.testing.assert_array_equal(model.predict_proba(images), model.predict_proba(prepared))
