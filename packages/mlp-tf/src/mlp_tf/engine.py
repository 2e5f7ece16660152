"""The training engine: parameters, optimizer state and training data on one TensorFlow device,
and a compiled loop that runs a whole epoch's steps in one call.

`mlp_numpy.training.fit` drives it through the Engine protocol (docs/model-spec.md). Speed
comes from three choices:

- the data is placed on the device once, as tensors; each step gathers its rows in-graph;
- one `tf.function` runs every step of an epoch in a `tf.range` loop, so Python is entered
  once per epoch, not once per step, and the per-step losses come back in one transfer;
- its input signature is fixed (indices `(steps, batch)`, the per-step rates and Adam
  corrections), so it is traced once; a short last batch is one more call, not one more
  trace, and a schedule never retraces. The engine compiles the loop for the spec's batch
  shapes when it is built, so no epoch's time includes compilation; `compile_seconds`
  says what that took.
"""

import time

import numpy as np
import tensorflow as tf

from mlp_numpy import Layer
from mlp_numpy.init import initial_layers
from mlp_numpy.layer import check_layers
from mlp_numpy.spec import ModelSpec

from .devices import resolve_device
from .network import forward, gradients
from .optimizers import Optimizer, step_scalars


def tf_dtype(name: str) -> tf.DType:
    """The TensorFlow dtype of a spec's `training.dtype`."""
    return {"float32": tf.float32, "float64": tf.float64}[name]


