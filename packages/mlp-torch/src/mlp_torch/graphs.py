"""A training step captured as one CUDA graph, for small batches where launches dominate.

At batch 64 a step of the 784-128-64-10 network is a few dozen tiny kernels; launched one
by one from Python they cost more than they compute. Captured once, the whole step —
reading the next batch, forward, backward, optimizer update, recording the loss — replays
with one launch. Everything that changes between replays lives in device tensors the
graph reads: the step index, the learning rate and the update count `t` (float64, so the
Adam bias corrections `1 − βᵗ` are float64 as in eager mode). Parameters and optimizer
state are updated in place, so `set_layers` (which copies in place) keeps the graph valid.

The last, shorter batch of an epoch runs eagerly with the same code.

Status: written to the CUDA graph rules (static addresses, no host synchronization in the
step, warm-up on a side stream with the state restored afterwards) and exercised on CPU
through `static_step` without capture; the capture itself has not yet been run on a GPU.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:
    from .engine import TorchEngine


class CudaGraphStep:
    """Replays the captured step of one engine for every full batch of an epoch."""

    def __init__(self, engine: TorchEngine) -> None:
        self.engine = engine
        device = engine.device
        self.step_index = torch.zeros((), dtype=torch.int64, device=device)
        self.lr = torch.zeros((), dtype=torch.float64, device=device)
        self.t = torch.zeros((), dtype=torch.float64, device=device)
        self.graph: torch.cuda.CUDAGraph | None = None
        self.shape: tuple[int, int] = (0, 0)  # (full steps, batch size) of the capture
        self.x = self.y = self.losses = None

    def static_step(self) -> None:
        """The captured work: step `step_index` of the batches in `self.x`, `self.y`."""
        index = self.step_index.view(1)
        xb = self.x.index_select(0, index).squeeze(0)
        yb = self.y.index_select(0, index).squeeze(0)
        self.t += 1
        loss = self.engine.step(xb, yb, self.lr, self.t)
        self.losses.index_copy_(0, index, loss.to(torch.float64).view(1))
        self.step_index += 1

    def prepare(self, steps: int, batch_size: int) -> None:
        """Allocate the static batch buffers, sized for `steps` full batches."""
        x, y = self.engine.x, self.engine.y
        self.x = x.new_zeros((steps, batch_size, x.shape[1]))
        self.y = y.new_zeros((steps, batch_size, y.shape[1]))
        self.losses = torch.zeros(steps, dtype=torch.float64, device=x.device)
        self.shape = (steps, batch_size)

    def capture(self) -> None:
        """Warm up on a side stream (then undo the warm-up's updates) and capture."""
        state = self.engine.params + [b for buffers in self.engine.optimizer.state for b in buffers]
        saved = [tensor.clone() for tensor in state]
        self.step_index.zero_()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            self.static_step()
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.static_step()
        for tensor, value in zip(state, saved, strict=True):
            tensor.copy_(value)

    def train_epoch(self, xs: Tensor, ys: Tensor, batch_size: int, lr: float) -> Tensor:
        """All steps of one epoch over the gathered data; the losses on the device."""
        steps, rest = divmod(len(xs), batch_size)
        if steps and self.shape != (steps, batch_size):
            self.prepare(steps, batch_size)
            self.capture()
        full = steps * batch_size
        losses = []
        if steps:
            self.x.view(full, -1).copy_(xs[:full])
            self.y.view(full, -1).copy_(ys[:full])
            self.step_index.zero_()
            self.lr.fill_(lr)
            self.t.fill_(self.engine.optimizer.steps)
            for _ in range(steps):
                self.graph.replay()
            self.engine.optimizer.steps += steps
            losses.append(self.losses)
        if rest:
            loss = self.engine.step(xs[full:], ys[full:], lr)
            losses.append(loss.to(torch.float64).view(1))
        return torch.cat(losses) if losses else xs.new_empty(0, dtype=torch.float64)
