"""mlp-tf as a backend (`mlp_numpy.backends.Backend`), registered under "tf".

Besides the training API (`make_engine`, `train`, `load`, `devices`), what a comparison
needs to know of Keras on TensorFlow: its threads, its GPU, its installed defaults, and the
two loops `mlp-compare bench` times beside the engine.
"""

import inspect
from itertools import pairwise

import keras
import numpy as np
import tensorflow as tf

from mlp_numpy.backends import DefaultReading, seconds_per_epoch

from .devices import devices, resolve_device
from .engine import make_engine
from .model import load, train

NAME = "tf"
DISPLAY_NAME = "TensorFlow"
DISTRIBUTION = "mlp-tf"
DEFAULTS_SET = "keras"

__all__ = [
    "DEFAULTS_SET",
    "DISPLAY_NAME",
    "DISTRIBUTION",
    "NAME",
    "accelerator_name",
    "devices",
    "framework_version",
    "installed_defaults",
    "load",
    "make_engine",
    "products_epoch",
    "set_threads",
    "thread_settings",
    "train",
    "tutorial_epoch",
]


def framework_version() -> str:
    """TensorFlow's version and, in brackets, that of Keras above it."""
    return f"{tf.__version__} (Keras {keras.__version__})"


def set_threads(threads: int) -> None:
    """TensorFlow's intra- and inter-op thread pools on `threads` threads. They can only be
    set before TensorFlow starts its runtime; afterwards the pools in use are kept."""
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # the runtime is already initialized
        pass


def thread_settings() -> dict[str, int | None]:
    """The pools' sizes as set (0: TensorFlow chooses)."""
    return {
        "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
    }


def accelerator_name() -> str | None:
    """The first GPU TensorFlow sees, by name; None without one."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    details = tf.config.experimental.get_device_details(gpus[0])
    return details.get("device_name", gpus[0].name)


def installed_defaults() -> dict[str, DefaultReading]:
    """Keras's defaults as the installed version defines them: read from its signatures,
    objects and settings, the formulas named where they are."""
    dense = inspect.signature(keras.layers.Dense).parameters
    categorical = inspect.signature(keras.losses.CategoricalCrossentropy).parameters
    adam = keras.optimizers.Adam()
    shuffle = inspect.signature(keras.Model.fit).parameters["shuffle"].default
    return {
        "init": DefaultReading(
            f"kernel {dense['kernel_initializer'].default}, bias "
            f"{dense['bias_initializer'].default}",
            "inspect.signature(keras.layers.Dense) kernel_initializer, bias_initializer",
        ),
        "eps": DefaultReading(adam.epsilon, "keras.optimizers.Adam().epsilon"),
        "eps_placement": DefaultReading(
            "η_t m/(√v + ε)", "the formula in keras/src/optimizers/adam.py"
        ),
        "weight_decay_form": DefaultReading(
            adam.weight_decay, "keras.optimizers.Adam().weight_decay (decoupled when set)"
        ),
        "velocity": DefaultReading("v ← μv − ηg", "the formula in keras/src/optimizers/sgd.py"),
        "hyperparameter_precision": DefaultReading(
            "cast through float32", "ops.cast of a Python float in Keras's TensorFlow backend"
        ),
        "loss_form": DefaultReading(
            f"from_logits={categorical['from_logits'].default}, clip ε = "
            f"{keras.config.epsilon()}; on the {keras.backend.backend()} backend a softmax "
            "output's logits are used (documented: clipped_probabilities)",
            "inspect.signature(keras.losses.CategoricalCrossentropy) from_logits; "
            "keras.config.epsilon(); _get_logits in keras/src/backend/tensorflow/nn.py",
        ),
        "batch_order": DefaultReading(
            f"fit shuffle={shuffle}", "inspect.signature(keras.Model.fit) shuffle"
        ),
        "tf32": DefaultReading(
            bool(tf.config.experimental.tensor_float_32_execution_enabled()),
            "tf.config.experimental.tensor_float_32_execution_enabled()",
        ),
    }


def products_epoch(sizes: list[int], n: int, batch_size: int, epochs: int, device: str) -> float:
    """The matrix products of a training epoch alone, in float32 on `device`, in one
    `tf.function` per batch shape: per step and layer l, the forward h_l = h_{l−1} W_lᵀ,
    the weight gradient δ_lᵀ h_{l−1} and (below the top layer) δ_l W_l."""
    with tf.device(resolve_device(device)[1]):
        rng = np.random.default_rng(0)
        weights = [
            tf.constant(rng.standard_normal((o, i), dtype=np.float32)) for i, o in pairwise(sizes)
        ]
        x = tf.constant(rng.standard_normal((batch_size, sizes[0]), dtype=np.float32))
        full, rest = divmod(n, batch_size)

        @tf.function
        def run_steps(count: tf.Tensor, b: int) -> tf.Tensor:
            total = tf.constant(0.0)
            for _ in tf.range(count):
                acts = [x[:b]]
                for w in weights:
                    acts.append(tf.matmul(acts[-1], w, transpose_b=True))
                for layer in range(len(weights) - 1, -1, -1):
                    grad = tf.matmul(acts[layer + 1], acts[layer], transpose_a=True)
                    total += grad[0, 0]
                    if layer:
                        total += tf.matmul(acts[layer + 1], weights[layer])[0, 0]
            return total

        def run_epoch(epoch: int) -> None:
            run_steps(tf.constant(full), batch_size).numpy()
            if rest:
                run_steps(tf.constant(1), rest).numpy()

        return seconds_per_epoch(run_epoch, epochs)


def tutorial_epoch(
    sizes: list[int],
    x: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    epochs: int,
    device: str,
) -> float:
    """An epoch of the loop Keras's tutorials write: a `Sequential` of `Dense` layers ending
    in a softmax, compiled with `SGD` and `sparse_categorical_crossentropy`, trained by the
    default `model.fit(shuffle=True)`."""
    with tf.device(resolve_device(device)[1]):
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input((sizes[0],))]
            + [keras.layers.Dense(s, activation="relu") for s in sizes[1:-1]]
            + [keras.layers.Dense(sizes[-1], activation="softmax")]
        )
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")

        def run_epoch(epoch: int) -> None:
            model.fit(x, labels, batch_size=batch_size, epochs=1, shuffle=True, verbose=0)

        return seconds_per_epoch(run_epoch, epochs)