class TFEngine:
    """An Engine (docs/model-spec.md) running on TensorFlow.

    `device` is the device actually used ("cpu" or "gpu"). With `deterministic=True`,
    TensorFlow's op determinism is switched on for the whole process
    (`tf.config.experimental.enable_op_determinism`). With `jit_compile=True` (the default),
    the epoch loop is compiled by XLA; `compile_seconds` is the time that took when the
    engine was built.
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
    ) -> None:
        sizes = list(spec.network.layers)
        x = np.asarray(x)
        labels = np.asarray(labels)
        if x.ndim != 2 or x.shape[1] != sizes[0]:
            raise ValueError(f"x: expected shape (N, {sizes[0]}), got {x.shape}")
        if labels.shape != (x.shape[0],):
            raise ValueError(f"labels: expected shape ({x.shape[0]},), got {labels.shape}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels: expected integer class indices, got {labels.dtype}")
        if labels.size and (labels.min() < 0 or labels.max() >= sizes[-1]):
            raise ValueError(f"labels: class indices must lie in [0, {sizes[-1]})")
        layers = initial_layers(spec) if layers is None else layers
        check_layers(spec.network, layers)

        self.spec = spec
        self.device, self.tf_device = resolve_device(device)
        if deterministic:
            tf.config.experimental.enable_op_determinism()
        self.dtype = tf_dtype(spec.training.dtype)
        as_dtype = self.dtype.as_numpy_dtype
        with tf.device(self.tf_device):
            self._x = tf.constant(x.astype(as_dtype, copy=False))
            self._y = tf.one_hot(labels.astype(np.int64), sizes[-1], dtype=self.dtype)
            self.kernels = [tf.Variable(layer.weight.T.astype(as_dtype)) for layer in layers]
            self.biases = [
                None if layer.bias is None else tf.Variable(layer.bias.astype(as_dtype))
                for layer in layers
            ]
            variables = self.kernels + [b for b in self.biases if b is not None]
            self._optimizer = Optimizer(spec.training.optimizer, variables)
        self._steps_done = 0

        self._run_steps = tf.function(
            lambda batches, scalars: self._steps(batches, scalars),
            jit_compile=jit_compile,
            input_signature=[
                tf.TensorSpec([None, None], tf.int32),
                tf.TensorSpec([None, 2], self.dtype),
            ],
        )
        self._forward = tf.function(
            lambda x: forward(spec.network, self.kernels, self.biases, x),
            input_signature=[tf.TensorSpec([None, sizes[0]], self.dtype)],
        )
        start = time.perf_counter()
        self._compile(len(x), spec.training.batch_size or len(x), spec.training.drop_last)
        self.compile_seconds = time.perf_counter() - start

    def _compile(self, n: int, batch_size: int, drop_last: bool) -> None:
        """Trace (and with XLA, compile) the epoch loop for the batch shapes `fit` will pass,
        so that no epoch's time includes compilation.

        XLA compiles on a first run, so this runs each shape once, with a zero learning
        rate, then puts back the parameters and the optimizer's zero state.
        """
        full, rest = divmod(n, batch_size)
        shapes = [(full, batch_size)] if full else []
        if rest and not drop_last:
            shapes.append((1, rest))
        saved = [v.numpy() for v in self._optimizer.variables]
        with tf.device(self.tf_device):
            for steps, size in shapes:
                batches = tf.zeros((steps, size), tf.int32)
                no_update = tf.constant([[0.0, 1.0]] * steps, self.dtype)  # η = 0
                self._run_steps(batches, no_update).numpy()
        for variable, value in zip(self._optimizer.variables, saved, strict=True):
            variable.assign(value)
        self._optimizer.reset()

    def _steps(self, batches: tf.Tensor, scalars: tf.Tensor) -> tf.Tensor:
        """One update per row of `batches` (sample indices), with that step's row of
        `scalars` (see `step_scalars`); the float64 loss of each step."""
        steps = tf.shape(batches)[0]
        losses = tf.TensorArray(tf.float64, size=steps)
        for i in tf.range(steps):
            x = tf.gather(self._x, batches[i])
            y = tf.gather(self._y, batches[i])
            loss, kernel_grads, bias_grads = gradients(
                self.spec.network, self.spec.loss, self.kernels, self.biases, x, y
            )
            grads = kernel_grads + [g for g in bias_grads if g is not None]
            self._optimizer.apply(grads, scalars[i])
            losses = losses.write(i, loss)
        return losses.stack()

    def train_batches(self, order: np.ndarray, batch_size: int, lr: float) -> np.ndarray:
        """One update per consecutive slice of `order`; the float64 loss of each step."""
        order = np.asarray(order, dtype=np.int32)
        full, rest = divmod(len(order), batch_size)
        steps = full + (rest > 0)
        scalars = step_scalars(self.spec.training.optimizer, lr, self._steps_done + 1, steps)
        chunks = [(order[: full * batch_size].reshape(full, batch_size), scalars[:full])]
        if rest:
            chunks.append((order[full * batch_size :].reshape(1, rest), scalars[full:]))
        losses = []
        with tf.device(self.tf_device):
            for batches, step in chunks:
                if len(batches):
                    step = tf.constant(step.astype(self.dtype.as_numpy_dtype))
                    losses.append(self._run_steps(tf.constant(batches), step))
        self._steps_done += steps
        return np.concatenate([loss.numpy() for loss in losses])

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The network's outputs for inputs x (rows are samples)."""
        with tf.device(self.tf_device):
            return self._forward(tf.constant(np.asarray(x, self.dtype.as_numpy_dtype))).numpy()

    def get_layers(self) -> list[Layer]:
        """The parameters as NumPy arrays, weights `(out, in)`."""
        return [
            Layer(k.numpy().T.copy(), None if b is None else b.numpy())
            for k, b in zip(self.kernels, self.biases, strict=True)
        ]

    def set_layers(self, layers: list[Layer]) -> None:
        """Replace the parameters (the optimizer state is kept)."""
        check_layers(self.spec.network, layers)
        for k, b, layer in zip(self.kernels, self.biases, layers, strict=True):
            k.assign(np.asarray(layer.weight.T, self.dtype.as_numpy_dtype))
            if b is not None:
                b.assign(np.asarray(layer.bias, self.dtype.as_numpy_dtype))
