"""Download the four MNIST files from a list of mirrors, verified and cached atomically.

Each file is streamed into a temporary file in the cache folder while its sha256 and
md5 are computed; only when size and both checksums match the published values is it
renamed (`os.replace`, atomic) to its final name (`mnist_data.files.atomic_write`).
So the cache never holds a partial or corrupt file, and two processes filling the same
cache at once both succeed: each writes its own temporary file and the second rename
replaces identical bytes.

A mirror is an ``https://`` or ``http://`` URL, a ``file://`` URL or a plain folder; the
file name is appended to it. Mirrors are tried in order; a network error, a timeout, a
missing file or a checksum mismatch moves on to the next one. The defaults are two
public mirrors of the original files: PyTorch's (torchvision downloads from it), then
Google's CVDF copy (TensorFlow Datasets downloads from it). LeCun's page, the original
source, no longer serves them.
"""

import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, NamedTuple

import click

from mnist_data.files import atomic_write


class RemoteFile(NamedTuple):
    """A published MNIST file: its name, size in bytes and checksums."""

    name: str
    size: int
    md5: str
    sha256: str


FILES: dict[str, RemoteFile] = {
    f.name: f
    for f in (
        RemoteFile(
            "train-images-idx3-ubyte.gz",
            9912422,
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        ),
        RemoteFile(
            "train-labels-idx1-ubyte.gz",
            28881,
            "d53e105ee54ea40749a09fcbcd1e9432",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ),
        RemoteFile(
            "t10k-images-idx3-ubyte.gz",
            1648877,
            "9fb629c4189551a2d022fa330f9573f3",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        ),
        RemoteFile(
            "t10k-labels-idx1-ubyte.gz",
            4542,
            "ec29112dd5afa0611ce80d1b7f02629c",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
    )
}

SPLITS: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

DEFAULT_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # PyTorch's, used by torchvision
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # used by TensorFlow Datasets
)

MIRROR_ENV = "MNIST_MIRROR"
DEFAULT_TIMEOUT = 30.0  # seconds without progress before a network mirror is given up
CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """Every mirror failed for a file; the message lists each mirror and why."""


class MirrorFailure(Exception):
    """One mirror could not deliver one file (the reason is the message)."""


def mirrors_from_env() -> list[str]:
    """The mirrors in ``$MNIST_MIRROR``: comma-separated, blanks ignored.

    Commas, not ``os.pathsep``: on POSIX the path separator ``:`` is part of every URL.
    """
    return [m.strip() for m in os.environ.get(MIRROR_ENV, "").split(",") if m.strip()]


def mirror_list(extra: Sequence[str] = ()) -> list[str]:
    """Mirrors in the order they are tried: `extra`, then ``$MNIST_MIRROR``, then the defaults."""
    ordered = [*extra, *mirrors_from_env(), *DEFAULT_MIRRORS]
    return list(dict.fromkeys(ordered))  # drop repeats, keep the first position


def verify(path: Path, remote: RemoteFile) -> bool:
    """Whether `path` has exactly the published size and sha256 of `remote`."""
    if not path.is_file() or path.stat().st_size != remote.size:
        return False
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest() == remote.sha256


