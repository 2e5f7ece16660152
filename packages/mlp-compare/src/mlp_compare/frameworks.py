"""The frameworks mlp-compare compares: the backends installed here, found through their
entry points, and the devices each one offers.

A backend package registers its `backend` module in the entry-point group
`mlp_numpy.backends` (`mlp_numpy.backends`): its name, training API, threads, devices,
defaults and benchmark loops. mlp-compare names no backend and imports no framework: every
installed backend is listed, run and timed the same way, and one installed later appears
without a change here. A backend whose module does not import is not an error: it is
reported as skipped, with the reason and the command that installs it.

Devices are named the same way for every framework on the command line: `cpu` and `gpu`.
`gpu` means whatever accelerator the backend reports (`cuda` or `mps` for PyTorch, `gpu` for
TensorFlow).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import mlp_numpy
from mlp_numpy.backends import Registered, discover, load

DEVICES = ("cpu", "gpu")

# Replaces a backend's module, e.g. MLP_COMPARE_MODULES="tf=not_installed" to see how a
# backend that does not import is reported without uninstalling it.
MODULES_ENV = "MLP_COMPARE_MODULES"


@dataclass(frozen=True)
class Framework:
    """One backend: its module when it imports, else why it did not."""

    name: str
    module_name: str
    distribution: str
    display: str
    # The imported backend module (mlp_numpy.backends.Backend), None when the import failed.
    module: Any
    error: str | None

    @property
    def available(self) -> bool:
        return self.module is not None

    @property
    def install_hint(self) -> str:
        """The command that installs this backend's package."""
        return f"pip install packages/{self.distribution}"

    def version(self) -> str | None:
        """The framework's version, as the backend reports it."""
        return self.module.framework_version() if self.module else None

    def package_version(self) -> str | None:
        """The backend package's version."""
        try:
            return metadata.version(self.distribution)
        except metadata.PackageNotFoundError:
            return None

    def backend_devices(self) -> list[str]:
        """The backend's own device names, as its `devices()` returns them."""
        return list(self.module.devices()) if self.module else []

    def resolve_device(self, device: str) -> tuple[str | None, str | None]:
        """Map `cpu`/`gpu` to this backend's device name: `(name, None)` or `(None, reason)`."""
        if self.module is None:
            return None, f"{self.display} does not import: {self.error}"
        available = self.backend_devices()
        if device == "cpu":
            matches = [d for d in available if d.lower() == "cpu"]
        else:
            matches = [d for d in available if _is_accelerator(d)]
        if matches:
            return matches[0], None
        return None, f"no {device} visible to {self.display} (devices: {', '.join(available)})"


def _is_accelerator(device: str) -> bool:
    name = device.lower().split(":")[0]
    return name in {"cuda", "gpu", "mps"}


def _module_overrides() -> dict[str, str]:
    value = os.environ.get(MODULES_ENV, "")
    pairs = (item.split("=", 1) for item in value.split(",") if "=" in item)
    return {name.strip(): module.strip() for name, module in pairs}


_cache: dict[tuple[str, str], Framework] = {}


def names() -> list[str]:
    """The installed backends' names, NumPy first (`mlp_numpy.backends.discover`)."""
    return [registered.name for registered in discover()]


def get(name: str) -> Framework:
    """The installed backend called `name`, importing it on first use."""
    found = {registered.name: registered for registered in discover()}
    if name not in found:
        raise KeyError(f"no backend {name!r} is installed; installed: {', '.join(found)}")
    registered = found[name]
    module_name = _module_overrides().get(name, registered.module_name)
    key = (name, module_name)
    if key not in _cache:
        distribution = registered.distribution or name
        try:
            module, error = load(Registered(name, module_name, distribution)), None
        except Exception as exc:  # an import can fail in many ways (e.g. RuntimeError)
            module, error = None, f"{type(exc).__name__}: {exc}"
        display = module.DISPLAY_NAME if module is not None else distribution
        _cache[key] = Framework(name, module_name, distribution, display, module, error)
    return _cache[key]


def all_frameworks() -> list[Framework]:
    return [get(name) for name in names()]


def set_threads(threads: int, frameworks: list[Framework]) -> None:
    """Give every installed framework the same number of CPU threads, for a fair timing:
    each backend's `set_threads`, and NumPy's BLAS for the reference, which every comparison
    runs. `threads = 0` leaves every framework at its own default."""
    if threads == 0:
        return
    mlp_numpy.set_blas_threads(threads)
    for framework in frameworks:
        if framework.available:
            framework.module.set_threads(threads)
