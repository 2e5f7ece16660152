"""`Layer`: the parameters of one linear layer, in the weight-format orientation."""

from typing import NamedTuple

import numpy as np


class Layer(NamedTuple):
    """One linear layer `z = h Wᵀ + b`.

    `weight` has shape (out_features, in_features), as a PyTorch `Linear` weight;
    `bias` has shape (out_features,), or is None in a network without biases.
    """

    weight: np.ndarray
    bias: np.ndarray | None
