"""The IDX parser on small files written here, each corruption, and fuzzed input."""

import gzip
import struct

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mnist_data import IdxError, read_split
from mnist_data.idx import parse_idx, read_idx


def idx_bytes(array: np.ndarray, element_type: int = 0x08) -> bytes:
    """An IDX file holding `array`, written the way the format describes it."""
    header = struct.pack(">HBB", 0, element_type, array.ndim)
    return header + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


IMAGES = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
LABELS = np.array([7, 0, 9], dtype=np.uint8)


def test_round_trip_of_images_and_labels():
    assert np.array_equal(parse_idx(idx_bytes(IMAGES)), IMAGES)
    assert np.array_equal(parse_idx(idx_bytes(LABELS)), LABELS)
    assert parse_idx(idx_bytes(LABELS)).dtype == np.uint8


def test_the_mnist_magic_numbers():
    assert idx_bytes(IMAGES)[:4] == struct.pack(">I", 2051)
    assert idx_bytes(LABELS)[:4] == struct.pack(">I", 2049)


def test_gzipped_and_raw_files_read_alike(tmp_path):
    (tmp_path / "raw").write_bytes(idx_bytes(IMAGES))
    (tmp_path / "packed.gz").write_bytes(gzip.compress(idx_bytes(IMAGES)))
    assert np.array_equal(read_idx(tmp_path / "raw"), read_idx(tmp_path / "packed.gz"))


def test_parsed_arrays_are_writable():
    parse_idx(idx_bytes(LABELS))[0] = 1


GOOD = idx_bytes(IMAGES)
CORRUPTIONS = {
    "too short": (GOOD[:3], "too short for an IDX header"),
    "not IDX": (b"\x12\x34" + GOOD[2:], "not an IDX file"),
    "float elements": (idx_bytes(IMAGES.astype(np.float32), 0x0D), "element type 0x0d"),
    "no dimensions": (b"\x00\x00\x08\x00", "0 dimensions"),
    "truncated header": (GOOD[:10], "truncated header"),
    "truncated data": (
        GOOD[:-1],
        "truncated: shape (3, 28, 28) needs 2352 bytes of data, found 2351",
    ),
    "trailing bytes": (GOOD + b"\x00\x00", "2 unexpected bytes"),
    "truncated gzip": (gzip.compress(GOOD)[:-20], "corrupt gzip"),
    "bad gzip crc": (gzip.compress(GOOD)[:-8] + b"\x00" * 8, "corrupt gzip"),
}


@pytest.mark.parametrize("case", CORRUPTIONS)
def test_each_corruption_names_the_file_and_the_problem(tmp_path, case):
    data, problem = CORRUPTIONS[case]
    path = tmp_path / "broken-idx3-ubyte"
    path.write_bytes(data)
    with pytest.raises(IdxError) as caught:
        read_idx(path)
    assert str(caught.value).startswith("broken-idx3-ubyte: ")
    assert problem in str(caught.value)


def write_split(folder, images: bytes, labels: bytes) -> None:
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(images))
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))


def test_a_split_reads_back(tmp_path):
    write_split(tmp_path, idx_bytes(IMAGES), idx_bytes(LABELS))
    images, labels = read_split("test", tmp_path)
    assert np.array_equal(images, IMAGES) and np.array_equal(labels, LABELS)


@pytest.mark.parametrize(
    ("images", "labels", "problem"),
    [
        (idx_bytes(LABELS), idx_bytes(LABELS), "t10k-images-idx3-ubyte.gz: expected images"),
        (idx_bytes(IMAGES[:, :, :27]), idx_bytes(LABELS), "found shape (3, 28, 27)"),
        (idx_bytes(IMAGES), idx_bytes(IMAGES), "t10k-labels-idx1-ubyte.gz: expected labels"),
        (idx_bytes(IMAGES), idx_bytes(np.array([1, 10, 2], np.uint8)), "label 10 is not a digit"),
        (idx_bytes(IMAGES), idx_bytes(LABELS[:2]), "has 3 images but"),
    ],
    ids=["labels as images", "wrong image size", "images as labels", "bad label", "count mismatch"],
)
def test_wrong_kind_or_inconsistent_files_are_named(tmp_path, images, labels, problem):
    write_split(tmp_path, images, labels)
    with pytest.raises(IdxError, match=r"^t10k-") as caught:
        read_split("test", tmp_path)
    assert problem in str(caught.value)


def check_fuzzed(data: bytes) -> None:
    try:
        array = parse_idx(data, "fuzz")
    except IdxError as error:
        assert str(error).startswith("fuzz: ")
    else:
        assert array.dtype == np.uint8 and array.size == len(data) - 4 - 4 * array.ndim


@given(st.binary(max_size=200))
def test_random_bytes_give_an_array_or_idx_error(data):
    check_fuzzed(data)


@given(
    st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=4),
    st.binary(max_size=100),
)
@example(shape=[0, 1971648, 1973334, 2370608], body=b"")  # 0 items, yet too large to reshape
def test_random_shapes_and_bodies_give_an_array_or_idx_error(shape, body):
    header = struct.pack(f">HBB{len(shape)}I", 0, 0x08, len(shape), *shape)
    check_fuzzed(header + body)


@given(st.binary(max_size=200))
def test_random_bytes_after_the_gzip_signature_give_idx_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.gz"
    path.write_bytes(b"\x1f\x8b" + data)
    try:
        read_idx(path)
    except IdxError as error:
        assert str(error).startswith("fuzz.gz: ")
