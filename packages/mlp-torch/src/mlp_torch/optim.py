"""The spec's optimizers, written as its formulas, over lists of tensors.

`g` is a parameter's gradient, `η` the rate of the epoch, `t` the number of updates so far
including this one. Weight decay λ is coupled L2, for weights and biases alike:
`g ← g + λ w`. Then

- sgd:       w ← w − η g
- momentum:  v ← μ v + g,  w ← w − η v
- nesterov:  v ← μ v + g,  w ← w − η (g + μ v)
- adam:      m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²,
             m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ),  w ← w − η m̂ / (√v̂ + ε),
             computed as PyTorch and mlp-numpy do, without materializing m̂ and v̂:
             w ← w − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)

Each line is one `torch._foreach_*` call: one pass over all parameters, which is what
keeps a step at batch size 1 cheap. These are also the formulas of `torch.optim.SGD` and
`torch.optim.Adam` (the tests check it); written out here because the bias corrections
`1 − βᵗ` must be computed in float64 even when training in float32, and because the same
code must run with `η` and `t` held in device tensors inside a captured CUDA graph.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mlp_numpy.spec import Optimizer

Scalar = float | Tensor  # a Python number, or a 0-dim tensor on the parameters' device


class SpecOptimizer:
    """The optimizer state (velocities or Adam moments) of one list of parameters."""

    def __init__(self, config: Optimizer, params: list[Tensor]) -> None:
        self.config = config
        self.params = params
        self.steps = 0  # t, counted here unless the caller passes it to `update`
        buffers = 2 if config.name == "adam" else int(config.momentum > 0)
        self.state = [[torch.zeros_like(p) for p in params] for _ in range(buffers)]

    def update(self, grads: list[Tensor], lr: Scalar, t: Scalar | None = None) -> None:
        """One update of every parameter in place. `grads` is consumed (overwritten).

        `t` defaults to the internal count; a CUDA graph passes a float64 device tensor.
        """
        if t is None:
            self.steps += 1
            t = self.steps
        c = self.config
        if c.weight_decay:
            torch._foreach_add_(grads, self.params, alpha=c.weight_decay)
        if c.name == "adam":
            m, v = self.state
            torch._foreach_mul_(m, c.beta1)
            torch._foreach_add_(m, grads, alpha=1 - c.beta1)
            torch._foreach_mul_(v, c.beta2)
            torch._foreach_addcmul_(v, grads, grads, value=1 - c.beta2)
            # 1 − βᵗ in float64: t is a Python int or a float64 tensor
            correction1, correction2 = 1 - c.beta1**t, 1 - c.beta2**t
            root = torch._foreach_sqrt(v)
            torch._foreach_div_(root, correction2**0.5)
            torch._foreach_add_(root, c.eps)  # √v̂ + ε, as √v / √(1 − β₂ᵗ) + ε
            step = torch._foreach_div(m, root)
            lr = lr / correction1  # η m̂ = (η / (1 − β₁ᵗ)) m
        elif c.momentum > 0:
            (velocity,) = self.state
            torch._foreach_mul_(velocity, c.momentum)
            torch._foreach_add_(velocity, grads)
            if c.nesterov:
                torch._foreach_add_(grads, velocity, alpha=c.momentum)
                step = grads
            else:
                step = velocity
        else:
            step = grads
        if isinstance(lr, Tensor):
            torch._foreach_sub_(self.params, torch._foreach_mul(step, lr))
        else:
            torch._foreach_add_(self.params, step, alpha=-lr)
