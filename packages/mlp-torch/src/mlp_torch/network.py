"""The network of a spec as a `torch.nn.Module` of `nn.Linear` layers.

Layer l computes `h_l = g(h_{l-1} W_lᵀ + b_l)`, with g the hidden activation, except the
last, whose pre-activation z (the logits) is what `forward` returns, as PyTorch modules
trained with `F.cross_entropy` do; `probabilities` applies the output activation, a = f(z).
`nn.Linear.weight` has the shape (out_features, in_features) of the weight format, so
weights copy between the two as they are.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import torch
from torch import Tensor, nn

from mlp_numpy import Layer
from mlp_numpy.layer import check_layers
from mlp_numpy.spec import Network

from .activations import hidden_activation, output_activation


class MLP(nn.Module):
    """A multilayer perceptron built from a spec's `Network`: every layer size, the hidden
    activation (with its `leaky_slope`), the output activation and the bias setting."""

    def __init__(
        self,
        network: Network,
        *,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ) -> None:
        super().__init__()
        self.network = network
        self.linears = nn.ModuleList(
            nn.Linear(n_in, n_out, bias=network.bias, dtype=dtype, device=device)
            for n_out, n_in in network.shapes
        )
        self.activation = hidden_activation(network)
        self.output = output_activation(network.output)

    def forward(self, x: Tensor) -> Tensor:
        """z, the logits: the last layer's pre-activation."""
        *hidden, last = self.linears
        for linear in hidden:
            x = self.activation(linear(x))
        return last(x)

    def probabilities(self, x: Tensor) -> Tensor:
        """a = f(z), the network's outputs (class probabilities for softmax)."""
        return self.output(self(x))

    def linear_layers(self) -> list[nn.Linear]:
        """The `nn.Linear` layers, first to last."""
        return [cast(nn.Linear, linear) for linear in self.linears]


def module_layers(module: MLP) -> list[Layer]:
    """The parameters of `module` as NumPy `Layer`s in the weight-format orientation."""
    return [
        Layer(
            linear.weight.detach().cpu().numpy().copy(),
            None if linear.bias is None else linear.bias.detach().cpu().numpy().copy(),
        )
        for linear in module.linear_layers()
    ]


def load_layers(module: MLP, layers: list[Layer]) -> None:
    """Copy NumPy `layers` into `module`'s parameters in place, checking every shape."""
    check_layers(module.network, layers)
    with torch.no_grad():
        for linear, layer in zip(module.linear_layers(), layers, strict=True):
            linear.weight.copy_(torch.as_tensor(np.asarray(layer.weight)))
            if linear.bias is not None:
                linear.bias.copy_(torch.as_tensor(np.asarray(layer.bias)))
