"""`Layer`: the parameters of one linear layer, in the weight-format orientation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .spec import Network


class Layer(NamedTuple):
    """One linear layer `z = h Wᵀ + b`.

    `weight` has shape (out_features, in_features), as a PyTorch `Linear` weight;
    `bias` has shape (out_features,), or is None in a network without biases.
    """

    weight: np.ndarray
    bias: np.ndarray | None


def check_layers(network: Network, layers: Sequence[Layer]) -> None:
    """Raise ValueError, naming the layer, unless `layers` fit `network`: one per layer,
    each weight of shape (out, in), and a bias of shape (out,) exactly when the network
    has biases."""
    shapes = network.shapes
    if len(layers) != len(shapes):
        raise ValueError(f"layers: the network has {len(shapes)} layers, got {len(layers)}")
    for number, (layer, (n_out, n_in)) in enumerate(zip(layers, shapes, strict=True)):
        if np.shape(layer.weight) != (n_out, n_in):
            raise ValueError(
                f"layers[{number}].weight: expected shape {(n_out, n_in)}, "
                f"got {np.shape(layer.weight)}"
            )
        if network.bias and (layer.bias is None or np.shape(layer.bias) != (n_out,)):
            got = None if layer.bias is None else np.shape(layer.bias)
            raise ValueError(f"layers[{number}].bias: expected shape {(n_out,)}, got {got}")
        if not network.bias and layer.bias is not None:
            raise ValueError(f"layers[{number}].bias: the network has no biases")
