"""The backend conformance suite: what every backend must do, written once as pytest tests.

A backend's tests run it with their backend as the parameter, in a test module:

    from mlp_numpy.testing import BackendConformance

    class TestConformance(BackendConformance):
        backend = "torch"        # the entry point's name; None: every installed backend

The tests check, for that backend (`mlp_numpy.backends`):

- the `Backend` protocol of its registered module, and the `Engine` protocol of its engine;
- the modules every backend package has (`LAYOUT`), with their names and factories;
- weight files: what it trains and saves loads back with every number, here and in the
  reference, and its history is the reference's;
- parity with the reference under the backend's own conventions, `mlp_numpy.make_engine(
  conventions.resolve(spec, name), ...)`: float64 weights and losses within 1e-10
  (relative) after 200 steps of every optimizer (sgd, momentum, nesterov, adam), with and
  without weight decay, at a constant and a changing rate; float32 step losses within 1e-4;
  outputs on the test set within the bound of float32 rounding;
- conventions: a spec pinning each convention either trains as the reference computes that
  form or raises `ConventionError("<field>: <why>")` (the run is "not run"), and never
  refuses the framework's own built-in;
- tasks (`network.task`): binary classifiers and regression networks, on small generated
  data, train as the reference (float64 within 1e-10 after 200 steps, with each loss and
  reduction they take; float32 step losses within 1e-4), have its history, save, load and
  predict as it does; or, for a task `conventions.TASKS` does not list for the backend,
  are not run, with `ConventionError("network.task: <why>")`;
- errors on bad input, each naming the problem.

It needs pytest and mnist-data (MNIST read through its download code, from
$MNIST_MIRROR where set), which every backend's tests have.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from . import make_engine as reference_engine
from .backends import Backend, discover, load
from .conventions import BUILT_INS, TASKS, ConventionError, resolve
from .defaults import DEFAULTS, ROWS
from .initializers import initial_layers
from .layer import Layer
from .metrics import predicted
from .model import Model
from .model import load as reference_load
from .model import train as reference_train
from .spec import Init, Loss, ModelSpec, Network, Optimizer, Schedule, Training
from .threads import training_threads
from .training import Engine
from .weights import WeightFormatError

# The modules of every backend package, each with the names it defines and, for a
# function, its leading parameters: the backends read side by side.
LAYOUT: dict[str, dict[str, tuple[str, ...] | None]] = {
    "network": {"MLP": None},
    "activations": {"hidden_activation": ("network",), "output_activation": ("name",)},
    "losses": {"make_loss": ("loss", "network")},
    "optimizers": {"make_optimizer": ("spec", "parameters")},
    "initializers": {},
    "devices": {"devices": ()},
    "engine": {"make_engine": ("spec", "x", "labels", "layers", "device")},
    "model": {
        "Model": None,
        "train": ("spec", "x", "labels", "test", "validation", "layers", "progress", "device"),
        "load": ("path", "device"),
    },
    "backend": {},
}
EPS32 = float(np.finfo(np.float32).eps)
STEPS, BATCH = 200, 64
# Every optimizer of the spec, at a rate where 200 steps learn.
OPTIMIZERS = {
    "sgd": (Optimizer("sgd"), 0.05),
    "momentum": (Optimizer("sgd", momentum=0.9), 0.01),
    "nesterov": (Optimizer("sgd", momentum=0.9, nesterov=True), 0.01),
    "adam": (Optimizer("adam"), 0.001),
}
# The rate of each quarter of the steps, times the spec's: constant, or changing as a
# schedule changes it between epochs (where the momentum forms part).
RATES = {"constant": (1.0, 1.0, 1.0, 1.0), "changing": (1.0, 0.3, 2.0, 0.5)}

# Every output activation and loss, and the other hidden activations, without and with bias.
ARCHITECTURES = [
    (Network((784, 32, 16, 10), output="softmax"), Loss("mse")),
    (Network((784, 32, 16, 10), output="sigmoid"), Loss("mse", "sum_outputs")),
    (Network((784, 32, 16, 10), output="identity"), Loss("mse")),
    (Network((784, 32, 16, 10), output="sigmoid"), Loss("bce")),
    (Network((784, 32, 16, 10), output="sigmoid", hidden="sigmoid"), Loss("bce", "sum_outputs")),
    # 0.25, a float32 number: TensorFlow's LeakyRelu op takes its slope as a float32
    # attribute, so in float64 a slope of 0.1 is 0.10000000149 (losses 4e-8 apart).
    (Network((784, 32, 16, 10), hidden="leaky_relu", leaky_slope=0.25), Loss()),
    (Network((784, 32, 16, 10), hidden="tanh", bias=False), Loss()),
]

# One spec field pinned to each value, on a spec where it changes the arithmetic.
ADAM, MOMENTUM = Optimizer("adam"), Optimizer("sgd", momentum=0.9, nesterov=True)
CONVENTIONS = [
    *[("training.optimizer.eps_placement", v, ADAM) for v in ("sqrt_v_hat", "eps_hat")],
    *[("training.optimizer.velocity", v, MOMENTUM) for v in ("gradient", "step")],
    *[
        ("training.optimizer.weight_decay_form", v, replace(base, weight_decay=0.01))
        for base in (ADAM, MOMENTUM)
        for v in ("coupled", "decoupled")
    ],
    *[
        ("training.optimizer.hyperparameter_precision", v, base)
        for base in (ADAM, MOMENTUM)
        for v in ("exact", "float32")
    ],
    *[("loss.form", v, Loss()) for v in ("logits", "clipped_probabilities")],
    *[("loss.form", v, Loss("bce")) for v in ("logits", "clamped_log")],
]


# The tasks other than classification (docs/model-spec.md#tasks), with each loss and
# reduction they train with, on `task_data`: case -> (network, loss).
FEATURES = 8
TASK_CASES = {
    "binary-bce": (Network((FEATURES, 16, 1), output="sigmoid", task="binary"), Loss("bce")),
    "binary-mse": (Network((FEATURES, 16, 1), output="sigmoid", task="binary"), Loss("mse")),
    "regression": (Network((FEATURES, 16, 1), output="identity", task="regression"), Loss("mse")),
    "regression-3-sum_outputs": (
        Network((FEATURES, 16, 3), output="identity", task="regression", bias=False),
        Loss("mse", "sum_outputs"),
    ),
}


def task_data(network: Network, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n samples of `FEATURES` standard normal features (float32, as MNIST's rows) and what
    `network.task` takes as labels, made without a download:

        v1 = sin x0 + x1 x2 / 2,  v2 = x3 − x4² / 2,  v3 = tanh(x5 + x6)

    a binary classifier's labels are 1 where v1 > 0, a regression network's targets the
    first K of (v1, v2, v3), (n,) when K = 1."""
    x = np.random.default_rng(2).standard_normal((n, FEATURES)).astype(np.float32)
    x64 = x.astype(np.float64)
    values = np.stack(
        [
            np.sin(x64[:, 0]) + x64[:, 1] * x64[:, 2] / 2,
            x64[:, 3] - x64[:, 4] ** 2 / 2,
            np.tanh(x64[:, 5] + x64[:, 6]),
        ],
        axis=1,
    )
    if network.task == "binary":
        return x, (values[:, 0] > 0).astype(np.int64)
    outputs = network.layers[-1]
    return x, values[:, 0] if outputs == 1 else values[:, :outputs]


