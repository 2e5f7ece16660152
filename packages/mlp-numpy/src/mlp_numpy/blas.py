"""Two things NumPy does not expose from the OpenBLAS it ships: the thread count, and a
product added into an existing array.

Small matrix products (a batch of 64 through a 784-128-64-10 network) often run
faster on one thread than on two: the threads' start-up and synchronization cost
more than they save. And NumPy's products always overwrite their output, so a weight
update W ← W − Dᵀ X costs three passes over an array the size of W (write the product,
read it back, write W) where BLAS needs one (`SubtractProduct`).

NumPy's wheels bundle OpenBLAS with prefixed, suffixed names (`scipy_cblas_sgemm64_`:
prefix "scipy_", suffix "64_" for 64-bit integers); other builds use the plain names.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os
from pathlib import Path

import numpy as np

_NAMINGS = (("scipy_", "64_"), ("scipy_", ""), ("", "64_"), ("", ""))  # (prefix, suffix)
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112  # CBLAS enum values


class _OpenBLAS:
    """One loaded OpenBLAS library and the naming its symbols follow."""

    def __init__(self, library: ctypes.CDLL, prefix: str, suffix: str) -> None:
        self.library, self.prefix, self.suffix = library, prefix, suffix

    def function(self, name: str):
        """The library's function `name` (e.g. "cblas_sgemm"), under its naming."""
        return getattr(self.library, f"{self.prefix}{name}{self.suffix}")

    def integer(self) -> type[ctypes.c_int] | type[ctypes.c_int64]:
        """The C type of BLAS dimensions: 64-bit when built with INTERFACE64."""
        config = self.function("openblas_get_config")
        config.restype = ctypes.c_char_p
        return ctypes.c_int64 if b"USE64BITINT" in config() else ctypes.c_int


def _candidate_libraries() -> list[str]:
    """Shared libraries that may be NumPy's OpenBLAS: those bundled beside NumPy in its
    wheel, then those loaded into this process whose name mentions openblas (from
    /proc/self/maps on Linux)."""
    numpy_dir = Path(np.__file__).parent
    found: list[str] = []
    for pattern in ("../numpy.libs/*openblas*", ".dylibs/*openblas*", "../numpy.libs/*blas*"):
        found += sorted(glob.glob(str(numpy_dir / pattern)))
    maps = Path("/proc/self/maps")
    if maps.exists():
        for line in maps.read_text().splitlines():
            path = line.split()[-1]
            if "openblas" in path.lower():
                found.append(path)
    unique: dict[str, str] = {}  # the first path found for each file
    for path in found:
        unique.setdefault(os.path.realpath(path), path)
    return list(unique.values())


@functools.cache
def _openblas() -> _OpenBLAS | None:
    """NumPy's OpenBLAS, or None where it cannot be found (then NumPy alone is used)."""
    for path in _candidate_libraries():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in _NAMINGS:
            if hasattr(library, f"{prefix}openblas_set_num_threads{suffix}"):
                return _OpenBLAS(library, prefix, suffix)
    return None


def set_blas_threads(n: int) -> None:
    """Use `n` threads in NumPy's matrix products from now on."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n: the number of BLAS threads must be an integer ≥ 1, got {n!r}")
    openblas = _openblas()
    if openblas is None:
        raise RuntimeError(
            "set_blas_threads: no OpenBLAS library was found in this process; set the "
            f"environment variable OPENBLAS_NUM_THREADS={n} before starting Python instead"
        )
    setter = openblas.function("openblas_set_num_threads")
    setter.argtypes = [ctypes.c_int]
    setter(n)


def blas_threads() -> int:
    """The number of threads NumPy's OpenBLAS uses now."""
    openblas = _openblas()
    if openblas is None:
        raise RuntimeError("blas_threads: no OpenBLAS library was found in this process")
    getter = openblas.function("openblas_get_num_threads")
    getter.restype = ctypes.c_int
    return int(getter())


@functools.cache
def _gemm(dtype: np.dtype):
    """OpenBLAS's cblas_sgemm or cblas_dgemm with its argument types, or None."""
    openblas = _openblas()
    if openblas is None:
        return None
    try:
        gemm = openblas.function("cblas_sgemm" if dtype == np.float32 else "cblas_dgemm")
    except AttributeError:  # an OpenBLAS built without its CBLAS interface
        return None
    real = ctypes.c_float if dtype == np.float32 else ctypes.c_double
    integer, pointer = openblas.integer(), ctypes.c_void_p
    # order, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc
    matrix = [pointer, integer]  # an address and its leading dimension
    gemm.argtypes = [ctypes.c_int] * 3 + [integer] * 3 + [real, *matrix * 2, real, *matrix]
    gemm.restype = None
    return gemm


class SubtractProduct:
    """c ← c − a[:k]ᵀ b[:k] for fixed arrays c (m, n), a (rows, m), b (rows, n).

    BLAS's GEMM computes C ← α A B + β C; with α = −1 and β = 1 it subtracts the
    product from c as it computes it, in one pass over c. NumPy would write the product
    into a temporary array, then read it back to subtract it. Both sum the same terms,
    so the results agree to rounding. The arrays' addresses are taken once, here, as
    taking them costs more than a small product. Where OpenBLAS is not found, the
    two-step NumPy form is used.
    """

    def __init__(self, c: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        m, n = c.shape
        if a.ndim != 2 or b.ndim != 2 or a.shape[1] != m or b.shape[1] != n:
            raise ValueError(f"shapes {a.shape}ᵀ {b.shape} do not give {c.shape}")
        if len(a) != len(b) or not a.dtype == b.dtype == c.dtype:
            raise ValueError(f"a, b: expected {len(a)} rows each and dtype {c.dtype}")
        if not (a.flags.c_contiguous and b.flags.c_contiguous and c.flags.c_contiguous):
            raise ValueError("a, b and c must be C-contiguous")
        self.c, self.a, self.b = c, a, b
        self.gemm = _gemm(c.dtype) if c.dtype in (np.float32, np.float64) else None
        if self.gemm is not None:
            self.address = (a.ctypes.data, b.ctypes.data, c.ctypes.data)
        else:
            self.product = np.empty_like(c)

    def __call__(self, k: int) -> None:
        if not 0 <= k <= len(self.a):
            raise ValueError(f"k: expected 0 ≤ k ≤ {len(self.a)}, got {k}")
        if self.gemm is None:
            np.dot(self.a[:k].T, self.b[:k], out=self.product)
            self.c -= self.product
            return
        (m, n), (a, b, c) = self.c.shape, self.address
        self.gemm(_ROW_MAJOR, _TRANS, _NO_TRANS, m, n, k, -1.0, a, m, b, n, 1.0, c, n)
