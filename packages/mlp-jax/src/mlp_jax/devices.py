"""Which devices can run the network, choosing one by name, and the process-wide JAX
settings a training depends on: float64, TF32 products, CPU threads.

- float64 needs `jax_enable_x64`: without it JAX makes every array float32, and
  `nnx.Linear(param_dtype=jnp.float64)` quietly gives float32 parameters (with a warning).
  With it, `param_dtype` still decides: a float32 module stays float32. `training_dtype`
  turns it on for the whole process (it also makes `jnp.arange` int64 and Python floats float64
  by default); float32 training gives the same numbers either way (see `optimizers`).
- TF32: JAX computes float32 matrix products in TensorFloat-32 on recent NVIDIA GPUs by
  default; `precision(tf32=False)` asks `nnx.Linear` for full float32 ("highest").
- Threads: XLA's CPU backend ignores OMP_NUM_THREADS, and its one flag
  (`--xla_cpu_multi_thread_eigen=false`) only stops it splitting single operations: it
  still runs independent operations at once, on a pool of one thread per CPU the process
  may use when the backend starts. `set_threads(n)` therefore limits the process to n CPUs
  (`os.sched_setaffinity`, what `taskset` does), the one it runs on first: XLA's pool has n
  threads, and no thread of the process, Python's included, runs beside them. Called after
  JAX's CPU backend started (its first computation or device query), it still confines the
  process to n CPUs, but the pool keeps the size it started with and its threads take turns
  on them. The thread pools the process already has (NumPy's BLAS, OpenMP) are limited to n
  threads too (threadpoolctl): more threads than CPUs spin waiting for each other (an
  OpenBLAS of two threads on one CPU made the reference's epoch about 100 times slower). Where the
  OS has no CPU affinity (macOS, Windows), one thread is the flag above, which XLA reads
  only when the backend starts.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax
import jax.numpy as jnp
from threadpoolctl import threadpool_limits

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


ONE_THREAD = "--xla_cpu_multi_thread_eigen=false"
# The CPUs the process may use when mlp_jax is imported; empty without CPU affinity.
ALL_CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def _current_cpu() -> int | None:
    """The CPU this process last ran on (field 39 of /proc/self/stat), if Linux says."""
    try:
        return int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[36])
    except (OSError, IndexError, ValueError):
        return None


def set_threads(threads: int) -> None:
    """Let this process, and so XLA's CPU thread pool, run on `threads` CPUs (see above)."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads: must be an integer ≥ 1, got {threads!r}")
    if not ALL_CPUS:  # no CPU affinity here: XLA's one-thread flag, for one thread
        flags = [flag for flag in os.environ.get("XLA_FLAGS", "").split() if flag != ONE_THREAD]
        os.environ["XLA_FLAGS"] = " ".join(flags + [ONE_THREAD] * (threads == 1))
        return
    if threads > len(ALL_CPUS):
        raise ValueError(f"threads: this process may run on {len(ALL_CPUS)} CPUs, not {threads}")
    current = _current_cpu()
    cpus = sorted(ALL_CPUS, key=lambda cpu: cpu != current)[:threads]
    for thread in os.listdir("/proc/self/task"):  # every thread; new ones inherit the set
        os.sched_setaffinity(int(thread), cpus)
    threadpool_limits(limits=threads)  # BLAS and OpenMP pools: as many threads as CPUs


def cpu_threads() -> int:
    """The CPUs XLA's CPU backend computes on: those the process may use (1 under the
    one-thread flag where there is no CPU affinity)."""
    if not ALL_CPUS:
        return 1 if ONE_THREAD in os.environ.get("XLA_FLAGS", "").split() else os.cpu_count() or 1
    return len(os.sched_getaffinity(0))
