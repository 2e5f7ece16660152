"""The spec's loss as a Keras loss (docs/model-spec.md#losses).

    cross_entropy  keras.losses.CategoricalCrossentropy(from_logits=True)   mean over samples
    bce            keras.losses.BinaryCrossentropy(from_logits=True)        mean over N·K terms
    mse            keras.losses.MeanSquaredError()                          mean over N·K terms

Cross-entropy and bce take the logits, as Keras recommends: the model's last `Dense` has
no activation and Keras fuses the softmax (sigmoid) into the loss, which is stable and
never clips a probability. mse compares the outputs, so the model ends in the spec's
output activation. Keras's losses average over the last axis and then over the batch; the
spec's reduction "sum_outputs" (sum over the K outputs, mean over the samples) is that
mean times K, which `model.compile` applies as the loss weight (`loss_weight`).

`loss.form` (docs/model-spec.md#loss-forms): the Keras tutorial's form, a softmax output
with `CategoricalCrossentropy()`, is the "logits" form on TensorFlow, where Keras takes the
logits back from the softmax. The other forms have no Keras built-in on TensorFlow and
raise `ConventionError`.
"""

import keras

from mlp_numpy.conventions import ConventionError
from mlp_numpy.spec import Loss, Network


def from_logits(loss: Loss) -> bool:
    """Whether the Keras loss of `loss` takes logits (the model then ends without its
    output activation)."""
    return loss.name in ("cross_entropy", "bce")


def make_loss(loss: Loss, network: Network) -> keras.losses.Loss:
    """The Keras loss of the spec's `loss` for `network`.

    Keras computes the loss in `keras.config.floatx()` at the time this is called, unless
    that differs from the training dtype: the engine calls it with floatx set to it.
    """
    if loss.form == "clipped_probabilities":
        raise ConventionError(
            "loss.form: Keras's TensorFlow backend computes CategoricalCrossentropy("
            "from_logits=False) of a softmax output from its logits (_get_logits in "
            "keras/src/backend/tensorflow/nn.py), so the clipped-probability form has no "
            'Keras built-in here; use form = "logits", which is what the Keras tutorial trains'
        )
    if loss.form == "clamped_log":
        raise ConventionError(
            "loss.form: Keras's BinaryCrossentropy clips probabilities to [1e-7, 1 − 1e-7] "
            'instead of clamping the log at −100 (PyTorch\'s BCELoss); use form = "logits"'
        )
    if loss.name == "cross_entropy":
        return keras.losses.CategoricalCrossentropy(from_logits=True)
    if loss.name == "bce":
        return keras.losses.BinaryCrossentropy(from_logits=True)
    return keras.losses.MeanSquaredError()


def loss_weight(loss: Loss, network: Network) -> float:
    """The weight `model.compile` gives the Keras loss for the spec's reduction: K for
    "sum_outputs" of the element-wise losses, else 1."""
    elementwise = loss.name != "cross_entropy"
    return float(network.num_classes) if elementwise and loss.reduction == "sum_outputs" else 1.0
