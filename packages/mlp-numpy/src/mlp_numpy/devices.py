"""Which devices can run the network: NumPy computes on the CPU only."""

from __future__ import annotations


def devices() -> list[str]:
    """The devices this backend can use now: always the CPU."""
    return ["cpu"]


def check_device(device: str) -> None:
    """Raise ValueError, listing the available devices, unless `device` is one of them or
    "auto"."""
    if device not in ("auto", *devices()):
        raise ValueError(
            f"device {device!r} is not available; available: {', '.join(['auto', *devices()])}"
        )
