"""Which devices can run the network now, and choosing one by name."""

from __future__ import annotations

import torch


def devices() -> list[str]:
    """The devices usable now, CPU first: e.g. ["cpu"] or ["cpu", "cuda"]."""
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return found


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """The device called `name`: "auto" is cuda when available, else mps when present,
    else cpu. An index ("cuda:1") must exist. Unknown or unavailable names are a ValueError
    that lists the available ones."""
    available = devices()
    if str(name) == "auto":
        for preferred in ("cuda", "mps"):
            if preferred in available:
                return torch.device(preferred)
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        device = None
    if device is None or not _usable(device, available):
        raise ValueError(
            f"device {str(name)!r} is not available here; available: {', '.join(available)}"
        )
    return device


def _usable(device: torch.device, available: list[str]) -> bool:
    """Whether `device` is of an available type and, for an indexed cuda device, exists."""
    if device.type not in available:
        return False
    return device.type != "cuda" or device.index is None or device.index < torch.cuda.device_count()


def check_dtype(device: torch.device, dtype: torch.dtype) -> None:
    """Raise ValueError when `device` cannot hold `dtype` (MPS has no float64)."""
    if device.type == "mps" and dtype == torch.float64:
        raise ValueError("training.dtype: float64 is not supported on mps; use float32 or cpu")


def set_tf32(allowed: bool) -> None:
    """Allow or forbid TensorFloat-32 in CUDA float32 matrix products (`training.tf32`):
    `torch.backends.cuda.matmul.allow_tf32`, a process-wide switch (PyTorch's default: off).
    It changes nothing on the CPU or in float64."""
    torch.backends.cuda.matmul.allow_tf32 = allowed
