"""The spec's loss as a Keras loss (docs/model-spec.md#losses).

    cross_entropy  keras.losses.CategoricalCrossentropy(from_logits=True)   mean over samples
    bce            keras.losses.BinaryCrossentropy(from_logits=True)        mean over N·K terms
    mse            keras.losses.MeanSquaredError()                          mean over N·K terms

Cross-entropy and bce take the logits, as Keras recommends: the model's last `Dense` has
no activation and Keras fuses the softmax (sigmoid) into the loss, which is stable and
never clips a probability (`from_logits=False` clips to [1e-7, 1 − 1e-7]). mse compares
the outputs, so the model ends in the spec's output activation. The Keras tutorial's form,
a softmax output with `CategoricalCrossentropy()`, is the same computation on TensorFlow:
Keras takes the logits back from the softmax (docs/model-spec.md#loss-forms); the other
`loss.form` values have no Keras built-in and raise `ConventionError`. Keras's losses average
over the last axis and then over the batch; the spec's reduction "sum_outputs" (sum over
the K outputs, mean over the samples) is that mean times K, which `model.compile` applies
as the loss weight.
"""

import keras

from mlp_numpy.spec import Loss, Network

from .optimizers import ConventionError


def from_logits(loss: Loss) -> bool:
    """Whether the Keras loss of `loss` takes logits (the model then ends without its
    output activation)."""
    return loss.name in ("cross_entropy", "bce")


def make_loss(loss: Loss, network: Network) -> tuple[keras.losses.Loss, float]:
    """The Keras loss of the spec and the loss weight that gives the spec's reduction.

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
        return keras.losses.CategoricalCrossentropy(from_logits=True), 1.0
    weight = float(network.num_classes) if loss.reduction == "sum_outputs" else 1.0
    if loss.name == "bce":
        return keras.losses.BinaryCrossentropy(from_logits=True), weight
    return keras.losses.MeanSquaredError(), weight
