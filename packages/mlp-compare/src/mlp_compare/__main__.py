"""`python -m mlp_compare` is the `mlp-compare` command."""

from mlp_compare.cli import main

main()
