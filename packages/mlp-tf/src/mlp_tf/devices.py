"""Which devices TensorFlow can use here, and the name of the one a caller asks for.

Devices are named `"cpu"` and `"gpu"` (`"cuda"` is accepted for `"gpu"`); `"auto"` picks the
GPU when TensorFlow sees one, else the CPU.
"""

import tensorflow as tf

_ALIASES = {"cuda": "gpu"}


def devices() -> list[str]:
    """The devices usable now: `["cpu"]`, or `["cpu", "gpu"]` when TensorFlow sees a GPU."""
    return ["cpu", "gpu"] if tf.config.list_physical_devices("GPU") else ["cpu"]


def resolve_device(device: str) -> tuple[str, str]:
    """`(name, tensorflow_device)` for a requested device, e.g. `("cpu", "/CPU:0")`.

    Raises ValueError naming the device and the available ones when it is unknown or absent.
    """
    available = devices()
    name = _ALIASES.get(device, device)
    if name == "auto":
        name = available[-1]
    if name not in available:
        raise ValueError(f"device {device!r} is not available; available devices: {available}")
    return name, f"/{name.upper()}:0"


def set_tf32(allowed: bool) -> None:
    """Allow or forbid TensorFloat-32 in float32 products on GPUs (`training.tf32`):
    `tf.config.experimental.enable_tensor_float_32_execution`, process-wide (TensorFlow's
    default: allowed). It changes nothing on the CPU or in float64."""
    tf.config.experimental.enable_tensor_float_32_execution(allowed)
