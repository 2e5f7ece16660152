"""The weight format (docs/weight-format.md): a safetensors file any backend can read.

Tensors `layers.{i}.weight` (out_features, in_features) and `layers.{i}.bias`
(out_features,), all float32 or all float64; text metadata `format`,
`format_version`, `network` (JSON), `producer`, optionally `spec` (JSON) and, in
version 2, `preprocessing` (JSON, see `mlp_numpy.preprocessing`). A file with a
preprocessing is written as version 2, one without as version 1.

Loading parses the safetensors container itself (an 8-byte little-endian header
length, a JSON header, then raw little-endian data packed back to back) as strictly
as the safetensors library does, so that every defect, from random bytes to
overlapping tensors or a tensor of the wrong shape, becomes a `WeightFormatError`
that names it. Nothing in the file is ever executed.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from safetensors.numpy import save as safetensors_bytes

from .files import write_atomic
from .layer import Layer
from .preprocessing import Preprocessing, PreprocessingError
from .spec import (
    ModelSpec,
    Network,
    SpecError,
    network_from_dict,
    network_to_dict,
)

FORMAT_NAME = "mlp-weights"
VERSIONS = ("1", "2")  # the exact `format_version` strings this reader accepts
DTYPES: dict[str, np.dtype[Any]] = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
MAX_HEADER_BYTES = 100_000_000  # the safetensors limit
T = TypeVar("T")


class WeightFormatError(ValueError):
    """A weight file is malformed or contradicts its network; the message says how."""


@dataclass(frozen=True)
class WeightFile:
    """The content of a weight file."""

    layers: list[Layer]
    network: Network
    spec: ModelSpec | None
    producer: str
    format_version: int
    preprocessing: Preprocessing | None = None


def tensor_names(network: Network) -> list[str]:
    """The tensors a file for `network` holds, in layer order."""
    names = []
    for i in range(len(network.layers) - 1):
        names.append(f"layers.{i}.weight")
        if network.bias:
            names.append(f"layers.{i}.bias")
    return names


def save_weights(
    path: str | os.PathLike[str],
    layers: list[Layer],
    network: Network,
    *,
    producer: str,
    spec: ModelSpec | None = None,
    preprocessing: Preprocessing | None = None,
) -> None:
    """Write `layers` of `network` to `path` atomically (temporary file + rename).

    With a `preprocessing` (how the training inputs were prepared) the file is version 2
    and `load(...).predict` applies it to raw images; without one, version 1.
    """
    if spec is not None and spec.network != network:
        raise ValueError("spec: its network differs from the network being saved")
    if preprocessing is not None and preprocessing.features != network.layers[0]:
        raise ValueError(_shape_mismatch(preprocessing, network))
    tensors: dict[str, np.ndarray] = {}
    for i, (weight, bias) in enumerate(layers):
        tensors[f"layers.{i}.weight"] = np.ascontiguousarray(weight)
        if bias is not None:
            tensors[f"layers.{i}.bias"] = np.ascontiguousarray(bias)
    metadata = {
        "format": FORMAT_NAME,
        "format_version": "1" if preprocessing is None else "2",
        "network": json.dumps(network_to_dict(network)),
        "producer": producer,
    }
    if spec is not None:
        metadata["spec"] = json.dumps(spec.to_dict())
    if preprocessing is not None:
        metadata["preprocessing"] = json.dumps(preprocessing.to_dict())
    _check_tensors(tensors, network, spec)
    write_atomic(path, safetensors_bytes(tensors, metadata=metadata))


def load_weights(path: str | os.PathLike[str], *, expect: Network | None = None) -> WeightFile:
    """Read and fully check a weight file; `expect` also requires a given network."""
    data = Path(path).read_bytes()
    try:
        return parse_weights(data, expect=expect)
    except WeightFormatError as error:
        raise WeightFormatError(f"{path}: {error}") from None


def parse_weights(data: bytes, *, expect: Network | None = None) -> WeightFile:
    """`load_weights` on the bytes of a file."""
    header, body = _split(data)
    metadata = header.pop("__metadata__", None)
    metadata = _check_metadata(metadata)
    network = _parse_json(metadata, "network", network_from_dict)
    spec = None
    if "spec" in metadata:
        spec = _parse_json(metadata, "spec", ModelSpec.from_dict)
        if spec.network != network:
            raise WeightFormatError("metadata spec: its network differs from metadata network")
    preprocessing = None
    if "preprocessing" in metadata:
        preprocessing = _parse_json(metadata, "preprocessing", Preprocessing.from_dict)
        if preprocessing.features != network.layers[0]:
            raise WeightFormatError(f"metadata {_shape_mismatch(preprocessing, network)}")
    if expect is not None and network != expect:
        raise WeightFormatError(
            f"the file holds network {network_to_dict(network)}, expected {network_to_dict(expect)}"
        )
    ranges = {name: _data_range(name, entry, len(body)) for name, entry in header.items()}
    _check_packing(ranges, len(body))
    tensors = {name: _tensor(header[name], ranges[name], body) for name in header}
    _check_tensors(tensors, network, spec)
    layers = [
        Layer(tensors[f"layers.{i}.weight"], tensors.get(f"layers.{i}.bias"))
        for i in range(len(network.layers) - 1)
    ]
    version = int(metadata["format_version"])
    return WeightFile(layers, network, spec, metadata["producer"], version, preprocessing)


def _shape_mismatch(preprocessing: Preprocessing, network: Network) -> str:
    shape = " × ".join(map(str, preprocessing.input_shape))
    return (
        f"preprocessing: input_shape {shape} flattens to {preprocessing.features} inputs, "
        f"but the network's input layer has {network.layers[0]}"
    )


def _split(data: bytes) -> tuple[dict[str, Any], memoryview]:
    """The JSON header and the data buffer of a safetensors file."""
    if len(data) < 8:
        raise WeightFormatError(f"not a safetensors file: {len(data)} bytes is too short")
    (size,) = struct.unpack("<Q", data[:8])
    if size > MAX_HEADER_BYTES:
        raise WeightFormatError(
            f"not a safetensors file: header length {size} exceeds the safetensors limit "
            f"of {MAX_HEADER_BYTES} bytes"
        )
    if size > len(data) - 8:
        raise WeightFormatError(
            f"not a safetensors file: header length {size} does not fit a {len(data)}-byte file"
        )
    try:
        header = json.loads(data[8 : 8 + size].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise WeightFormatError(
            f"not a safetensors file: unreadable JSON header ({error})"
        ) from None
    if not isinstance(header, dict):
        raise WeightFormatError("not a safetensors file: the header is not a JSON object")
    return header, memoryview(data)[8 + size :]


def _check_metadata(metadata: Any) -> dict[str, str]:
    if not isinstance(metadata, dict):
        raise WeightFormatError(f"unknown format: no metadata (expected format = {FORMAT_NAME!r})")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise WeightFormatError("metadata: keys and values must be strings")
    accepted = " or ".join(f'"{v}"' for v in VERSIONS)
    if "format" not in metadata:
        raise WeightFormatError(f"metadata format: missing (expected {FORMAT_NAME!r})")
    if metadata["format"] != FORMAT_NAME:
        raise WeightFormatError(
            f"metadata format: unknown format {metadata['format']!r}, expected {FORMAT_NAME!r}"
        )
    if "format_version" not in metadata:
        raise WeightFormatError(f"metadata format_version: missing (expected {accepted})")
    version = metadata["format_version"]
    if version not in VERSIONS:
        raise WeightFormatError(
            f"metadata format_version: unsupported version {version!r}, "
            f"this reader accepts exactly {accepted}"
        )
    for key in ("network", "producer", *(["preprocessing"] if version == "2" else [])):
        if key not in metadata:
            raise WeightFormatError(f"metadata {key}: missing")
    known = {"format", "format_version", "network", "producer", "spec"}
    if version == "2":
        known.add("preprocessing")
    unknown = set(metadata) - known
    if unknown:
        raise WeightFormatError(
            f"metadata: unknown keys {sorted(unknown)} for format_version {version!r}"
        )
    return metadata


def _parse_json(metadata: dict[str, str], key: str, build: Callable[[Any], T]) -> T:
    try:
        return build(json.loads(metadata[key]))
    except (json.JSONDecodeError, RecursionError) as error:
        raise WeightFormatError(f"metadata {key}: not valid JSON ({error})") from None
    except (SpecError, PreprocessingError, TypeError) as error:
        raise WeightFormatError(f"metadata {key}: {error}") from None


def _data_range(name: str, entry: Any, buffer_size: int) -> tuple[int, int]:
    """The byte range `[begin, end)` of one tensor's header entry, checked against its
    dtype, its shape and the data buffer."""
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise WeightFormatError(f"tensor {name}: malformed header entry {entry!r}")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in DTYPES:
        raise WeightFormatError(f"tensor {name}: dtype {dtype!r}, expected F32 or F64")
    if not (isinstance(shape, list) and all(_is_size(s) for s in shape)):
        raise WeightFormatError(f"tensor {name}: bad shape {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_is_size, offsets))):
        raise WeightFormatError(f"tensor {name}: bad data_offsets {offsets!r}")
    begin, end = offsets
    expected = math.prod(shape) * DTYPES[dtype].itemsize
    if not begin <= end <= buffer_size or end - begin != expected:
        raise WeightFormatError(
            f"tensor {name}: data_offsets {offsets} do not hold {expected} bytes "
            f"within a {buffer_size}-byte buffer"
        )
    return begin, end


def _check_packing(ranges: dict[str, tuple[int, int]], buffer_size: int) -> None:
    """The tensors tile the data buffer: taken in offset order, each begins where the
    previous one ends, the first at 0 and the last at the buffer's end (no overlap, no
    gap, no trailing bytes; the safetensors library refuses all three)."""
    position, previous = 0, None
    for name, (begin, end) in sorted(ranges.items(), key=lambda item: item[1]):
        if begin < position:
            raise WeightFormatError(
                f"tensor {name}: data_offsets [{begin}, {end}] overlap tensor {previous} "
                f"(which ends at {position}); tensors must not share bytes"
            )
        if begin > position:
            raise WeightFormatError(
                f"tensor {name}: a gap of {begin - position} bytes before it "
                f"(bytes {position}..{begin} of the data buffer belong to no tensor); "
                "tensors must be packed back to back"
            )
        position, previous = end, name
    if position != buffer_size:
        raise WeightFormatError(
            f"{buffer_size - position} trailing bytes after the last tensor "
            f"(the tensors end at byte {position} of a {buffer_size}-byte data buffer)"
        )


def _tensor(entry: dict[str, Any], data_range: tuple[int, int], body: memoryview) -> np.ndarray:
    """The checked tensor of a header entry, copied out of the data buffer."""
    dtype = DTYPES[entry["dtype"]]
    begin, end = data_range
    flat = np.frombuffer(body[begin:end], dtype=dtype)
    return flat.reshape(entry["shape"]).astype(dtype.newbyteorder("="))


def _is_size(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_tensors(
    tensors: dict[str, np.ndarray], network: Network, spec: ModelSpec | None
) -> None:
    """Names, shapes, one float dtype (the spec's, when there is one), finite values."""
    expected = tensor_names(network)
    missing = [n for n in expected if n not in tensors]
    extra = sorted(set(tensors) - set(expected))
    if missing:
        raise WeightFormatError(f"missing tensors {missing} for network {network.layers}")
    if extra:
        raise WeightFormatError(f"unexpected tensors {extra} for network {network.layers}")
    dtypes = set()
    for i, (out_features, in_features) in enumerate(network.shapes):
        for part, shape in (("weight", (out_features, in_features)), ("bias", (out_features,))):
            name = f"layers.{i}.{part}"
            if name not in tensors:
                continue
            tensor = tensors[name]
            if tensor.shape != shape:
                raise WeightFormatError(
                    f"tensor {name}: shape {tensor.shape}, expected {shape} from the network"
                )
            if tensor.dtype not in (np.float32, np.float64):
                raise WeightFormatError(f"tensor {name}: dtype {tensor.dtype}, expected float")
            dtypes.add(tensor.dtype.name)
            if not np.isfinite(tensor).all():
                raise WeightFormatError(f"tensor {name}: holds NaN or infinite values")
    if len(dtypes) > 1:
        raise WeightFormatError(f"tensors mix dtypes {sorted(dtypes)}")
    if spec is not None and dtypes and dtypes != {spec.training.dtype}:
        raise WeightFormatError(
            f"tensors are {dtypes.pop()} but spec training.dtype is {spec.training.dtype}"
        )
