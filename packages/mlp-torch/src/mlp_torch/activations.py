"""The spec's activation functions as `torch.nn` modules.

Hidden layers apply g element-wise after each linear layer but the last:

    relu        g(z) = max(z, 0)                        nn.ReLU
    leaky_relu  g(z) = z if z > 0 else s·z              nn.LeakyReLU(s), s = network.leaky_slope
    sigmoid     g(z) = 1 / (1 + e^(−z))                 nn.Sigmoid
    tanh        g(z) = tanh z                           nn.Tanh

The output activation f turns the logits z into the network's outputs a = f(z):

    softmax     a_k = e^(z_k) / Σ_j e^(z_j), per row    nn.Softmax(dim=1)
    sigmoid     a = 1 / (1 + e^(−z))                    nn.Sigmoid
    identity    a = z                                   nn.Identity

Autograd differentiates them; the losses take the logits (see `losses`).
"""

from __future__ import annotations

from torch import nn

from mlp_numpy.spec import Network


def hidden_activation(network: Network) -> nn.Module:
    """g, the hidden activation of `network` (with its `leaky_slope`)."""
    name = network.hidden
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(network.leaky_slope)
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "tanh":
        return nn.Tanh()
    raise ValueError(f"network.hidden: unknown activation {name!r}")


def output_activation(name: str) -> nn.Module:
    """f, the output activation called `name` in the spec."""
    if name == "softmax":
        return nn.Softmax(dim=1)
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "identity":
        return nn.Identity()
    raise ValueError(f"network.output: unknown output {name!r}")
