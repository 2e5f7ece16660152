"""The training engine: the network, its optimizer state and the training data, on one device.

`mlp_numpy.training.fit` runs the epoch loop (batch order, learning-rate schedule, history,
early stopping, divergence) over this engine exactly as over the NumPy one; the engine only
takes steps. Where the time goes, and what is done about it:

- the data is cast and moved to the device once, when the engine is made;
- each epoch gathers its samples in batch order with one `index_select` on the device,
  into a buffer reused across epochs, so each step reads a contiguous slice (all slices
  made by one `split`);
- a step is a hand-written forward and backward pass (`network.backward`) plus one
  `torch._foreach_*` call per optimizer formula: no autograd graph, no per-parameter loop;
- plain SGD fuses its update into the backward pass (`network.sgd_backward`): one
  `addmm_` per weight matrix forms δᵀh and subtracts it, so no gradient is stored, and
  the loss's 1/D rides in that product's factor η/D rather than in one more op on δ;
- plain SGD keeps each step's logits in one buffer and computes the losses of all steps
  after the loop, in one pass (`network.batch_losses`), instead of one small loss per step;
- step losses stay on the device and are copied to the host once per epoch.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from mlp_numpy import Layer
from mlp_numpy.init import initial_layers
from mlp_numpy.layer import check_layers
from mlp_numpy.spec import ModelSpec

from .devices import check_dtype, resolve_device
from .network import (
    MLP,
    backward,
    batch_losses,
    divisor,
    forward_trace,
    loss_and_delta,
    sgd_backward,
    summed_loss_delta,
)
from .optim import Scalar, SpecOptimizer

DTYPES = {"float32": torch.float32, "float64": torch.float64}


class TorchEngine:
    """Trains `MLP(spec.network)` on (x, labels) with the spec's loss and optimizer.

    `mixed_precision` runs the matrix products in bfloat16 under `torch.autocast` while
    parameters, optimizer state and losses stay in the spec's dtype; it changes the
    numbers, so it is off by default and never used for parity. `cuda_graphs` captures
    the step of full batches as one CUDA graph (see `graphs.py`); CUDA only.
    """

    def __init__(
        self,
        spec: ModelSpec,
        x: np.ndarray,
        labels: np.ndarray,
        *,
        layers: list[Layer] | None = None,
        device: str | torch.device = "auto",
        mixed_precision: bool = False,
        cuda_graphs: bool = False,
    ) -> None:
        self.spec = spec
        self.device = resolve_device(device)
        self.dtype = DTYPES[spec.training.dtype]
        check_dtype(self.device, self.dtype)
        if cuda_graphs and self.device.type != "cuda":
            raise ValueError(f"cuda_graphs needs a cuda device, got {self.device}")
        self.mixed_precision = mixed_precision
        self.model = MLP(spec.network, dtype=self.dtype, device=self.device).requires_grad_(False)
        self.network = spec.network
        self.params = self.model.parameter_list()
        self.layers = self.model.layer_tensors()
        self.set_layers(initial_layers(spec) if layers is None else layers)
        self.optimizer = SpecOptimizer(spec.training.optimizer, self.params)
        plain_sgd = spec.training.optimizer.name == "sgd" and spec.training.optimizer.momentum == 0
        self.fused_sgd = plain_sgd and not mixed_precision
        self.x = self._inputs(x)
        self.y = self._one_hot(labels, len(self.x))
        self._epoch_x = self._epoch_y = None  # reused gather buffers
        self._ones: dict[int, Tensor] = {}  # (1, n) rows of ones for `sgd_backward`
        self._graph = None
        if cuda_graphs:
            from .graphs import CudaGraphStep

            self._graph = CudaGraphStep(self)

    # --- data ---------------------------------------------------------------------------

    def _inputs(self, x: np.ndarray) -> Tensor:
        x = np.asarray(x)
        features = self.spec.network.layers[0]
        if x.ndim != 2 or x.shape[1] != features:
            raise ValueError(f"x: expected shape (N, {features}), got {x.shape}")
        return torch.as_tensor(x).to(device=self.device, dtype=self.dtype)

    def _one_hot(self, labels: np.ndarray, n: int) -> Tensor:
        labels = np.asarray(labels)
        classes = self.spec.network.layers[-1]
        if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels: expected {n} integer class indices, got {labels.shape}")
        if n and (labels.min() < 0 or labels.max() >= classes):
            raise ValueError(f"labels: class indices must be in [0, {classes}), got {labels.max()}")
        index = torch.as_tensor(labels, dtype=torch.int64).to(self.device)
        return torch.nn.functional.one_hot(index, classes).to(self.dtype)

    def gather(self, order: Tensor) -> tuple[Tensor, Tensor]:
        """The epoch's inputs and targets in batch order: one gather, into reused buffers."""
        n = len(order)
        if self._epoch_x is None or len(self._epoch_x) != n:
            self._epoch_x = self.x.new_empty((n, self.x.shape[1]))
            self._epoch_y = self.y.new_empty((n, self.y.shape[1]))
        torch.index_select(self.x, 0, order, out=self._epoch_x)
        torch.index_select(self.y, 0, order, out=self._epoch_y)
        return self._epoch_x, self._epoch_y

    # --- training -----------------------------------------------------------------------

    def step(self, xb: Tensor, yb: Tensor, lr: Scalar, t: Scalar | None = None) -> Tensor:
        """One update on one batch; returns its loss before the update (0-dim, on device).

        Plain SGD with a Python learning rate fuses the update into the backward pass
        (`network.sgd_backward`); a CUDA graph's tensor `lr` takes the general path.
        """
        if self.fused_sgd and not isinstance(lr, Tensor):
            logits = self.sgd_step(xb, yb, lr)
            return batch_losses(logits, yb, len(xb), self.spec.loss, self.network.output)[0]
        gradients = self.mixed_gradients if self.mixed_precision else self.gradients
        loss, grads = gradients(xb, yb)
        self.optimizer.update(grads, lr, t)
        return loss

    def sgd_step(self, xb: Tensor, yb: Tensor, lr: float, logits: Tensor | None = None) -> Tensor:
        """`step` for plain SGD: forward, δ, then backward and update fused. Returns the
        logits from before the update (written into `logits` when given), whose loss is
        the step's loss; the loss itself is left to the caller (`batch_losses`)."""
        trace = forward_trace(self.layers, xb, self.network, logits)
        summed_delta = summed_loss_delta(trace[-1], yb, self.spec.loss, self.network.output)
        d = divisor(*trace[-1].shape, self.spec.loss)
        decay = 1 - lr * self.spec.training.optimizer.weight_decay
        ones = self._ones.get(len(xb))
        if ones is None:
            ones = self._ones[len(xb)] = xb.new_ones((1, len(xb)))
        sgd_backward(self.layers, trace, summed_delta, self.network, lr / d, decay, ones)
        self.optimizer.steps += 1
        return trace[-1]

    def gradients(self, xb: Tensor, yb: Tensor) -> tuple[Tensor, list[Tensor]]:
        """The batch loss and the gradient of every parameter (`parameter_list` order)."""
        trace = forward_trace(self.layers, xb, self.network)
        loss, delta = loss_and_delta(trace[-1], yb, self.spec.loss, self.network.output)
        return loss, backward(self.layers, trace, delta, self.network)

    def mixed_gradients(self, xb: Tensor, yb: Tensor) -> tuple[Tensor, list[Tensor]]:
        """`gradients` with the matrix products in bfloat16: the logits are cast back
        before the loss, and the gradients before the update."""
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, cache_enabled=False)
        with autocast:
            trace = forward_trace(self.layers, xb, self.network)
        logits = trace[-1].to(self.dtype)
        loss, delta = loss_and_delta(logits, yb, self.spec.loss, self.network.output)
        with autocast:
            grads = backward(self.layers, trace, delta, self.network)
        return loss, [g.to(self.dtype) for g in grads]

    def train_batches(self, order: np.ndarray, batch_size: int, lr: float) -> np.ndarray:
        """One update per consecutive slice of `order` (indices into the training data);
        returns the float64 loss of each step."""
        if batch_size < 1:
            raise ValueError(f"batch_size: must be ≥ 1, got {batch_size}")
        order_t = torch.as_tensor(np.asarray(order, dtype=np.int64)).to(self.device)
        with torch.inference_mode():
            xs, ys = self.gather(order_t)
            if self._graph is not None:
                losses = self._graph.train_epoch(xs, ys, batch_size, lr)
            elif self.fused_sgd:
                logits = xs.new_empty((len(xs), ys.shape[1]))
                batches = zip(*(t.split(batch_size) for t in (xs, ys, logits)), strict=True)
                for xb, yb, zb in batches:
                    self.sgd_step(xb, yb, lr, zb)
                losses = batch_losses(logits, ys, batch_size, self.spec.loss, self.network.output)
            else:
                batches = zip(xs.split(batch_size), ys.split(batch_size), strict=True)
                steps = [self.step(xb, yb, lr) for xb, yb in batches]
                losses = torch.stack(steps) if steps else xs.new_empty(0)
            return losses.to(torch.float64).cpu().numpy()

    # --- inference and parameters -------------------------------------------------------

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The network's outputs a for inputs x (rows are samples), in the spec's dtype."""
        with torch.inference_mode():
            return self.model(self._inputs(x)).cpu().numpy()

    def get_layers(self) -> list[Layer]:
        """The parameters as NumPy arrays, weights (out_features, in_features)."""
        return module_layers(self.model)

    def set_layers(self, layers: list[Layer]) -> None:
        """Copy `layers` into the parameters in place (their storage, which a captured
        CUDA graph reads, stays the same)."""
        load_layers(self.model, layers)


def module_layers(model: MLP) -> list[Layer]:
    """The parameters of `model` as NumPy `Layer`s in the weight-format orientation."""
    return [
        Layer(
            linear.weight.detach().cpu().numpy().copy(),
            None if linear.bias is None else linear.bias.detach().cpu().numpy().copy(),
        )
        for linear in model.linears
    ]


def load_layers(model: MLP, layers: list[Layer]) -> None:
    """Copy NumPy `layers` into `model`'s parameters in place, checking every shape."""
    check_layers(model.network, layers)
    with torch.no_grad():
        for linear, layer in zip(model.linears, layers, strict=True):
            linear.weight.copy_(torch.as_tensor(np.asarray(layer.weight)))
            if linear.bias is not None:
                linear.bias.copy_(torch.as_tensor(np.asarray(layer.bias)))


def make_engine(
    spec: ModelSpec,
    x: np.ndarray,
    labels: np.ndarray,
    *,
    layers: list[Layer] | None = None,
    device: str | torch.device = "auto",
    mixed_precision: bool = False,
    cuda_graphs: bool = False,
) -> TorchEngine:
    """A `TorchEngine` for `spec` on (x, labels); `layers=None` draws the reference's
    initial weights (`mlp_numpy.init.initial_layers`)."""
    return TorchEngine(
        spec,
        x,
        labels,
        layers=layers,
        device=device,
        mixed_precision=mixed_precision,
        cuda_graphs=cuda_graphs,
    )
