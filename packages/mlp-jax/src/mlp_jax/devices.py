"""Which devices can run the network, choosing one by name, and the process-wide JAX
settings a training depends on: float64, TF32 products, CPU threads.

- float64 needs `jax_enable_x64`: without it JAX makes every array float32, and
  `nnx.Linear(param_dtype=jnp.float64)` quietly gives float32 parameters (with a warning).
  With it, `param_dtype` still decides: a float32 module stays float32. `enable_x64` turns
  it on for the whole process (it also makes `jnp.arange` int64 and Python floats float64
  by default); float32 training gives the same numbers either way (see `optimizers`).
- TF32: JAX computes float32 matrix products in TensorFloat-32 on recent NVIDIA GPUs by
  default; `precision(tf32=False)` asks `nnx.Linear` for full float32 ("highest").
- Threads: XLA's CPU backend ignores OMP_NUM_THREADS. It runs its operations on one thread
  with the XLA flag `--xla_cpu_multi_thread_eigen=false`, otherwise on a pool of one
  thread per core; it has no flag for a count in between. XLA reads the flag once, when
  JAX's CPU backend starts (at the first computation or device query), so `set_threads`
  must come first; afterwards it accepts only the setting already in effect and raises
  RuntimeError, naming the fix, for any other.
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
from jax._src import xla_bridge

ONE_THREAD_FLAG = "--xla_cpu_multi_thread_eigen=false"
DTYPES = {"float32": jnp.float32, "float64": jnp.float64}


def devices() -> list[str]:
    """The platforms usable now, CPU first: e.g. ["cpu"] or ["cpu", "gpu"]."""
    found = ["cpu"]
    for platform in ("gpu", "tpu"):
        try:
            if jax.devices(platform):
                found.append(platform)
        except RuntimeError:  # no such backend in this jaxlib
            continue
    return found


def resolve_device(name: str = "auto") -> jax.Device:
    """The device called `name`: "auto" is JAX's default device (a GPU when JAX has one),
    "cpu", "gpu" or "tpu" that platform's first device, "gpu:1" its second. Unknown or
    unavailable names are a ValueError that lists the available ones."""
    available = devices()
    if name == "auto":
        return jax.devices()[0]
    platform, _, index = str(name).partition(":")
    if platform in available and (index == "" or index.isdigit()):
        found = jax.devices(platform)
        if int(index or 0) < len(found):
            return found[int(index or 0)]
    raise ValueError(f"device {name!r} is not available here; available: {', '.join(available)}")


def accelerator_name() -> str | None:
    """The first GPU's name as JAX reports it (e.g. "NVIDIA H200"), None without one."""
    return jax.devices("gpu")[0].device_kind if "gpu" in devices() else None


def training_dtype(name: str) -> jnp.dtype:
    """The JAX dtype of `training.dtype`; float64 turns on `jax_enable_x64` first."""
    if name == "float64" and not jax.config.read("jax_enable_x64"):
        jax.config.update("jax_enable_x64", True)
    return jnp.dtype(DTYPES[name])


def precision(tf32: bool) -> jax.lax.Precision | None:
    """The matrix products' precision for `training.tf32`: JAX's default (TF32 on recent
    NVIDIA GPUs) when allowed, full float32 ("highest") when not. It changes nothing on
    the CPU or in float64."""
    return None if tf32 else jax.lax.Precision.HIGHEST


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _one_thread(flags: str) -> bool:
    return ONE_THREAD_FLAG in flags.split()


def set_threads(threads: int) -> None:
    """Run XLA's CPU operations on one thread (`threads=1`) or on one per core (`threads`
    = the number of cores), by XLA_FLAGS, before JAX's CPU backend starts."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads: must be an integer ≥ 1, got {threads!r}")
    cores = _cores()
    if 1 < threads < cores:
        raise ValueError(
            f"threads: XLA's CPU backend runs on 1 thread or on all {cores} cores, "
            f"not {threads}; use 1 or {cores}"
        )
    flags = os.environ.get("XLA_FLAGS", "")
    if _one_thread(flags) == (threads == 1):
        return
    if xla_bridge.backends_are_initialized():
        raise RuntimeError(
            f"threads: JAX's CPU backend has already started on {cpu_threads()} thread(s), "
            "and XLA reads its thread flag only then: call mlp_jax.set_threads "
            "before the first JAX computation, or start Python with "
            f'XLA_FLAGS="{ONE_THREAD_FLAG}" for one thread'
        )
    words = [word for word in flags.split() if word != ONE_THREAD_FLAG]
    os.environ["XLA_FLAGS"] = " ".join([*words, ONE_THREAD_FLAG] if threads == 1 else words)


def cpu_threads() -> int:
    """The threads XLA's CPU backend computes on: 1 with the one-thread flag, else one
    per core."""
    return 1 if _one_thread(os.environ.get("XLA_FLAGS", "")) else _cores()
