"""`check_layers`: every backend's check that parameters fit a network."""

import numpy as np
import pytest

from mlp_numpy.layer import Layer, check_layers
from mlp_numpy.spec import Network

NETWORK = Network(layers=(4, 3, 2))


def layers(bias=True):
    return [
        Layer(np.zeros((out, inp)), np.zeros(out) if bias else None) for out, inp in NETWORK.shapes
    ]


def test_layers_that_fit_pass():
    check_layers(NETWORK, layers())
    check_layers(Network(layers=(4, 3, 2), bias=False), layers(bias=False))


@pytest.mark.parametrize(
    ("network", "given", "message"),
    [
        (NETWORK, layers()[:1], r"^layers: the network has 2 layers, got 1$"),
        (
            NETWORK,
            [layers()[0], Layer(np.zeros((3, 2)), np.zeros(2))],
            r"^layers\[1\]\.weight: expected shape \(2, 3\), got \(3, 2\)$",
        ),
        (
            NETWORK,
            [layers()[0], Layer(np.zeros((2, 3)), None)],
            r"^layers\[1\]\.bias: expected shape \(2,\), got None$",
        ),
        (
            NETWORK,
            [Layer(np.zeros((3, 4)), np.zeros(4)), layers()[1]],
            r"^layers\[0\]\.bias: expected shape \(3,\), got \(4,\)$",
        ),
        (
            Network(layers=(4, 3, 2), bias=False),
            layers(),
            r"^layers\[0\]\.bias: the network has no biases$",
        ),
    ],
)
def test_a_layer_that_does_not_fit_is_named(network, given, message):
    with pytest.raises(ValueError, match=message):
        check_layers(network, given)
