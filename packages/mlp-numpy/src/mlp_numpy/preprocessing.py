"""How raw images become a network's inputs: the preprocessing a weight file records.

A network is trained on prepared inputs, and predicting with it needs the same
preparation. Version 2 of the weight format stores it, and every backend's `predict`
applies it to raw images:

    x = images.reshape(N, n_0)              flattened row-major, n_0 = prod(input_shape)
    "none":         x                       the pixel values 0 … 255
    "unit":         x / 255                 in [0, 1]
    "standardize":  (x / 255 − mean) / std  mean and std on the [0, 1] scale

computed in float32, in this order, exactly as `mnist_data.normalize` and
`mnist_data.standardize` prepare the training data, so the inputs are the training
inputs bit for bit. MNIST's input shape is (28, 28), flattened to 784.

The rule (`prepare_inputs`): a `uint8` array is raw images, shaped (N, *input_shape)
or (N, n_0), and gets the preprocessing; an array of any other dtype is taken as
network inputs already prepared and passes through untouched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

SCALINGS = ("none", "unit", "standardize")
MNIST_SHAPE = (28, 28)
MNIST_MEAN = 0.1307  # the MNIST training set's pixel mean on the [0, 1] scale
MNIST_STD = 0.3081  # and its standard deviation


class PreprocessingError(ValueError):
    """A preprocessing description that cannot be used; the message names the field."""


@dataclass(frozen=True)
class Preprocessing:
    """The scaling of raw pixels and the image shape that flattens to the input layer.

    `mean` and `std` are given for "standardize" only.
    """

    scaling: str
    mean: float | None = None
    std: float | None = None
    input_shape: tuple[int, ...] = MNIST_SHAPE

    def __post_init__(self) -> None:
        if self.scaling not in SCALINGS:
            raise PreprocessingError(
                f"preprocessing.scaling: must be one of {', '.join(SCALINGS)}, got {self.scaling!r}"
            )
        standardize = self.scaling == "standardize"
        for name in ("mean", "std"):
            value = getattr(self, name)
            if standardize and value is None:
                raise PreprocessingError(f"preprocessing.{name}: missing (needed to standardize)")
            if not standardize and value is not None:
                raise PreprocessingError(
                    f"preprocessing.{name}: only for scaling 'standardize', not {self.scaling!r}"
                )
            if value is not None and not (_is_number(value) and math.isfinite(value)):
                raise PreprocessingError(f"preprocessing.{name}: a finite number, got {value!r}")
        if self.std is not None and self.std <= 0:
            raise PreprocessingError(f"preprocessing.std: must be positive, got {self.std!r}")
        shape = self.input_shape
        if not (
            isinstance(shape, tuple)
            and shape
            and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)
        ):
            raise PreprocessingError(
                f"preprocessing.input_shape: a list of positive integers, got {shape!r}"
            )

    @property
    def features(self) -> int:
        """The number of network inputs, the product of `input_shape`."""
        return math.prod(self.input_shape)

    def apply(self, images: ArrayLike) -> np.ndarray:
        """Raw uint8 images (N, *input_shape) or (N, features) as float32 inputs (N, features)."""
        array = np.asarray(images)
        if array.dtype != np.uint8:
            raise PreprocessingError(f"images: expected raw uint8 pixels, got dtype {array.dtype}")
        if array.ndim < 2 or array.shape[1:] not in (self.input_shape, (self.features,)):
            shapes = " or ".join(
                f"(N, {', '.join(map(str, s))})" for s in {self.input_shape, (self.features,)}
            )
            raise PreprocessingError(f"images: expected shape {shapes}, got {array.shape}")
        x = array.reshape(len(array), self.features).astype(np.float32)
        if self.scaling == "none":
            return x
        x /= np.float32(255)
        if self.scaling == "standardize":
            assert self.mean is not None and self.std is not None  # checked on construction
            x -= np.float32(self.mean)
            x /= np.float32(self.std)
        return x

    def to_dict(self) -> dict[str, Any]:
        """The JSON object a weight file stores (`mean`, `std` only when standardizing)."""
        document: dict[str, Any] = {"scaling": self.scaling}
        if self.scaling == "standardize":
            document |= {"mean": self.mean, "std": self.std}
        return document | {"input_shape": list(self.input_shape)}

    @classmethod
    def from_dict(cls, document: Any) -> Preprocessing:
        """The inverse of `to_dict`; every key is required where it applies, none is extra."""
        if not isinstance(document, dict):
            raise PreprocessingError(f"preprocessing: a JSON object, got {document!r}")
        for key in ("scaling", "input_shape"):
            if key not in document:
                raise PreprocessingError(f"preprocessing.{key}: missing")
        unknown = set(document) - {"scaling", "mean", "std", "input_shape"}
        if unknown:
            raise PreprocessingError(f"preprocessing: unknown keys {sorted(unknown)}")
        shape = document["input_shape"]
        return cls(
            scaling=document["scaling"],
            mean=document.get("mean"),
            std=document.get("std"),
            input_shape=tuple(shape) if isinstance(shape, list) else shape,
        )


def standardized(
    mean: float = MNIST_MEAN, std: float = MNIST_STD, input_shape: tuple[int, ...] = MNIST_SHAPE
) -> Preprocessing:
    """(x / 255 − mean) / std, by default with MNIST's training-set mean and std."""
    return Preprocessing("standardize", mean, std, input_shape)


def prepare_inputs(x: ArrayLike, preprocessing: Preprocessing | None) -> np.ndarray:
    """Network inputs from `x`: raw uint8 images get `preprocessing`, anything else is
    returned untouched (as an array). Raw images without a known preprocessing are an
    error, since guessing it would give wrong predictions silently."""
    array = np.asarray(x)
    if array.dtype != np.uint8:
        return array
    if preprocessing is None:
        raise PreprocessingError(
            "x: raw uint8 images, but this model does not know how its inputs were "
            "prepared (a version 1 weight file records no preprocessing): prepare them "
            "as in training, or set model.preprocessing"
        )
    return preprocessing.apply(array)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
