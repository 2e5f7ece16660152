"""Initial weights drawn by PyTorch itself, for `init.draw = "framework"`
(docs/model-spec.md#initialization).

A tutorial seeds PyTorch and builds its layers; each `nn.Linear` draws its own weights in
`reset_parameters`. `framework_layers` does the same, seeded by `training.seed` inside
`torch.random.fork_rng` (so the caller's global generator is left as it was), in the training
dtype, on the CPU:

    fan_in_uniform   nn.Linear's own reset_parameters: W, b ~ U(−1/√fan_in, 1/√fan_in)
    xavier_uniform   nn.init.xavier_uniform_(W)
    xavier_normal    nn.init.xavier_normal_(W)
    he_uniform       nn.init.kaiming_uniform_(W, nonlinearity="relu")
    he_normal        nn.init.kaiming_normal_(W, nonlinearity="relu")

with `init.bias = "zeros"` the bias is `nn.init.zeros_(b)`. Only `fan_in_uniform` has a
PyTorch bias initializer like its weights'; the other schemes with `"like_weights"` are an
error naming the field.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from mlp_numpy import Layer
from mlp_numpy.spec import ModelSpec, SpecError

WEIGHT_INITIALIZERS: dict[str, Callable[[Tensor], object]] = {
    "xavier_uniform": nn.init.xavier_uniform_,
    "xavier_normal": nn.init.xavier_normal_,
    "he_uniform": lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"),
    "he_normal": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
}


def framework_layers(spec: ModelSpec) -> list[Layer]:
    """The initial parameters PyTorch draws for `spec`'s network, seeded by its seed, in
    its training dtype."""
    init, network = spec.init, spec.network
    dtype = getattr(torch, spec.training.dtype)
    if init.scheme != "fan_in_uniform" and init.scheme not in WEIGHT_INITIALIZERS:
        raise SpecError(f'init.draw: "framework" has no PyTorch initializer for "{init.scheme}"')
    if init.scheme != "fan_in_uniform" and network.bias and init.bias == "like_weights":
        raise SpecError(
            f'init.bias: torch.nn.init draws no bias like "{init.scheme}" weights; '
            'use bias = "zeros" or init.draw = "reference"'
        )
    layers = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.training.seed)
        for n_out, n_in in network.shapes:
            linear = nn.Linear(n_in, n_out, bias=network.bias, dtype=dtype)  # reset_parameters
            with torch.no_grad():
                if init.scheme != "fan_in_uniform":
                    WEIGHT_INITIALIZERS[init.scheme](linear.weight)
                if linear.bias is not None and init.bias == "zeros":
                    nn.init.zeros_(linear.bias)
            bias = None if linear.bias is None else linear.bias.detach().numpy().copy()
            layers.append(Layer(linear.weight.detach().numpy().copy(), bias))
    return layers