def learned(losses: np.ndarray) -> bool:
    """Whether the last 20 steps' mean loss is below 80 % of the first 20's."""
    return bool(losses[-20:].mean() < 0.8 * losses[:20].mean())


def _split(name: str) -> tuple[np.ndarray, np.ndarray]:
    import mnist_data

    images, labels = mnist_data.load(name)  # fails, never skips, when the data is missing
    return mnist_data.flatten(mnist_data.standardize(images)), labels.astype(np.int64)


_TASKS_OUTPUT = re.compile(
    r"test accuracy ([\d.]+)% \[([01 ]+)\]\ntest R² ([\d.]+) \[([-\d. ]+)\]\n", re.MULTILINE
)


def _tasks_output(output: str) -> tuple[float, list[int], float, np.ndarray]:
    found = _TASKS_OUTPUT.fullmatch(output)
    assert found, output
    accuracy, classes, r2, values = found.groups()
    classes_ = [int(c) for c in classes.split()]
    return float(accuracy), classes_, float(r2), np.array(values.split(), float)


def check_readme_tasks_example(readme: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Run the first code block of a backend README's "Binary classifiers and regression"
    section and assert that it prints what the block after it shows (`test accuracy …% […]`
    and `test R² … […]`), to the rounding another CPU's arithmetic may move: accuracy within
    1 point and above 95 %, the same predicted classes (both present), R² within 0.005 and
    above 0.95, predicted values within 0.02."""
    section = readme.read_text(encoding="utf-8").split("## Binary classifiers and regression\n")[1]
    code, shown = re.findall(r"```(?:python)?\n(.*?)```", section, flags=re.DOTALL)[:2]
    exec(compile(code, str(readme), "exec"), {})
    accuracy, classes, r2, values = _tasks_output(capsys.readouterr().out)
    want_accuracy, want_classes, want_r2, want_values = _tasks_output(shown)
    assert accuracy == pytest.approx(want_accuracy, abs=1.0) and accuracy > 95
    assert classes == want_classes and 0 < sum(classes) < len(classes)
    assert r2 == pytest.approx(want_r2, abs=0.005) and r2 > 0.95
    np.testing.assert_allclose(values, want_values, atol=0.02)


def relative_difference(expected: list[Layer], actual: list[Layer]) -> float:
    """The largest |a − e| / max |e| over every weight and bias tensor."""
    worst = 0.0
    for layer_e, layer_a in zip(expected, actual, strict=True):
        for e, a in zip(layer_e, layer_a, strict=True):
            if e is not None:
                worst = max(worst, float(np.max(np.abs(a - e)) / np.max(np.abs(e))))
    return worst


def rounding_bound(layers: list[Layer], x: np.ndarray) -> np.ndarray:
    """A bound, per sample, on how far two float32 forward passes of these (relu) layers can
    put the logits apart by rounding alone.

    A float32 sum Σ_i w_i h_i of n products, computed in any order, is off by at most
    γ·Σ_i |w_i h_i|: each of its n roundings is within eps32 of a partial sum, so γ = n·eps32
    if they all align, and about √n·eps32 as they add up like a random walk, the γ used
    here. The error then passes through the next layers' |W| (ReLU does not enlarge it),
    so, with e_0 = 0,

        e_l = |W_l| e_{l−1} + γ_l (|W_l| |h_{l−1}| + |b_l|),   γ_l = √n_l · eps32

    bounds each implementation's error in the logits, and 2 e_L the difference of two.
    """
    h = x.astype(np.float64)
    error = np.zeros_like(h)
    for index, layer in enumerate(layers):
        w = np.abs(layer.weight.astype(np.float64))
        b = np.zeros(len(w)) if layer.bias is None else np.abs(layer.bias.astype(np.float64))
        gamma = np.sqrt(w.shape[1]) * EPS32
        error = error @ w.T + gamma * (np.abs(h) @ w.T + b)
        z = h @ layer.weight.astype(np.float64).T + (0 if layer.bias is None else layer.bias)
        h = np.maximum(z, 0) if index < len(layers) - 1 else z
    return 2 * error.max(axis=1)


def pinned(spec: ModelSpec, field: str, value: str) -> ModelSpec:
    """`spec` with the convention `field` (dotted) set to `value`."""
    if field == "loss.form":
        return replace(spec, loss=replace(spec.loss, form=value))
    changes: dict[str, Any] = {field.rsplit(".", 1)[1]: value}
    optimizer = replace(spec.training.optimizer, **changes)
    return replace(spec, training=replace(spec.training, optimizer=optimizer))


class BackendConformance:
    """The conformance tests, for the backend `backend` names (every installed backend when
    None) on `device` (the backend's own name for it)."""

    backend: ClassVar[str | None] = None
    device: ClassVar[str] = "cpu"

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "backend_name" in metafunc.fixturenames:
            names = [self.backend] if self.backend else [r.name for r in discover()]
            metafunc.parametrize("backend_name", names, scope="class")

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def blas_threads(cls) -> Iterator[None]:
        """The reference's matrix products on the BLAS threads its training uses
        (`mlp_numpy.threads`: one, unless set otherwise), as `mlp_numpy.train` runs them."""
        with threadpool_limits(limits=training_threads(), user_api="blas"):
            yield

    @pytest.fixture(scope="class")
    @classmethod
    def module(cls, backend_name: str) -> ModuleType:
        """The backend's registered module, loaded through its entry point."""
        found = {r.name: r for r in discover()}
        if backend_name not in found:
            pytest.fail(
                f"backend {backend_name!r} has no entry point in mlp_numpy.backends; installed: "
                f"{', '.join(found)}. Install its package (pip install -e packages/<it>)."
            )
        return load(found[backend_name])

    @pytest.fixture(scope="class")
    @classmethod
    def mnist_train(cls) -> tuple[np.ndarray, np.ndarray]:
        """The 60 000 training images as standardized float32 rows, and their labels."""
        return _split("train")

    @pytest.fixture(scope="class")
    @classmethod
    def mnist_test(cls) -> tuple[np.ndarray, np.ndarray]:
        """The 10 000 test images as standardized float32 rows, and their labels."""
        return _split("test")

    def train_both(
        self,
        module: ModuleType,
        spec: ModelSpec,
        data: tuple[np.ndarray, np.ndarray],
        steps: int,
        batch: int,
        factors: tuple[float, ...],
    ) -> list[tuple[np.ndarray, list[Layer]]]:
        """Losses and final layers of the reference under the backend's conventions, then
        of the backend, after `steps` steps of the same batches from the same initial
        weights, in len(factors) calls at the rates lr · factor."""
        layers = initial_layers(spec)
        x, labels = data[0][: steps * batch], data[1][: steps * batch]
        order = np.random.default_rng(1).permutation(len(x))
        lr = spec.training.schedule.lr_at(0, 1)
        engines = [
            reference_engine(resolve(spec, module.NAME), x, labels, layers=layers),
            module.make_engine(spec, x, labels, layers=layers, device=self.device),
        ]
        results = []
        for engine in engines:
            calls = np.array_split(order, len(factors))
            losses = [
                engine.train_batches(part, batch, lr * f)
                for part, f in zip(calls, factors, strict=True)
            ]
            results.append((np.concatenate(losses), engine.get_layers()))
        return results

    # --- the protocols ------------------------------------------------------------------

    def test_the_backend_module_implements_the_protocol(
        self, module: ModuleType, backend_name: str, mnist_train: tuple[np.ndarray, np.ndarray]
    ) -> None:
        assert isinstance(module, Backend)
        registered = {r.name: r for r in discover()}[backend_name]
        assert backend_name == module.NAME
        assert registered.distribution == module.DISTRIBUTION
        assert module.NAME in BUILT_INS, "mlp_numpy.conventions.BUILT_INS needs its row"
        assert module.DEFAULTS_SET is None or module.DEFAULTS_SET in DEFAULTS
        assert module.DISPLAY_NAME and isinstance(module.framework_version(), str)
        assert module.devices()[0] == "cpu"
        settings = module.thread_settings()
        assert settings and all(v is None or isinstance(v, int) for v in settings.values())
        name = module.accelerator_name()
        assert name is None or isinstance(name, str)
        readings = module.installed_defaults()
        assert set(readings) == (set(ROWS) if module.DEFAULTS_SET else set())
        assert all(reading.source for reading in readings.values())
        x, labels = mnist_train[0][:300], mnist_train[1][:300]
        sizes = [784, 16, 10]
        assert module.products_epoch(sizes, 300, 100, 1, "cpu") > 0
        assert module.tutorial_epoch(sizes, x, labels, 100, 1, "cpu") > 0

    def test_the_package_has_every_backends_modules_and_names(self, module: ModuleType) -> None:
        package = module.__name__.rpartition(".")[0]
        for name, members in LAYOUT.items():
            submodule = importlib.import_module(f"{package}.{name}")
            for member, parameters in members.items():
                assert hasattr(submodule, member), f"{package}.{name}.{member} is missing"
                if parameters is not None:
                    given = list(inspect.signature(getattr(submodule, member)).parameters)
                    assert given[: len(parameters)] == list(parameters), (member, given)
        top = importlib.import_module(package)
        assert {"Model", "train", "load", "make_engine"} <= set(vars(top))

    def test_an_engine_is_an_engine(
        self, module: ModuleType, mnist_train: tuple[np.ndarray, np.ndarray]
    ) -> None:
        spec = ModelSpec(Network((784, 16, 10)))
        x, labels = mnist_train[0][:100], mnist_train[1][:100]
        engine = module.make_engine(spec, x, labels, device=self.device)
        assert isinstance(engine, Engine)
        package = module.__name__.rpartition(".")[0]
        assert type(engine).__module__ == f"{package}.engine"  # NumpyEngine, TorchEngine, …
        losses = engine.train_batches(np.arange(100), 32, 0.001)
        assert losses.dtype == np.float64 and losses.shape == (4,)  # 3 × 32 and 4
        assert engine.predict_proba(x).shape == (100, 10)

    # --- weight files -------------------------------------------------------------------

    @pytest.mark.parametrize("bias", [True, False])
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_trained_weights_round_trip_through_files(
        self,
        module: ModuleType,
        mnist_train: tuple[np.ndarray, np.ndarray],
        tmp_path: Path,
        dtype: str,
        bias: bool,
    ) -> None:
        spec = ModelSpec(
            Network((784, 16, 10), hidden="tanh", bias=bias),
            init=Init("xavier_uniform", bias="like_weights"),
            training=Training(batch_size=100, epochs=2, dtype=dtype, optimizer=Optimizer("adam")),
        )
        x, labels = mnist_train[0][:1000], mnist_train[1][:1000]
        model, history = module.train(spec, x, labels, device=self.device)
        if dtype == "float64":  # the shared loop over the engine: the reference's history
            _, expected = reference_train(resolve(spec, module.NAME), x, labels)
            for want, got in zip(expected.records, history.records, strict=True):
                assert got.loss == pytest.approx(want.loss, rel=1e-10), (got, want)
                assert got.train_accuracy == want.train_accuracy
        path = tmp_path / "trained.safetensors"
        model.save(path)
        trained = model.layers()
        for loaded in (module.load(path, device=self.device), reference_load(path)):
            assert loaded.spec == spec
            for want, got in zip(trained, loaded.layers(), strict=True):
                assert got.weight.dtype == np.dtype(dtype)
                np.testing.assert_array_equal(got.weight, want.weight)
                if bias:
                    np.testing.assert_array_equal(got.bias, want.bias)
                else:
                    assert got.bias is None
        loaded = module.load(path, device=self.device)
        rtol = 1e-5 if dtype == "float32" else 1e-12
        np.testing.assert_allclose(loaded.predict_proba(x), model.predict_proba(x), rtol=rtol)

    # --- parity with the reference under the backend's conventions -----------------------

    @pytest.mark.parametrize("rates", list(RATES))
    @pytest.mark.parametrize("weight_decay", [0.0, 1e-3])
    @pytest.mark.parametrize("name", list(OPTIMIZERS))
    def test_float64_training_is_the_reference_under_its_conventions(
        self,
        module: ModuleType,
        mnist_train: tuple[np.ndarray, np.ndarray],
        name: str,
        weight_decay: float,
        rates: str,
    ) -> None:
        optimizer, lr = OPTIMIZERS[name]
        spec = ModelSpec(
            Network((784, 128, 64, 10)),
            training=Training(
                dtype="float64",
                optimizer=replace(optimizer, weight_decay=weight_decay),
                schedule=Schedule(lr=lr),
            ),
        )
        try:
            results = self.train_both(module, spec, mnist_train, STEPS, BATCH, RATES[rates])
        except ConventionError as error:
            if not weight_decay:  # every framework has each optimizer without decay
                raise
            pytest.skip(f"not run: {error}")  # the framework has no built-in weight decay here
        (losses_ref, layers_ref), (losses, layers) = results
        assert losses_ref[-1] < losses_ref[0] - 0.5  # it learned: a meaningful trajectory
        np.testing.assert_allclose(losses, losses_ref, rtol=1e-10, atol=0)
        assert relative_difference(layers_ref, layers) <= 1e-10
        assert layers[0].weight.dtype == np.float64

    @pytest.mark.parametrize("rates", list(RATES))
    @pytest.mark.parametrize("name", list(OPTIMIZERS))
    def test_float32_step_losses_are_the_references(
        self,
        module: ModuleType,
        mnist_train: tuple[np.ndarray, np.ndarray],
        name: str,
        rates: str,
    ) -> None:
        # tanh, not relu: in float32 a pre-activation within rounding (~1e-7) of relu's kink
        # can fall on different sides in two correct implementations that sum in different
        # orders, after which the trajectories part by ~1e-3. A smooth activation isolates
        # the rounding.
        optimizer, lr = OPTIMIZERS[name]
        spec = ModelSpec(
            Network((784, 128, 64, 10), hidden="tanh"),
            training=Training(
                optimizer=replace(optimizer, weight_decay=1e-3), schedule=Schedule(lr=lr)
            ),
        )
        results = self.train_both(module, spec, mnist_train, STEPS, BATCH, RATES[rates])
        (losses_ref, _), (losses, layers) = results
        assert losses_ref[-1] < losses_ref[0] - 0.5
        assert np.max(np.abs(losses - losses_ref)) <= 1e-4
        assert layers[0].weight.dtype == np.float32

    @pytest.mark.parametrize(
        ("network", "loss"),
        ARCHITECTURES,
        ids=[f"{n.hidden}-{n.output}-{loss.name}-{loss.reduction}" for n, loss in ARCHITECTURES],
    )
    def test_every_activation_and_loss_trains_as_the_reference(
        self,
        module: ModuleType,
        mnist_train: tuple[np.ndarray, np.ndarray],
        network: Network,
        loss: Loss,
    ) -> None:
        training = Training(
            dtype="float64", optimizer=Optimizer("sgd", momentum=0.9), schedule=Schedule(lr=0.05)
        )
        spec = ModelSpec(network, loss=loss, training=training)
        results = self.train_both(module, spec, mnist_train, 50, 32, RATES["constant"])
        (losses_ref, layers_ref), (losses, layers) = results
        assert losses_ref[-1] < losses_ref[0]
        np.testing.assert_allclose(losses, losses_ref, rtol=1e-9, atol=0)
        assert relative_difference(layers_ref, layers) <= 1e-9

    def test_outputs_on_the_test_set_are_the_references_to_float32_rounding(
        self,
        module: ModuleType,
        mnist_train: tuple[np.ndarray, np.ndarray],
        mnist_test: tuple[np.ndarray, np.ndarray],
        tmp_path: Path,
    ) -> None:
        """Outputs on the 10 000 test images of one weight file: softmax moves each output
        by at most max_k |Δz_k| when the logits move by Δz, so the logit bound bounds the
        outputs, plus a few eps32 for the softmax's own rounding."""
        spec = ModelSpec(Network((784, 128, 64, 10)), training=Training(epochs=1))
        trained, _ = reference_train(spec, mnist_train[0][:10_000], mnist_train[1][:10_000])
        path = tmp_path / "trained.safetensors"
        trained.save(path)
        x, labels = mnist_test
        expected = reference_load(path).predict_proba(x)
        actual = module.load(path, device=self.device).predict_proba(x)
        assert actual.dtype == expected.dtype == np.float32 and actual.shape == (10_000, 10)
        bound = rounding_bound(trained.layers(), x) + 8 * EPS32
        difference = np.abs(actual - expected).max(axis=1)
        assert (difference <= bound).all(), (
            f"worst difference / bound: {(difference / bound).max()}"
        )
        assert (actual.argmax(axis=1) == expected.argmax(axis=1)).all()
        assert (expected.argmax(axis=1) == labels).mean() > 0.9  # a real, trained network

    # --- conventions --------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("field", "value", "base"),
        CONVENTIONS,
        ids=[f"{field.rsplit('.', 1)[1]}={value}" for field, value, _ in CONVENTIONS],
    )
    def test_a_pinned_convention_trains_as_the_reference_or_is_not_run(
        self,
        module: ModuleType,
        mnist_train: tuple[np.ndarray, np.ndarray],
        field: str,
        value: str,
        base: Optimizer | Loss,
    ) -> None:
        """Pinned to its framework's built-in, a convention always trains; pinned to another
        form, it trains as the reference computes that form, or raises ConventionError
        "<field>: <why>"."""
        bce = isinstance(base, Loss) and base.name == "bce"
        spec = ModelSpec(
            Network((784, 32, 10), output="sigmoid" if bce else "softmax"),
            loss=base if isinstance(base, Loss) else Loss(),
            training=Training(
                dtype="float64",
                optimizer=base if isinstance(base, Optimizer) else Optimizer("adam"),
                schedule=Schedule(lr=0.001 if not isinstance(base, Optimizer) else 0.01),
            ),
        )
        spec = pinned(spec, field, value)
        try:
            results = self.train_both(module, spec, mnist_train, 30, 32, RATES["changing"])
        except ConventionError as error:
            assert value != BUILT_INS[module.NAME][field], f"its own built-in refused: {error}"
            assert re.match(rf"{re.escape(field)}: \S", str(error)), str(error)
            return
        (losses_ref, layers_ref), (losses, layers) = results
        np.testing.assert_allclose(losses, losses_ref, rtol=1e-10, atol=0)
        assert relative_difference(layers_ref, layers) <= 1e-10

    # --- tasks: binary classifiers and regression networks -------------------------------

    def not_run(self, module: ModuleType, spec: ModelSpec) -> bool:
        """Whether the backend does not train `spec`'s task: then `conventions.TASKS` does
        not list it and its `make_engine` raises ConventionError "network.task: <why>"."""
        if spec.network.task in TASKS[module.NAME]:
            return False
        x, labels = task_data(spec.network, 10)
        with pytest.raises(ConventionError, match=r"^network\.task: \S"):
            module.make_engine(spec, x, labels, device=self.device)
        return True

    @pytest.mark.parametrize("case", list(TASK_CASES))
    def test_every_task_trains_as_the_reference_in_float64_or_is_not_run(
        self, module: ModuleType, case: str
    ) -> None:
        """A task the backend trains (`conventions.TASKS`) takes the reference's steps, losses
        and weights within 1e-10 after 200 steps at a changing rate, as a classifier; another
        is not run."""
        network, loss = TASK_CASES[case]
        training = Training(
            dtype="float64", optimizer=Optimizer("adam"), schedule=Schedule(lr=0.01)
        )
        spec = ModelSpec(network, loss=loss, training=training)
        if self.not_run(module, spec):
            return
        data = task_data(network, STEPS * BATCH)
        results = self.train_both(module, spec, data, STEPS, BATCH, RATES["changing"])
        (losses_ref, layers_ref), (losses, layers) = results
        assert learned(losses_ref)
        np.testing.assert_allclose(losses, losses_ref, rtol=1e-10, atol=0)
        assert relative_difference(layers_ref, layers) <= 1e-10
        assert layers[0].weight.dtype == np.float64

    @pytest.mark.parametrize("case", ["binary-bce", "regression-3-sum_outputs"])
    def test_every_task_has_the_references_float32_step_losses_or_is_not_run(
        self, module: ModuleType, case: str
    ) -> None:
        """Float32 step losses within 1e-4 of the reference's over 200 steps (tanh, as the
        classifiers' float32 test, for the same reason)."""
        network, loss = TASK_CASES[case]
        training = Training(
            optimizer=Optimizer("sgd", momentum=0.9, weight_decay=1e-3), schedule=Schedule(lr=0.02)
        )
        spec = ModelSpec(replace(network, hidden="tanh"), loss=loss, training=training)
        if self.not_run(module, spec):
            return
        data = task_data(network, STEPS * BATCH)
        results = self.train_both(module, spec, data, STEPS, BATCH, RATES["changing"])
        (losses_ref, _), (losses, layers) = results
        assert learned(losses_ref)
        assert np.max(np.abs(losses - losses_ref)) <= 1e-4
        assert layers[0].weight.dtype == np.float32

    @pytest.mark.parametrize("case", ["binary-bce", "regression"])
    def test_every_task_trains_saves_loads_and_predicts_or_is_not_run(
        self, module: ModuleType, case: str, tmp_path: Path
    ) -> None:
        """`train` has the reference's history (the task's metrics on training, test and
        validation data); the weight file keeps the task; `predict` of the model and of its
        file, here and in the reference, is `metrics.predicted` of the outputs."""
        network, loss = TASK_CASES[case]
        training = Training(
            batch_size=32,
            epochs=2,
            dtype="float64",
            optimizer=Optimizer("adam"),
            schedule=Schedule(lr=0.01),
        )
        spec = ModelSpec(network, loss=loss, training=training)
        if self.not_run(module, spec):
            return
        x, labels = task_data(network, 400)
        test, validation = (x[200:300], labels[200:300]), (x[300:], labels[300:])
        model, history = module.train(
            spec, x[:200], labels[:200], test=test, validation=validation, device=self.device
        )
        _, expected = reference_train(
            resolve(spec, module.NAME), x[:200], labels[:200], test=test, validation=validation
        )
        regression = network.task == "regression"
        metrics = ("mse", "r2") if regression else ("accuracy",)
        for reference, record in zip(expected.records, history.records, strict=True):
            assert record.loss == pytest.approx(reference.loss, rel=1e-10), (record, reference)
            for data in ("train", "test", "val"):
                for metric in ("accuracy", "mse", "r2"):
                    field = f"{data}_{metric}"
                    value, wanted = getattr(record, field), getattr(reference, field)
                    if metric in metrics:
                        assert wanted is not None and value == pytest.approx(wanted, rel=1e-10)
                    else:
                        assert value is None and wanted is None, (field, record)
        path = tmp_path / "trained.safetensors"
        model.save(path)
        want = predicted(model.predict_proba(x), network.task)
        assert want.shape == (len(x),) and want.dtype == (np.float64 if regression else np.int64)
        for loaded in (model, module.load(path, device=self.device), reference_load(path)):
            assert loaded.network == network
            got = loaded.predict(x)
            assert got.shape == want.shape and got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-12)
        assert regression or 0 < want.mean() < 1  # both classes predicted

    # --- errors -------------------------------------------------------------------------

    def test_bad_input_is_named(
        self, module: ModuleType, mnist_train: tuple[np.ndarray, np.ndarray], tmp_path: Path
    ) -> None:
        spec = ModelSpec(Network((784, 16, 10)))
        x, labels = mnist_train[0][:100], mnist_train[1][:100]

        def engine(**changes: Any) -> Engine:
            arguments: dict[str, Any] = {"x": x, "labels": labels, "device": self.device}
            arguments.update(changes)
            return module.make_engine(
                spec, arguments.pop("x"), arguments.pop("labels"), **arguments
            )

        with pytest.raises(ValueError, match=r"x: expected shape \(N, 784\)"):
            engine(x=x[:, :700])
        with pytest.raises(ValueError, match="labels: 99 labels for 100 samples"):
            engine(labels=labels[:99])
        with pytest.raises(ValueError, match=r"labels: values must be in \[0, 10\), got 10\.\.10"):
            engine(labels=np.full(100, 10))
        for case, message in [
            ("binary-bce", r"labels: values must be 0 or 1, got 0, 1, 2, 3, …"),
            ("regression-3-sum_outputs", r"labels: expected targets of shape \(N, 3\)"),
        ]:
            network, loss = TASK_CASES[case]
            task_spec = ModelSpec(network, loss=loss)
            if network.task in TASKS[module.NAME]:
                with pytest.raises(ValueError, match=message):
                    module.make_engine(task_spec, x[:, :FEATURES], labels, device=self.device)
        layers = initial_layers(spec)
        wrong = [Layer(layers[0].weight.T, layers[0].bias), layers[1]]
        with pytest.raises(ValueError, match=r"layers\[0\]\.weight: expected shape \(16, 784\)"):
            engine(layers=wrong)
        with pytest.raises(ValueError, match=r"'no-such-device'.*available"):
            engine(device="no-such-device")
        path = tmp_path / "bad.safetensors"
        path.write_bytes(b"not a weight file")
        with pytest.raises(WeightFormatError, match=r"bad\.safetensors"):
            module.load(path, device=self.device)
        Model(spec.network, layers).save(tmp_path / "good.safetensors")
        with pytest.raises(ValueError, match=r"'no-such-device'.*available"):
            module.load(tmp_path / "good.safetensors", device="no-such-device")
