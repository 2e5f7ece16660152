"""Atomic writes: a reader sees the old file or the new one, never a partial one.

The downloads and the Kaggle CSV writer both write through `atomic_write`: into a
temporary file in the destination's folder, flushed to disk, then renamed over the
destination (`os.replace`, atomic on POSIX and Windows). The new file gets the
permissions of any newly created file (0o666 minus the umask), not the 0o600 that
`tempfile.mkstemp` gives.
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Yield a temporary file beside `path`, open in `mode` ("wb" or "w"); when the block
    ends without error it replaces `path`, otherwise it is removed and `path` is kept.

        with atomic_write("train.csv", "w") as file:
            file.write(text)
    """
    path = Path(path)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    temporary = Path(name)
    try:
        with os.fdopen(handle, mode) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set back at once)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask
