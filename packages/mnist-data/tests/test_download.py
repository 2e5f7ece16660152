"""Downloading for real: from folders, file:// URLs and an HTTP server on 127.0.0.1."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import remote_file

import mnist_data
from mnist_data import download
from mnist_data.download import DownloadError, ensure_files, fetch, mirror_list

CONTENT = bytes(range(256)) * 40  # 10240 bytes standing in for an MNIST file
SAMPLE = remote_file("sample.gz", CONTENT)
SHORT = 0.5  # seconds: the timeout for the hanging mirrors

BAD_MODES = {
    "truncated": "truncated",
    "flipped": "sha256 mismatch",
    "missing": "HTTP 404",
    "hang": "timed out",
    "stall": "timed out",
}


@pytest.fixture
def sample_mirror(http_mirror):
    http_mirror.files[SAMPLE.name] = CONTENT
    return http_mirror


def test_good_http_mirror_delivers_the_file(tmp_path, sample_mirror):
    fetch(SAMPLE, tmp_path / SAMPLE.name, [sample_mirror("good")], timeout=SHORT)
    assert (tmp_path / SAMPLE.name).read_bytes() == CONTENT
    assert os.listdir(tmp_path) == [SAMPLE.name]


@pytest.mark.parametrize("mode", BAD_MODES)
def test_bad_mirror_falls_through_to_the_next(tmp_path, sample_mirror, mode):
    mirrors = [sample_mirror(mode), sample_mirror("good")]
    fetch(SAMPLE, tmp_path / SAMPLE.name, mirrors, timeout=SHORT)
    assert (tmp_path / SAMPLE.name).read_bytes() == CONTENT
    assert sample_mirror.requests == [f"/{mode}/{SAMPLE.name}", f"/good/{SAMPLE.name}"]
    assert os.listdir(tmp_path) == [SAMPLE.name]


@pytest.mark.parametrize("mode", BAD_MODES)
def test_bad_mirror_alone_fails_clearly_and_leaves_nothing(tmp_path, sample_mirror, mode):
    with pytest.raises(DownloadError) as caught:
        fetch(SAMPLE, tmp_path / SAMPLE.name, [sample_mirror(mode)], timeout=SHORT)
    message = str(caught.value)
    assert f"{sample_mirror(mode)}: " in message
    assert BAD_MODES[mode] in message
    assert "MNIST_MIRROR" in message and "--mirror" in message
    assert os.listdir(tmp_path) == []


def test_error_lists_every_mirror_with_its_reason(tmp_path, sample_mirror):
    mirrors = [sample_mirror(mode) for mode in BAD_MODES] + [str(tmp_path / "nowhere")]
    with pytest.raises(DownloadError) as caught:
        fetch(SAMPLE, tmp_path / SAMPLE.name, mirrors, timeout=SHORT)
    lines = str(caught.value).splitlines()
    for mirror, reason in zip(mirrors, [*BAD_MODES.values(), "no such file"], strict=True):
        assert any(line.startswith(f"  {mirror}: ") and reason in line for line in lines)


def test_wrong_md5_is_rejected_even_with_the_right_sha256(tmp_path, sample_mirror):
    wrong_md5 = SAMPLE._replace(md5="0" * 32)
    with pytest.raises(DownloadError, match="md5 mismatch"):
        fetch(wrong_md5, tmp_path / SAMPLE.name, [sample_mirror("good")], timeout=SHORT)
    assert os.listdir(tmp_path) == []


def test_a_longer_file_is_rejected(tmp_path, sample_mirror):
    shorter = remote_file(SAMPLE.name, CONTENT[:-1])
    with pytest.raises(DownloadError, match="more than the expected 10239 bytes"):
        fetch(shorter, tmp_path / SAMPLE.name, [sample_mirror("good")], timeout=SHORT)
    assert os.listdir(tmp_path) == []


def test_folder_and_file_url_mirrors(tmp_path):
    source = tmp_path / "mirror"
    source.mkdir()
    (source / SAMPLE.name).write_bytes(CONTENT)
    for mirror in [str(source), source.as_uri()]:
        cache = tmp_path / f"cache-{len(mirror)}"
        cache.mkdir()
        fetch(SAMPLE, cache / SAMPLE.name, [mirror])
        assert (cache / SAMPLE.name).read_bytes() == CONTENT


def test_truncated_file_in_a_folder_mirror_is_rejected(tmp_path):
    source = tmp_path / "mirror"
    source.mkdir()
    (source / SAMPLE.name).write_bytes(CONTENT[:100])
    cache = tmp_path / "cache"
    cache.mkdir()
    with pytest.raises(DownloadError, match=f"truncated: 100 of {len(CONTENT)} bytes"):
        fetch(SAMPLE, cache / SAMPLE.name, [str(source)])
    assert os.listdir(cache) == []


def test_verified_files_are_not_downloaded_again(tmp_path, http_mirror, mirror_dir):
    name = "t10k-labels-idx1-ubyte.gz"
    http_mirror.files[name] = (mirror_dir / name).read_bytes()
    ensure_files([name], tmp_path, mirrors=[http_mirror("good")])
    ensure_files([name], tmp_path, mirrors=[http_mirror("good")])
    assert http_mirror.requests == [f"/good/{name}"]


def test_a_corrupt_cached_file_is_replaced(tmp_path, http_mirror, mirror_dir):
    name = "t10k-labels-idx1-ubyte.gz"
    true_bytes = (mirror_dir / name).read_bytes()
    http_mirror.files[name] = true_bytes
    (tmp_path / name).write_bytes(true_bytes[:-1] + b"x")
    ensure_files([name], tmp_path, mirrors=[http_mirror("good")])
    assert (tmp_path / name).read_bytes() == true_bytes


def test_mirror_order_is_arguments_then_environment_then_defaults(monkeypatch):
    monkeypatch.setenv("MNIST_MIRROR", " /b , http://c/x/,, /a")
    assert mirror_list(["/a"]) == ["/a", "/b", "http://c/x/", *download.DEFAULT_MIRRORS]
    assert download.DEFAULT_MIRRORS[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    assert download.DEFAULT_MIRRORS[1] == "https://storage.googleapis.com/cvdf-datasets/mnist/"
    assert not any("lecun.com" in mirror for mirror in download.DEFAULT_MIRRORS)  # gone


def test_load_through_the_env_mirror_over_http(tmp_path, monkeypatch, http_mirror, mirror_dir):
    for name in mnist_data.SPLITS["test"]:
        http_mirror.files[name] = (mirror_dir / name).read_bytes()
    monkeypatch.setenv("MNIST_MIRROR", http_mirror("good"))
    monkeypatch.setattr(download, "DEFAULT_MIRRORS", ())
    images, labels = mnist_data.load("test", data_dir=tmp_path)
    assert images.shape == (10000, 28, 28) and np.bincount(labels)[1] == 1135
    assert sorted(os.listdir(tmp_path)) == sorted(mnist_data.SPLITS["test"])


def test_load_fails_with_every_mirror_named_and_an_empty_cache(tmp_path, monkeypatch, http_mirror):
    monkeypatch.setenv("MNIST_MIRROR", f"{http_mirror('missing')},{tmp_path / 'nowhere'}")
    monkeypatch.setattr(download, "DEFAULT_MIRRORS", ())
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError) as caught:
        mnist_data.load("train", data_dir=cache)
    assert f"{http_mirror('missing')}: HTTP 404" in str(caught.value)
    assert f"{tmp_path / 'nowhere'}: no such file" in str(caught.value)
    assert os.listdir(cache) == []


def test_two_processes_downloading_at_once_both_succeed(tmp_path, http_mirror, mirror_dir):
    # The "together" mirror only answers once both processes ask for the same file, so
    # the two downloads of each file really overlap and both rename into the cache.
    for name in mnist_data.SPLITS["test"]:
        http_mirror.files[name] = (mirror_dir / name).read_bytes()
    script = textwrap.dedent(
        """
        import sys, mnist_data
        images, labels = mnist_data.load("test", data_dir=sys.argv[1], mirrors=[sys.argv[2]])
        assert images.shape == (10000, 28, 28), images.shape
        """
    )
    command = [sys.executable, "-c", script, str(tmp_path), http_mirror("together")]
    processes = [subprocess.Popen(command, stderr=subprocess.PIPE) for _ in range(2)]
    errors = [p.communicate(timeout=120)[1].decode() for p in processes]
    assert [p.returncode for p in processes] == [0, 0], errors
    assert sorted(http_mirror.requests) == sorted(
        f"/together/{name}" for name in mnist_data.SPLITS["test"] for _ in range(2)
    )
    assert sorted(os.listdir(tmp_path)) == sorted(mnist_data.SPLITS["test"])


def test_an_interrupted_download_leaves_nothing(tmp_path):
    def interrupted():
        yield CONTENT[:100]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download.copy_verified(interrupted(), SAMPLE, tmp_path / SAMPLE.name, progress=False)
    assert os.listdir(tmp_path) == []
