"""The IDX file format, in which MNIST is distributed.

An IDX file is a big-endian header followed by the raw array::

    bytes 0-1   zero
    byte  2     element type (0x08 = unsigned byte; the only type MNIST uses)
    byte  3     number of dimensions d
    then d      uint32 sizes, one per dimension
    then        prod(sizes) elements, row-major

MNIST images are 3-d (magic 0x00000803 = 2051: count, 28, 28) and labels 1-d
(magic 0x00000801 = 2049: count). Files may be gzip-compressed; the gzip
signature (1f 8b) tells, not the file name.
"""

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

UNSIGNED_BYTE = 0x08
GZIP_SIGNATURE = b"\x1f\x8b"


class IdxError(ValueError):
    """A file that is not a well-formed IDX file of the expected kind; the message names it."""


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse the bytes of one uncompressed IDX file into a uint8 array of its shape."""
    if len(data) < 4:
        raise IdxError(f"{name}: {len(data)} bytes, too short for an IDX header (4 bytes at least)")
    zero, element_type, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0:
        raise IdxError(f"{name}: not an IDX file (magic {data[:4].hex()} does not start with 0000)")
    if element_type != UNSIGNED_BYTE:
        raise IdxError(
            f"{name}: element type 0x{element_type:02x} is not supported (only 0x08, unsigned byte)"
        )
    if ndim == 0:
        raise IdxError(f"{name}: header declares 0 dimensions")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise IdxError(
            f"{name}: truncated header: {ndim} dimensions need {header_size} bytes, "
            f"the file has {len(data)}"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    expected = math.prod(shape)
    if math.prod(size or 1 for size in shape) > np.iinfo(np.intp).max:
        raise IdxError(f"{name}: shape {shape} is too large for any array")  # even with a 0 in it
    found = len(data) - header_size
    if found < expected:
        raise IdxError(
            f"{name}: truncated: shape {shape} needs {expected} bytes of data, found {found}"
        )
    if found > expected:
        raise IdxError(
            f"{name}: {found - expected} unexpected bytes after the data of shape {shape}"
        )
    array = np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)
    return array.copy()  # writable and independent of `data`


def decompress_if_gzip(data: bytes, name: str = "<bytes>") -> bytes:
    """Return `data` itself, or its gzip decompression when it starts with the gzip signature."""
    if not data.startswith(GZIP_SIGNATURE):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise IdxError(f"{name}: corrupt gzip data ({error})") from None


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file, gzipped or raw, into a uint8 array."""
    path = Path(path)
    return parse_idx(decompress_if_gzip(path.read_bytes(), path.name), path.name)


def check_images(images: np.ndarray, name: str) -> np.ndarray:
    """Check that a parsed array is an MNIST image array: (N, 28, 28)."""
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise IdxError(f"{name}: expected images of shape (N, 28, 28), found shape {images.shape}")
    return images


def check_labels(labels: np.ndarray, name: str) -> np.ndarray:
    """Check that a parsed array is an MNIST label array: (N,) with values 0-9."""
    if labels.ndim != 1:
        raise IdxError(f"{name}: expected labels of shape (N,), found shape {labels.shape}")
    if labels.size and labels.max() > 9:
        raise IdxError(f"{name}: label {int(labels.max())} is not a digit 0-9")
    return labels
