"""The frameworks mlp-compare knows, imported lazily, and the devices each one offers.

Every backend package exports the same functions (`make_engine`, `train`, `devices`, `load`),
so a framework is nothing more than the name of its module. A framework whose import fails is
not an error: it is reported as skipped, with the reason and the command that installs it.

Devices are named the same way for every framework on the command line: `cpu` and `gpu`.
`gpu` means whatever accelerator the backend reports (`cuda` or `mps` for PyTorch, `gpu` for
TensorFlow); NumPy has only `cpu`.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Any

# framework name -> (module, distribution, display name)
REGISTRY: dict[str, tuple[str, str, str]] = {
    "numpy": ("mlp_numpy", "mlp-numpy", "NumPy"),
    "torch": ("mlp_torch", "mlp-torch", "PyTorch"),
    "tf": ("mlp_tf", "mlp-tf", "TensorFlow"),
}
DEVICES = ("cpu", "gpu")

# Replaces a framework's module, e.g. MLP_COMPARE_MODULES="tf=not_installed" to see how a
# missing framework is reported without uninstalling it.
MODULES_ENV = "MLP_COMPARE_MODULES"


@dataclass(frozen=True)
class Framework:
    """One framework: its module when it imports, else why it did not."""

    name: str
    module_name: str
    distribution: str
    display: str
    # The imported backend (its functions are typed in its own package), None when the
    # import failed.
    module: Any
    error: str | None

    @property
    def available(self) -> bool:
        return self.module is not None

    @property
    def install_hint(self) -> str:
        """The command that installs this framework's package."""
        return f"pip install packages/{self.distribution}"

    @property
    def install_text(self) -> str:
        """The install hint for people: the package, or mlp-compare's extra."""
        return f"{self.install_hint} (or: pip install 'packages/mlp-compare[{self.name}]')"

    def version(self) -> str | None:
        return getattr(self.module, "__version__", None) if self.module else None

    def backend_devices(self) -> list[str]:
        """The backend's own device names, as its `devices()` returns them."""
        return list(self.module.devices()) if self.module else []

    def resolve_device(self, device: str) -> tuple[str | None, str | None]:
        """Map `cpu`/`gpu` to this backend's device name: `(name, None)` or `(None, reason)`."""
        if self.module is None:
            return None, f"{self.display} is not installed: {self.error}"
        available = self.backend_devices()
        if device == "cpu":
            matches = [d for d in available if d.lower() == "cpu"]
        else:
            matches = [d for d in available if _is_accelerator(d)]
        if matches:
            return matches[0], None
        if device == "gpu" and self.name == "numpy":
            return None, "mlp-numpy runs on the CPU only"
        return None, f"no {device} visible to {self.display} (devices: {', '.join(available)})"


def _is_accelerator(device: str) -> bool:
    name = device.lower().split(":")[0]
    return name in {"cuda", "gpu", "mps"}


def _module_overrides() -> dict[str, str]:
    value = os.environ.get(MODULES_ENV, "")
    pairs = (item.split("=", 1) for item in value.split(",") if "=" in item)
    return {name.strip(): module.strip() for name, module in pairs}


_cache: dict[tuple[str, str], Framework] = {}


def get(name: str) -> Framework:
    """The framework called `name` ("numpy", "torch" or "tf"), importing it on first use."""
    module_name, distribution, display = REGISTRY[name]
    module_name = _module_overrides().get(name, module_name)
    key = (name, module_name)
    if key not in _cache:
        try:
            module, error = importlib.import_module(module_name), None
        except Exception as exc:  # an import can fail in many ways (e.g. RuntimeError)
            module, error = None, f"{type(exc).__name__}: {exc}"
        if module is not None and not hasattr(module, "make_engine"):
            module, error = None, f"{module_name} does not export make_engine yet"
        _cache[key] = Framework(name, module_name, distribution, display, module, error)
    return _cache[key]


def all_frameworks() -> list[Framework]:
    return [get(name) for name in REGISTRY]


def set_threads(threads: int, frameworks: list[Framework]) -> None:
    """Give every installed framework the same number of CPU threads, for a fair timing.

    NumPy's OpenBLAS through `mlp_numpy.set_blas_threads`; PyTorch's intra-op pool; TensorFlow's
    intra- and inter-op pools (which can only be set before TensorFlow starts its runtime).
    `threads = 0` leaves every framework at its own default.
    """
    if threads == 0:
        return
    names = {fw.name for fw in frameworks if fw.available}
    import mlp_numpy

    mlp_numpy.set_blas_threads(threads)
    if "torch" in names:
        import torch

        torch.set_num_threads(threads)
    if "tf" in names:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # the runtime is already initialized: keep its pools
            pass
