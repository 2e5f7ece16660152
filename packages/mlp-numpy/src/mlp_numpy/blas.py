"""Setting the number of BLAS threads of the OpenBLAS that NumPy loaded.

Small matrix products (a batch of 64 through a 784-128-64-10 network) often run
faster on one thread than on two: the threads' start-up and synchronization cost
more than they save. NumPy's wheels bundle OpenBLAS under a prefixed name
(`scipy_openblas_set_num_threads64_`); other builds export `openblas_set_num_threads`.
"""

from __future__ import annotations

import ctypes
import glob
import os
from pathlib import Path

import numpy as np

_SETTERS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)
_GETTERS = (
    "scipy_openblas_get_num_threads64_",
    "scipy_openblas_get_num_threads",
    "openblas_get_num_threads64_",
    "openblas_get_num_threads",
)


def _candidate_libraries() -> list[str]:
    """Shared libraries that may be NumPy's OpenBLAS: those loaded into this process
    whose name mentions openblas (from /proc/self/maps on Linux), then those bundled
    beside NumPy in its wheel."""
    found: list[str] = []
    maps = Path("/proc/self/maps")
    if maps.exists():
        for line in maps.read_text().splitlines():
            path = line.split()[-1]
            if "openblas" in path.lower() and path not in found:
                found.append(path)
    numpy_dir = Path(np.__file__).parent
    for pattern in ("../numpy.libs/*openblas*", ".dylibs/*openblas*", "../numpy.libs/*blas*"):
        for path in sorted(glob.glob(str(numpy_dir / pattern))):
            if os.path.realpath(path) not in map(os.path.realpath, found):
                found.append(path)
    return found


def _find(names: tuple[str, ...]):
    for library in _candidate_libraries():
        try:
            handle = ctypes.CDLL(library)
        except OSError:
            continue
        for name in names:
            function = getattr(handle, name, None)
            if function is not None:
                return function
    return None


def set_blas_threads(n: int) -> None:
    """Use `n` threads in NumPy's matrix products from now on."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n: the number of BLAS threads must be an integer ≥ 1, got {n!r}")
    setter = _find(_SETTERS)
    if setter is None:
        raise RuntimeError(
            "set_blas_threads: no OpenBLAS library was found in this process; set the "
            f"environment variable OPENBLAS_NUM_THREADS={n} before starting Python instead"
        )
    setter.argtypes = [ctypes.c_int]
    setter(n)


def blas_threads() -> int:
    """The number of threads NumPy's OpenBLAS uses now."""
    getter = _find(_GETTERS)
    if getter is None:
        raise RuntimeError("blas_threads: no OpenBLAS library was found in this process")
    getter.restype = ctypes.c_int
    return int(getter())
