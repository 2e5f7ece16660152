"""The training engine: an `MLP`, its `torch.optim` optimizer and the training data, on
one device, trained the way PyTorch trains.

`mlp_numpy.training.fit` runs the epoch loop (batch order, learning-rate schedule,
history, early stopping, divergence) over this engine exactly as over the NumPy one; the
engine takes the steps. An epoch:

- sets every param group's `lr` to the epoch's learning rate from the spec's schedule;
- gathers the epoch's samples in the shared batch order with one `index_select` on the
  device (the data was cast and moved there once, when the engine was made) and splits
  them into batches, so there is no per-sample `DataLoader` work;
- for each batch: `optimizer.zero_grad()`, the logits, the loss from `torch.nn.functional`
  (`losses`), `loss.backward()`, `optimizer.step()`;
- returns each step's loss, computed before that step's update in the training dtype;
  the losses stay on the device until the epoch ends.

Opt-in, each measured in benchmarks/epoch.py: `mixed_precision` (the module under
`torch.autocast` in bfloat16, the loss in the training dtype), torch.optim's `fused`
implementation (one kernel per parameter for the whole update), and `compile_mode` (the
module through `torch.compile`; on CUDA, "reduce-overhead" replays its forward and
backward passes as CUDA graphs).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from mlp_numpy import Layer
from mlp_numpy.conventions import resolve
from mlp_numpy.initializers import initial_layers
from mlp_numpy.inputs import check_inputs, check_labels
from mlp_numpy.spec import ModelSpec

from .devices import check_dtype, resolve_device, set_tf32
from .initializers import framework_layers
from .losses import make_loss, targets
from .network import MLP, load_layers, module_layers
from .optimizers import make_optimizer

DTYPES = {"float32": torch.float32, "float64": torch.float64}


class TorchEngine:
    """Trains `MLP(spec.network)` on (x, labels) with the spec's loss and optimizer.

    `module` is the `nn.Module` and `optimizer` the `torch.optim.Optimizer` it trains
    with; both are plain PyTorch objects that code outside the engine may keep using.
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
        fused: bool | None = None,
        compile_mode: str | None = None,
    ) -> None:
        spec = resolve(spec, "torch")
        network = spec.network
        self.spec = spec
        self.device = resolve_device(device)
        self.dtype = DTYPES[spec.training.dtype]
        check_dtype(self.device, self.dtype)
        set_tf32(spec.training.tf32)
        self.module = MLP(network, dtype=self.dtype, device=self.device)
        if layers is None:
            drawn_by_torch = spec.init.draw == "framework" and spec.init.scheme != "file"
            layers = framework_layers(spec) if drawn_by_torch else initial_layers(spec)
        self.set_layers(layers)
        # batch_order = "framework": a DataLoader's RandomSampler order, from this generator.
        self.generator = torch.Generator().manual_seed(spec.training.seed)
        self.optimizer = make_optimizer(
            spec.training.optimizer, self.module.parameters(), fused=fused
        )
        self.loss = make_loss(spec.loss, network)
        self.mixed_precision = mixed_precision
        self.compiled = compile_mode is not None
        self.forward = (
            torch.compile(self.module, mode=compile_mode) if self.compiled else self.module
        )
        x = check_inputs(x, network.layers[0])
        labels = check_labels(labels, len(x), network.layers[-1])
        self.x = torch.as_tensor(x).to(device=self.device, dtype=self.dtype)
        index = torch.as_tensor(labels, dtype=torch.int64).to(self.device)
        self.targets = targets(index, spec.loss, network.layers[-1], self.dtype)
        self._epoch: tuple[Tensor, Tensor] | None = None  # the gather's buffers

    def gather(self, index: Tensor) -> tuple[Tensor, Tensor]:
        """The inputs and targets of the samples `index`, in that order: one `index_select`
        each, into buffers kept from one epoch to the next (a new epoch of inputs, 188 MB
        for MNIST in float32, would cost its page faults every epoch)."""
        if self._epoch is None or len(self._epoch[0]) != len(index):
            shape = (len(index), *self.targets.shape[1:])
            self._epoch = (
                self.x.new_empty((len(index), self.x.shape[1])),
                self.targets.new_empty(shape),
            )
        xs, ys = self._epoch
        torch.index_select(self.x, 0, index, out=xs)
        torch.index_select(self.targets, 0, index, out=ys)
        return xs, ys

    def epoch_order(self, order: np.ndarray) -> Tensor:
        """The epoch's sample order: the shared `order`, or with `batch_order = "framework"`
        (and shuffling) PyTorch's own, drawn from `g` as each full epoch of a
        `DataLoader(shuffle=True, generator=g)` draws it: its iterator's base seed (one
        int64), its `RandomSampler`'s `torch.randperm(n, generator=g)` (cut to
        `len(order)`), and the sampler's draw for the remaining `num_samples % n = 0`
        samples, one more `randperm` when the epoch ends."""
        training = self.spec.training
        if training.batch_order == "framework" and training.shuffle:
            n, generator = len(self.x), self.generator
            torch.empty((), dtype=torch.int64).random_(generator=generator)  # base seed
            order_of_epoch = torch.randperm(n, generator=generator)[: len(order)]
            torch.randperm(n, generator=generator)  # the sampler's empty remainder
            return order_of_epoch
        return torch.as_tensor(np.asarray(order, dtype=np.int64))

    def step(self, xb: Tensor, yb: Tensor) -> Tensor:
        """One update on one batch; returns its loss before the update (0-dim, on device)."""
        if self.compiled:
            torch.compiler.cudagraph_mark_step_begin()
        self.optimizer.zero_grad()
        if self.mixed_precision:
            with torch.autocast(self.device.type, dtype=torch.bfloat16):
                z = self.forward(xb)
            z = z.to(self.dtype)
        else:
            z = self.forward(xb)
        loss = self.loss(z, yb)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def train_batches(self, order: np.ndarray, batch_size: int, lr: float) -> np.ndarray:
        """One update per consecutive slice of `order` (indices into the training data) at
        learning rate `lr`; returns the loss of each step as float64 numbers."""
        if batch_size < 1:
            raise ValueError(f"batch_size: must be ≥ 1, got {batch_size}")
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        index = self.epoch_order(order).to(self.device)
        xs, ys = self.gather(index)
        batches = zip(xs.split(batch_size), ys.split(batch_size), strict=True)
        losses = [self.step(xb, yb) for xb, yb in batches]
        if not losses:
            return np.empty(0)
        return torch.stack(losses).to(torch.float64).cpu().numpy()

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The network's outputs a for inputs x (rows are samples), in the spec's dtype."""
        x = check_inputs(x, self.spec.network.layers[0])
        with torch.inference_mode():
            inputs = torch.as_tensor(x).to(device=self.device, dtype=self.dtype)
            return self.module.probabilities(inputs).cpu().numpy()

    def get_layers(self) -> list[Layer]:
        """The parameters as NumPy arrays, weights (out_features, in_features)."""
        return module_layers(self.module)

    def set_layers(self, layers: list[Layer]) -> None:
        """Copy `layers` into the parameters in place (the optimizer keeps its state)."""
        load_layers(self.module, layers)


def make_engine(
    spec: ModelSpec,
    x: np.ndarray,
    labels: np.ndarray,
    *,
    layers: list[Layer] | None = None,
    device: str | torch.device = "auto",
    mixed_precision: bool = False,
    fused: bool | None = None,
    compile_mode: str | None = None,
) -> TorchEngine:
    """A `TorchEngine` for `spec` on (x, labels); `layers=None` draws the reference's
    initial weights (`mlp_numpy.initializers.initial_layers`)."""
    return TorchEngine(
        spec,
        x,
        labels,
        layers=layers,
        device=device,
        mixed_precision=mixed_precision,
        fused=fused,
        compile_mode=compile_mode,
    )
