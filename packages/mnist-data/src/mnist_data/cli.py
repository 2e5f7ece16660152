"""The ``mnist-data`` command line (also ``python -m mnist_data``): ``download`` fills the
cache, ``info`` describes it."""

import sys

import click
import numpy as np

from mnist_data import __version__, read_split
from mnist_data.cache import resolve_data_dir
from mnist_data.download import (
    DEFAULT_TIMEOUT,
    FILES,
    MIRROR_ENV,
    SPLITS,
    DownloadError,
    ensure_files,
    verify,
)
from mnist_data.idx import IdxError

DIR_OPTION = click.option(
    "--dir",
    "data_dir",
    type=click.Path(file_okay=False),
    help="Cache folder (default: $MNIST_DATA_DIR, else the checkout's data/, else the "
    "per-user cache folder, e.g. ~/.cache/mnist-data).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mnist-data")
def main() -> None:
    """Download, verify and describe the four original MNIST files."""


@main.command()
@DIR_OPTION
@click.option(
    "--mirror",
    "mirrors",
    multiple=True,
    help=f"Mirror tried first: a folder, file:// or http(s):// URL. Repeatable; ${MIRROR_ENV} "
    "(comma-separated) comes next, then the public mirrors.",
)
@click.option(
    "--timeout",
    type=float,
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds without data before a network mirror is abandoned.",
)
def download(data_dir: str | None, mirrors: tuple[str, ...], timeout: float) -> None:
    """Download the four MNIST files into the cache and verify their checksums."""
    folder = resolve_data_dir(data_dir)
    try:
        paths = ensure_files(list(FILES), folder, mirrors=mirrors, timeout=timeout)
    except DownloadError as error:
        raise click.ClickException(str(error)) from None
    for path in paths:
        click.echo(f"{path}  sha256 {FILES[path.name].sha256}  verified")


@main.command()
@DIR_OPTION
def info(data_dir: str | None) -> None:
    """Describe the cache: files and checksums, items and counts per class, pixel mean."""
    folder = resolve_data_dir(data_dir)
    click.echo(f"cache: {folder}")
    missing = False
    for remote in FILES.values():
        path = folder / remote.name
        state = "verified" if verify(path, remote) else "missing" if not path.exists() else "BAD"
        missing |= state != "verified"
        click.echo(f"  {remote.name:28} {remote.size:>9} bytes  sha256 {remote.sha256}  {state}")
    if missing:
        click.echo("Some files are missing or bad: run `mnist-data download`.", err=True)
        sys.exit(1)
    for split in SPLITS:
        try:
            images, labels = read_split(split, folder)
        except IdxError as error:
            raise click.ClickException(str(error)) from None
        per_class = np.bincount(labels, minlength=10)
        counts = " ".join(f"{digit}:{n}" for digit, n in enumerate(per_class))
        click.echo(f"{split}: {len(labels)} images, pixel mean {images.mean():.2f}")
        click.echo(f"  per class {counts}")