def ensure_files(
    names: Sequence[str],
    data_dir: Path,
    *,
    mirrors: Sequence[str] = (),
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool | None = None,
) -> list[Path]:
    """Make sure each named file is in `data_dir`, verified; download the ones that are not.

    `mirrors` are tried before ``$MNIST_MIRROR`` and the default mirrors. `progress`
    shows a progress bar on stderr; ``None`` means: when stderr is a terminal.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        remote = FILES[name]
        path = data_dir / name
        if not verify(path, remote):
            fetch(remote, path, mirror_list(mirrors), timeout=timeout, progress=progress)
        paths.append(path)
    return paths


def fetch(
    remote: RemoteFile,
    path: Path,
    mirrors: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool | None = None,
) -> None:
    """Download `remote` to `path` from the first mirror that delivers it intact."""
    if progress is None:
        progress = sys.stderr.isatty()
    failures = []
    for mirror in mirrors:
        try:
            with open_source(mirror, remote.name, timeout) as source:
                copy_verified(read_chunks(source, timeout), remote, path, progress=progress)
            return
        except MirrorFailure as failure:
            failures.append(f"  {mirror}: {failure}")
    raise DownloadError(
        f"could not download {remote.name}; every mirror failed:\n"
        + "\n".join(failures)
        + f"\nTo use a local copy of the MNIST files, pass its folder with --mirror DIR or set"
        f" {MIRROR_ENV}=DIR (comma-separated for several; file:// and http(s):// URLs work too)."
    )


def open_source(mirror: str, name: str, timeout: float) -> IO[bytes]:
    """Open `name` on `mirror` for reading; failing to reach it raises `MirrorFailure`."""
    scheme = urllib.parse.urlsplit(mirror).scheme.lower()
    try:
        if scheme in ("http", "https"):
            url = urllib.parse.urljoin(mirror.rstrip("/") + "/", name)
            return urllib.request.urlopen(url, timeout=timeout)
        if scheme == "file":
            folder = Path(urllib.request.url2pathname(urllib.parse.urlsplit(mirror).path))
        else:
            folder = Path(mirror).expanduser()
        return (folder / name).open("rb")
    except (OSError, http.client.HTTPException) as error:
        raise mirror_failure(error, timeout) from None


def read_chunks(source: IO[bytes], timeout: float) -> Iterator[bytes]:
    """The bytes of `source` in chunks; failing to read raises `MirrorFailure`."""
    while True:
        try:
            chunk = source.read(CHUNK)
        except (OSError, http.client.HTTPException) as error:
            raise mirror_failure(error, timeout) from None
        if not chunk:
            return
        yield chunk


def mirror_failure(error: Exception, timeout: float) -> MirrorFailure:
    """A short reason for a failure to open or read a mirror."""
    if isinstance(error, urllib.error.HTTPError):
        return MirrorFailure(f"HTTP {error.code} {error.reason}")
    if isinstance(error, urllib.error.URLError) and not isinstance(error.reason, TimeoutError):
        return MirrorFailure(f"cannot connect ({error.reason})")
    if isinstance(error, urllib.error.URLError | TimeoutError):  # URLError here wraps a timeout
        return MirrorFailure(f"timed out (no data for {timeout:g} s)")
    if isinstance(error, http.client.IncompleteRead):
        return MirrorFailure("truncated: the connection closed before the end")
    if isinstance(error, FileNotFoundError):
        return MirrorFailure("no such file")
    return MirrorFailure(f"{type(error).__name__}: {error}")


def copy_verified(
    chunks: Iterator[bytes], remote: RemoteFile, path: Path, *, progress: bool
) -> None:
    """Write `chunks` to a temporary file beside `path`, check it, then rename it into place.

    Errors writing the cache itself (a full disk, no permission) are not the mirror's
    fault: they propagate as they are.
    """
    sha256, md5 = hashlib.sha256(), hashlib.md5()
    size = 0
    bar = click.progressbar(
        length=remote.size, label=remote.name, file=sys.stderr, hidden=not progress
    )
    with atomic_write(path) as out, bar:
        for chunk in chunks:
            size += len(chunk)
            if size > remote.size:
                raise MirrorFailure(f"more than the expected {remote.size} bytes")
            sha256.update(chunk)
            md5.update(chunk)
            out.write(chunk)
            bar.update(len(chunk))
        if size != remote.size:
            raise MirrorFailure(f"truncated: {size} of {remote.size} bytes")
        if sha256.hexdigest() != remote.sha256:
            raise MirrorFailure(f"sha256 mismatch ({sha256.hexdigest()} != {remote.sha256})")
        if md5.hexdigest() != remote.md5:
            raise MirrorFailure(f"md5 mismatch ({md5.hexdigest()} != {remote.md5})")
