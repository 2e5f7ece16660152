"""``python -m mnist_data``: the ``mnist-data`` command line."""

from mnist_data.cli import main

main(prog_name="mnist-data")
