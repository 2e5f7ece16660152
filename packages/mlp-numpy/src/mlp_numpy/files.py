"""Atomic file writes: a reader sees the old file or the new one, never a partial one.

Every package above `mlp-numpy` writes its weights, specs and results through here. A
write goes to a temporary file in the destination's folder, is flushed to disk, and is
then renamed over the destination (`os.replace`, atomic on POSIX and Windows). The new
file gets the permissions of any newly created file (0o666 minus the umask), not the
0o600 that `tempfile.mkstemp` gives.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class UnwritableError(OSError):
    """The destination's folder is missing or cannot be written; the message names it."""


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `path` (same suffix) to write to; on success it
    replaces `path`, on any error it is removed and `path` is left as it was.

        with atomic_path("model.keras") as temporary:
            model.save(temporary)
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise UnwritableError(f"{path}: the folder {folder} does not exist")
    try:
        handle, name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=path.suffix)
    except OSError as error:
        raise UnwritableError(f"{path}: cannot write in {folder}: {error.strerror}") from error
    os.close(handle)
    temporary = Path(name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # the permissions of a newly created file
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` atomically (see `atomic_path`), flushed to disk first."""
    with atomic_path(path) as temporary, open(temporary, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
