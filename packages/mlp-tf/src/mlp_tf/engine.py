"""The training engine: a compiled Keras model trained by `model.fit` on the shared batches.

`mlp_numpy.training.fit` drives it through the Engine protocol (docs/model-spec.md): each
call of `train_batches` is one `model.fit` epoch over the given order of samples,

    model = Sequential(Dense …)                         network.py, weights from the spec
    model.compile(optimizer, loss, jit_compile=True,    optimizers.py, losses.py
                  steps_per_execution=…)
    optimizer.learning_rate = η                         the epoch's rate, as Keras's
                                                        LearningRateScheduler sets it
    model.fit(batches of the order, shuffle=False)      Keras's train step: GradientTape,
                                                        the loss, optimizer.apply

so gradients, losses and updates are Keras's own. Speed comes from XLA (`jit_compile`),
from running `steps_per_execution` steps per call into the compiled function, and from a
`tf.data` pipeline that gathers each batch's rows from the training data held once as
tensors. Every step's loss is written, inside the compiled step, into a buffer that is
read once per epoch (`StepLossSequential`): no per-step Python callback.
"""

import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from mlp_numpy import Layer
from mlp_numpy.conventions import ConventionError, resolve
from mlp_numpy.initializers import initial_layers
from mlp_numpy.inputs import check_inputs, check_labels, one_hot
from mlp_numpy.layer import check_layers
from mlp_numpy.spec import ModelSpec

from .activations import output_activation
from .devices import resolve_device, set_tf32
from .initializers import framework_layers
from .losses import from_logits, loss_weight, make_loss
from .network import MLP, dense_layers, keras_floatx
from .optimizers import make_optimizer

STEPS_PER_EXECUTION = 100  # one epoch in one execution was measured slower (README)


@keras.saving.register_keras_serializable(package="mlp_tf")
class StepLossSequential(keras.Sequential):
    """A `keras.Sequential` that keeps the loss of each training step.

    Keras's train step computes the loss once per step, before the optimizer's update;
    this model also writes it, as float64, into `step_losses[iterations mod length]`
    (`iterations`: the optimizer's count of steps before this one), inside the compiled
    step. `step_losses` is set by the engine; without it the model is a plain Sequential.
    """

    step_losses: tf.Variable | None = None

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x, y, y_pred, sample_weight, training=training)
        if training and self.step_losses is not None:
            slot = self.optimizer.iterations % self.step_losses.shape[0]
            self.step_losses.scatter_nd_update(
                tf.reshape(slot, (1, 1)), tf.reshape(tf.cast(loss, tf.float64), (1,))
            )
        return loss


