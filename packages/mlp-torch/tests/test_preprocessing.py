"""Version 2 weight files: `mlp_torch.load(...).predict` applies the file's preprocessing to
raw uint8 images, and refuses raw images for a version 1 file, which records none."""

import json
from pathlib import Path

import numpy as np
import pytest

import mlp_torch
from mlp_numpy.preprocessing import PreprocessingError

CONFORMANCE = Path(__file__).resolve().parents[3] / "docs" / "conformance"
CASES = [p for p in sorted(CONFORMANCE.glob("*.json")) if "images" in json.loads(p.read_text())]


def test_there_are_version_2_cases():
    assert len(CASES) >= 3, f"expected version 2 conformance files in {CONFORMANCE}"


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_raw_images_get_the_files_preprocessing(case, tmp_path):
    expected = json.loads(case.read_text())
    model = mlp_torch.load(CONFORMANCE / expected["weights"], device="cpu")
    images = np.array(expected["images"], dtype=np.uint8)
    np.testing.assert_allclose(
        model.predict_proba(images), expected["output"], **expected["tolerance"]
    )
    flat = images.reshape(len(images), -1)
    np.testing.assert_array_equal(model.predict(flat), model.predict(images))
    model.save(tmp_path / "again.safetensors")  # the preprocessing is kept
    again = mlp_torch.load(tmp_path / "again.safetensors", device="cpu")
    assert again.preprocessing == model.preprocessing is not None


def test_raw_images_for_a_version_1_file_are_an_error():
    model = mlp_torch.load(CONFORMANCE / "relu_softmax_f32.safetensors", device="cpu")
    with pytest.raises(PreprocessingError, match="version 1 weight file"):
        model.predict(np.zeros((2, 6), dtype=np.uint8))
