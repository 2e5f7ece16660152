"""Atomic writes: the new file appears whole, with a new file's permissions, or not at all."""

import os

import pytest

from mnist_data.files import atomic_write


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_a_write_replaces_the_file_with_a_new_files_permissions(tmp_path, umask):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    previous = os.umask(umask)
    try:
        with atomic_write(path) as file:
            file.write(b"new")
    finally:
        os.umask(previous)
    assert path.read_bytes() == b"new"
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert os.listdir(tmp_path) == ["f.bin"]


def test_an_error_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError, match="half way"), atomic_write(path, "w") as file:
        file.write("partial")
        raise RuntimeError("half way")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.txt"]