class TFEngine:
    """An Engine (docs/model-spec.md) running Keras on TensorFlow.

    `model` is the compiled `keras.Model` (`StepLossSequential` of `Dense` layers; it
    outputs logits when the loss takes them) and `model.optimizer` its Keras optimizer,
    whose `iterations` counts every step taken. `device` is the device used ("cpu" or
    "gpu"). With `deterministic=True`, TensorFlow's op determinism is switched on for the
    whole process, and TensorFlow's global seed set to the spec's seed. `jit_compile` and
    `steps_per_execution` go to `model.compile`. The engine runs one step of each batch
    shape of the spec when it is built (learning rate 0, then the weights and optimizer
    state are put back), so no epoch's time includes compilation; `compile_seconds` says
    what that took.
    """

    def __init__(
        self,
        spec: ModelSpec,
        x: np.ndarray,
        labels: np.ndarray,
        *,
        layers: list[Layer] | None = None,
        device: str = "auto",
        deterministic: bool = False,
        jit_compile: bool = True,
        steps_per_execution: int = STEPS_PER_EXECUTION,
    ) -> None:
        spec = resolve(spec, "tf")
        network, dtype = spec.network, spec.training.dtype
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != network.layers[0]:
            raise ValueError(f"x: expected shape (N, {network.layers[0]}), got {x.shape}")
        x = check_inputs(x, network.layers[0])
        labels = check_labels(labels, len(x), network.num_classes)
        if layers is None:
            drawn_by_keras = spec.init.draw == "framework" and spec.init.scheme != "file"
            layers = framework_layers(spec) if drawn_by_keras else initial_layers(spec)
        check_layers(network, layers)
        training = spec.training
        # batch_order = "framework": model.fit(shuffle=True) shuffles with TensorFlow's seed.
        self.shuffled_by_keras = training.batch_order == "framework" and training.shuffle
        if self.shuffled_by_keras and training.drop_last:
            raise ConventionError(
                'training.batch_order: Keras\'s fit(shuffle=True) has no drop_last; use "shared"'
            )
        if self.shuffled_by_keras:
            tf.random.set_seed(training.seed)
        set_tf32(training.tf32)

        self.spec = spec
        self.device, self.tf_device = resolve_device(device)
        if deterministic:  # op determinism needs a global seed for Keras's random ops
            tf.random.set_seed(spec.training.seed)
            tf.config.experimental.enable_op_determinism()
        with tf.device("/CPU:0"):  # the input pipeline runs on the host, as tf.data does
            self._x = tf.constant(x.astype(dtype, copy=False))
            self._y = tf.constant(one_hot(labels, network.num_classes, dtype))
        with tf.device(self.tf_device), keras_floatx(dtype):
            plain = MLP(network, layers, dtype, logits=from_logits(spec.loss))
            self.model = StepLossSequential([keras.Input((network.layers[0],)), *plain.layers])
            self._step_losses = tf.Variable(
                tf.zeros(len(x), tf.float64), trainable=False, name="step_losses"
            )
            self.model.step_losses = self._step_losses
            loss = make_loss(spec.loss, network)
            weight = loss_weight(spec.loss, network)
            optimizer = make_optimizer(spec.training.optimizer, self.model.trainable_variables)
            self.model.compile(
                optimizer=optimizer,
                loss=loss,
                loss_weights=None if weight == 1 else [weight],
                jit_compile=jit_compile,
                steps_per_execution=steps_per_execution,
            )
        self.optimizer: keras.optimizers.Optimizer = self.model.optimizer
        output: Callable | None = None
        if from_logits(spec.loss):
            output = output_activation(network.output)
        self._predict = tf.function(
            lambda x: self.model(x) if output is None else output(self.model(x)),
            input_signature=[tf.TensorSpec([None, network.layers[0]], dtype)],
        )
        start = time.perf_counter()
        self._compile(len(x), spec.training.batch_size or len(x), spec.training.drop_last)
        self.compile_seconds = time.perf_counter() - start

    def _compile(self, n: int, batch_size: int, drop_last: bool) -> None:
        """Run one step of each batch shape `fit` will pass (XLA compiles on a first run),
        at learning rate 0, then put back the parameters and the optimizer's state."""
        sizes = [batch_size] if n >= batch_size else []
        if n % batch_size and not drop_last:
            sizes.append(n % batch_size)
        weights = [v.numpy() for v in self.model.trainable_variables]
        state = [v.numpy() for v in self.optimizer.variables]
        order = np.concatenate([np.arange(size) for size in sizes])
        self._fit(order, batch_size, lr=0.0)
        for variable, value in zip(self.model.trainable_variables, weights, strict=True):
            variable.assign(value)
        for variable, value in zip(self.optimizer.variables, state, strict=True):
            variable.assign(value)

    def _fit(self, order: np.ndarray, batch_size: int, lr: float) -> np.ndarray:
        """One `model.fit` epoch over consecutive slices of `order`; each step's loss."""
        steps = -(-len(order) // batch_size)
        capacity = self._step_losses.shape[0]
        if steps > capacity:
            raise ValueError(f"order: {steps} steps in one call; at most {capacity}")
        x, y = self._x, self._y
        with tf.device("/CPU:0"):
            batches = tf.data.Dataset.from_tensor_slices(order).batch(batch_size)
            data = batches.map(lambda i: (tf.gather(x, i), tf.gather(y, i))).prefetch(2)
        self.optimizer.learning_rate = lr
        first = int(self.optimizer.iterations.numpy())
        with tf.device(self.tf_device):
            self.model.fit(data, epochs=1, verbose=0, shuffle=False)
        return self._step_losses.numpy()[(first + np.arange(steps)) % capacity]

    def train_batches(self, order: np.ndarray, batch_size: int, lr: float) -> np.ndarray:
        """One update per consecutive slice of `order`; the float64 loss of each step.

        With `batch_order = "framework"` Keras orders the epoch itself: `model.fit(x, y,
        batch_size, shuffle=True)` on the whole training set (`order` gives only its length).
        """
        if self.shuffled_by_keras:
            return self._fit_shuffled(len(order), batch_size, lr)
        return self._fit(np.asarray(order, dtype=np.int64), batch_size, lr)

    def _fit_shuffled(self, n: int, batch_size: int, lr: float) -> np.ndarray:
        """One `model.fit(shuffle=True)` epoch over the training arrays; each step's loss."""
        steps = -(-n // batch_size)
        capacity = self._step_losses.shape[0]
        self.optimizer.learning_rate = lr
        first = int(self.optimizer.iterations.numpy())
        with tf.device(self.tf_device):
            self.model.fit(
                self._x, self._y, batch_size=batch_size, epochs=1, verbose=0, shuffle=True
            )
        return self._step_losses.numpy()[(first + np.arange(steps)) % capacity]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The network's outputs for inputs x (rows are samples)."""
        with tf.device(self.tf_device):
            x = tf.constant(np.asarray(x, self.spec.training.dtype))
            return self._predict(x).numpy()

    def get_layers(self) -> list[Layer]:
        """The parameters as NumPy arrays, weights `(out, in)`."""
        return dense_layers(self.model)

    def set_layers(self, layers: list[Layer]) -> None:
        """Replace the parameters (the optimizer state is kept)."""
        check_layers(self.spec.network, layers)
        dense = [layer for layer in self.model.layers if isinstance(layer, keras.layers.Dense)]
        for layer, (weight, bias) in zip(dense, layers, strict=True):
            layer.kernel.assign(np.asarray(weight, self.spec.training.dtype).T)
            if bias is not None:
                layer.bias.assign(np.asarray(bias, self.spec.training.dtype))


def make_engine(
    spec: ModelSpec,
    x: np.ndarray,
    labels: np.ndarray,
    *,
    layers: list[Layer] | None = None,
    device: str = "auto",
    deterministic: bool = False,
    jit_compile: bool = True,
    steps_per_execution: int = STEPS_PER_EXECUTION,
) -> TFEngine:
    """An engine holding the training data (cast to the spec's dtype) and the compiled Keras
    model on `device` ("auto", "cpu" or "gpu"), starting from `layers` or, when None, from
    `mlp_numpy.initializers.initial_layers(spec)`.

    `deterministic=True` switches on TensorFlow's op determinism for the whole process
    (under which Keras compiles models without XLA).
    `jit_compile` and `steps_per_execution` go to `model.compile`: XLA (the default) fuses
    each step into a few kernels, and each call into the compiled function runs up to
    `steps_per_execution` steps. Raises `ConventionError` for a convention Keras has no
    built-in for (`optimizers`, `losses`). The device used is `engine.device`.
    """
    return TFEngine(
        spec,
        x,
        labels,
        layers=layers,
        device=device,
        deterministic=deterministic,
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
