"""Recreate the conformance files of the weight format (see README.md here).

    python docs/conformance/generate.py [output folder, default: this folder]

For each case: `<name>.safetensors`, a weight file drawn by `mlp_numpy.initializers` from the
case's spec (which the file carries in its metadata), and `<name>.json`, a fixed
input with the outputs, predictions, loss and gradients that the network must give for
it, computed in float64 by `mlp_numpy`. Cases with a preprocessing are version 2 files:
their input is drawn as raw uint8 images, and the JSON holds both the images and the
inputs the preprocessing makes of them. Classifiers' cases draw labels (class indices, or
0/1 for a binary classifier), regression cases real target values; every case holds the
targets the loss compares the outputs with.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from mlp_numpy.files import write_atomic
from mlp_numpy.initializers import initial_layers
from mlp_numpy.inputs import training_targets
from mlp_numpy.metrics import predicted
from mlp_numpy.network import MLP
from mlp_numpy.preprocessing import Preprocessing, standardized
from mlp_numpy.spec import Init, Loss, ModelSpec, Network, Training
from mlp_numpy.weights import save_weights

PRODUCER = "mlp-numpy conformance"
ROWS = 4

CASES = {
    "relu_softmax_f32": ModelSpec(
        Network(layers=(6, 5, 4, 3), hidden="relu", output="softmax"),
        Loss("cross_entropy"),
        Init("he_uniform", bias="like_weights"),
        Training(dtype="float32", seed=1),
    ),
    "tanh_sigmoid_nobias_f64": ModelSpec(
        Network(layers=(5, 4, 3), hidden="tanh", output="sigmoid", bias=False),
        Loss("bce", "sum_outputs"),
        Init("xavier_normal"),
        Training(dtype="float64", seed=2),
    ),
    "sigmoid_identity_f64": ModelSpec(
        Network(layers=(4, 6, 2), hidden="sigmoid", output="identity"),
        Loss("mse", "mean"),
        Init("normal", scale=0.5, bias="like_weights"),
        Training(dtype="float64", seed=3),
    ),
    "leaky_relu_softmax_mse_f32": ModelSpec(
        Network(layers=(8, 7, 6, 5, 4), hidden="leaky_relu", output="softmax", leaky_slope=0.1),
        Loss("mse", "sum_outputs"),
        Init("uniform", low=-0.6, high=0.6, bias="like_weights"),
        Training(dtype="float32", seed=4),
    ),
    # Version 2: with the input preprocessing.
    "mnist_standardize_f32": ModelSpec(
        Network(layers=(784, 4, 10), hidden="relu", output="softmax"),
        Loss("cross_entropy"),
        Init("he_normal"),
        Training(dtype="float32", seed=5),
    ),
    "unit_tanh_softmax_f64": ModelSpec(
        Network(layers=(12, 5, 3), hidden="tanh", output="softmax"),
        Loss("cross_entropy"),
        Init("xavier_uniform", bias="like_weights"),
        Training(dtype="float64", seed=6),
    ),
    "none_sigmoid_nobias_f32": ModelSpec(
        Network(layers=(6, 4, 2), hidden="sigmoid", output="sigmoid", bias=False),
        Loss("mse", "mean"),
        Init("normal", scale=0.01),
        Training(dtype="float32", seed=7),
    ),
    # Binary classifiers and regression networks (docs/model-spec.md#tasks).
    "binary_tanh_bce_f64": ModelSpec(
        Network(layers=(4, 5, 1), hidden="tanh", output="sigmoid", task="binary"),
        Loss("bce", "mean"),
        Init("xavier_normal", bias="like_weights"),
        Training(dtype="float64", seed=21),
    ),
    "regression_relu_mse_f32": ModelSpec(
        Network(layers=(5, 6, 2), hidden="relu", output="identity", task="regression"),
        Loss("mse", "mean"),
        Init("he_uniform", bias="like_weights"),
        Training(dtype="float32", seed=9),
    ),
    "regression_one_output_nobias_f64": ModelSpec(
        Network(
            layers=(3, 4, 1), hidden="sigmoid", output="identity", bias=False, task="regression"
        ),
        Loss("mse", "sum_outputs"),
        Init("normal", scale=0.8),
        Training(dtype="float64", seed=10),
    ),
}
PREPROCESSING: dict[str, Preprocessing] = {
    "mnist_standardize_f32": standardized(),
    "unit_tanh_softmax_f64": Preprocessing("unit", input_shape=(3, 4)),
    "none_sigmoid_nobias_f32": Preprocessing("none", input_shape=(2, 3)),
}


def case_data(name: str, spec: ModelSpec) -> tuple[list, dict]:
    """The case's weights and its expected results for a fixed input."""
    network = spec.network
    layers = initial_layers(spec)
    rng = np.random.default_rng([len(name), network.layers[0]])
    preprocessing = PREPROCESSING.get(name)
    images = None
    if preprocessing is None:
        # Inputs exact in float32, so that casting them loses nothing.
        x = rng.normal(size=(ROWS, network.layers[0])).astype(np.float32).astype(np.float64)
    else:
        images = rng.integers(0, 256, size=(ROWS, *preprocessing.input_shape), dtype=np.uint8)
        x = preprocessing.apply(images).astype(np.float64)  # float32 values, widened exactly
    if network.task == "regression":  # real targets, exact in float32
        shape = (ROWS, network.layers[-1])
        labels = rng.normal(scale=2.0, size=shape).astype(np.float32).astype(np.float64)
    else:
        labels = rng.integers(0, 2 if network.task == "binary" else network.num_classes, ROWS)
    net = MLP(network, spec.loss, np.float64)
    net.params.assign(layers)
    trace = net.forward(x)
    output = trace.a.copy()
    y = training_targets(labels, network, np.float64)
    loss = net.loss_value(trace, y)
    net.backward(trace, y)
    gradients = {}
    for i, (w, b) in enumerate(zip(net.grads.weights, net.grads.biases, strict=True)):
        gradients[f"layers.{i}.weight"] = w.tolist()
        if b is not None:
            gradients[f"layers.{i}.bias"] = b.tolist()
    float32 = spec.training.dtype == "float32"
    expected = {
        "weights": f"{name}.safetensors",
        "dtype": spec.training.dtype,
        "tolerance": {"rtol": 1e-5 if float32 else 1e-12, "atol": 1e-6 if float32 else 1e-14},
        **({} if images is None else {"images": images.tolist()}),
        "input": x.tolist(),
        **({} if network.task == "regression" else {"labels": labels.tolist()}),
        "targets": y.tolist(),
        "output": output.tolist(),
        "prediction": predicted(output, network.task).tolist(),
        "loss": loss,
        "gradients": gradients,
    }
    return layers, expected


def main(folder: Path) -> None:
    for name, spec in CASES.items():
        layers, expected = case_data(name, spec)
        weights = folder / f"{name}.safetensors"
        save_weights(
            weights,
            layers,
            spec.network,
            producer=PRODUCER,
            spec=spec,
            preprocessing=PREPROCESSING.get(name),
        )
        text = json.dumps(expected, indent=1) + "\n"
        write_atomic(folder / f"{name}.json", text.encode("utf-8"))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
