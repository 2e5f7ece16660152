"""The network of a spec as a `torch.nn.Module`, with the derivatives that train it.

Layer l computes `h_l = g(h_{l-1} W_lᵀ + b_l)`, where `W_l` has the shape
`(out_features, in_features)` of `torch.nn.Linear.weight` and of the weight format, so no
transposes are needed anywhere. The module's `forward` is plain PyTorch and is what
autograd would differentiate; the functions below it give the same derivatives in closed
form, exactly as docs/model-spec.md writes them, so that a training step needs no autograd
graph (see `backward`). The tests check these derivatives against autograd.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mlp_numpy.spec import Loss, Network

LayerTensors = tuple[Tensor, Tensor | None]  # (W, b) of one layer


class MLP(nn.Module):
    """A multilayer perceptron built from a spec's `Network`: every layer size, the hidden
    activation (with its `leaky_slope`), the output function and the bias setting."""

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

    def parameter_list(self) -> list[Tensor]:
        """The parameters in weight-file order: W_1, b_1, W_2, b_2, … (no b without bias)."""
        return [p for linear in self.linears for p in (linear.weight, linear.bias) if p is not None]

    def layer_tensors(self) -> list[LayerTensors]:
        """(W_l, b_l) of each layer, b_l None without bias: the parameters as plain tensors,
        which a training step reads without going through `nn.Module` attribute lookup."""
        return [(linear.weight, linear.bias) for linear in self.linears]

    def logits(self, x: Tensor) -> Tensor:
        """z, the output layer's pre-activation."""
        return forward_trace(self.layer_tensors(), x, self.network)[-1]

    def forward(self, x: Tensor) -> Tensor:
        """a = f(z), the network's output (class probabilities for softmax)."""
        return output(self.logits(x), self.network.output)


# --- hidden activations g and their derivatives g′ ---------------------------------------


def hidden(z: Tensor, network: Network) -> Tensor:
    """h = g(z) for the hidden activation of `network`, computed in place in z."""
    name = network.hidden
    if name == "relu":
        return z.relu_()
    if name == "sigmoid":
        return z.sigmoid_()
    if name == "tanh":
        return z.tanh_()
    if name == "leaky_relu":  # z if z > 0 else s·z, which is max(z, s·z) as 0 ≤ s < 1
        return torch.nn.functional.leaky_relu_(z, network.leaky_slope)
    raise ValueError(f"network.hidden: unknown activation {name!r}")


def hidden_backward(grad_h: Tensor, h: Tensor, network: Network) -> Tensor:
    """∂L/∂z = ∂L/∂h ⊙ g′(z), with g′ written through h = g(z): relu 1 if h > 0 else 0;
    leaky_relu 1 if h > 0 else s; sigmoid h(1 − h); tanh 1 − h². (h > 0 exactly when
    z > 0, since 0 ≤ s.)"""
    name = network.hidden
    if name == "relu":  # torch's own relu backward: grad_h where h > 0, else 0
        return torch.ops.aten.threshold_backward(grad_h, h, 0)
    if name == "sigmoid":
        return grad_h.mul_(h * (1 - h))
    if name == "tanh":
        return grad_h.mul_(1 - h * h)
    if name == "leaky_relu":
        return torch.where(h > 0, grad_h, grad_h * network.leaky_slope)
    raise ValueError(f"network.hidden: unknown activation {name!r}")


# --- output functions f -------------------------------------------------------------------


def output(z: Tensor, name: str) -> Tensor:
    """a = f(z): softmax (after subtracting the row maximum), sigmoid, or identity."""
    if name == "softmax":
        return torch.softmax(z, dim=1)
    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "identity":
        return z
    raise ValueError(f"network.output: unknown output {name!r}")


def output_backward(grad_a: Tensor, a: Tensor, name: str) -> Tensor:
    """∂L/∂z from ∂L/∂a through f: softmax a ⊙ (g − Σ_k g_k a_k), sigmoid g a(1 − a),
    identity g."""
    if name == "softmax":
        return a * (grad_a - (grad_a * a).sum(dim=1, keepdim=True))
    if name == "sigmoid":
        return grad_a * a * (1 - a)
    if name == "identity":
        return grad_a
    raise ValueError(f"network.output: unknown output {name!r}")


# --- losses: the value and ∂L/∂z together -------------------------------------------------


def loss_and_delta(z: Tensor, y: Tensor, loss: Loss, output_name: str) -> tuple[Tensor, Tensor]:
    """The batch loss L (a 0-dim tensor) and δ = ∂L/∂z for logits z and one-hot targets y.

    The divisor is N for cross-entropy and for `sum_outputs`, N·K for `mean` of the
    element-wise losses, as torch's `CrossEntropyLoss`, `BCELoss` and `MSELoss` by default.

    - cross_entropy: L = Σ_n [logsumexp(z_n) − Σ_k y_nk z_nk] / N, δ = (softmax(z) − y) / N
    - bce: L = Σ [softplus(z) − y z] / D, δ = (σ(z) − y) / D, with
      softplus(z) = max(z, 0) + log1p(e^(−|z|)), which never takes log 0
    - mse: L = Σ (a − y)² / D, ∂L/∂a = 2 (a − y) / D, then through the output's derivative
    """
    n, k = z.shape
    divisor = n if loss.name == "cross_entropy" or loss.reduction == "sum_outputs" else n * k
    if loss.name == "cross_entropy":
        # log softmax(z) = z − logsumexp(z), so L = −Σ y · log softmax(z) / N as y is one-hot
        log_p = torch.log_softmax(z, dim=1)
        value = torch.dot(log_p.view(-1), y.view(-1))
        delta = log_p.exp_().sub_(y)
        if divisor == 1:  # online learning: skip two scalings by 1
            return value.neg_(), delta
        return value.mul_(-1 / divisor), delta.mul_(1 / divisor)
    if loss.name == "bce":
        softplus = torch.clamp(z, min=0) + torch.log1p(torch.exp(-torch.abs(z)))
        value = (softplus - y * z).sum() / divisor
        return value, (torch.sigmoid(z) - y) / divisor
    if loss.name == "mse":
        a = output(z, output_name)
        error = a - y
        value = (error * error).sum() / divisor
        return value, output_backward(error * (2 / divisor), a, output_name)
    raise ValueError(f"loss.name: unknown loss {loss.name!r}")


# --- the whole network: forward trace and backward pass -----------------------------------


def forward_trace(layers: list[LayerTensors], x: Tensor, network: Network) -> list[Tensor]:
    """[x, h_1, …, h_{L-1}, z_L]: the input, every hidden activation and the logits,
    kept for `backward`."""
    trace = [x]
    last = len(layers) - 1
    for index, (weight, bias) in enumerate(layers):
        z = torch.nn.functional.linear(trace[-1], weight, bias)  # h Wᵀ + b
        trace.append(hidden(z, network) if index < last else z)
    return trace


def backward(
    layers: list[LayerTensors], trace: list[Tensor], delta: Tensor, network: Network
) -> list[Tensor]:
    """The gradients of every parameter, in `parameter_list` order, from δ = ∂L/∂z_L.

    For each layer l from the last: ∂L/∂W_l = δ_lᵀ h_{l-1}, ∂L/∂b_l = Σ_n δ_l, and, below
    the first layer, δ_{l-1} = (δ_l W_l) ⊙ g′(z_{l-1}).
    """
    grads: list[Tensor] = []
    for index in range(len(layers) - 1, -1, -1):
        weight, bias = layers[index]
        h_in = trace[index]  # x for the first layer, h_{l-1} otherwise
        if bias is not None:
            grads.append(delta.sum(dim=0))
        grads.append(torch.mm(delta.t(), h_in))
        if index > 0:
            delta = hidden_backward(torch.mm(delta, weight), h_in, network)
    grads.reverse()
    return grads


def sgd_backward(
    layers: list[LayerTensors],
    trace: list[Tensor],
    delta: Tensor,
    network: Network,
    lr: float,
    decay: float,
    ones: Tensor,
) -> None:
    """`backward` and the plain SGD update w ← w − η (g + λ w) in one pass, in place.

    Written as w ← (1 − ηλ) w − η g, each layer's update is one `addmm_` that forms the
    gradient and applies it together, so ∂L/∂W_l = δ_lᵀ h_{l-1} is never stored:

        W_l ← (1 − ηλ) W_l − η δ_lᵀ h_{l-1}
        b_l ← (1 − ηλ) b_l − η 1ᵀ δ_l          (1ᵀ δ_l = Σ_n δ_l, as a (1, n) × (n, k) product)

    δ_{l-1} = (δ_l W_l) ⊙ g′(z_{l-1}) is computed before W_l changes. Equal to `backward`
    followed by `SpecOptimizer.update` up to rounding. `ones` is 1ᵀ, of shape (1, n).
    """
    for index in range(len(layers) - 1, -1, -1):
        weight, bias = layers[index]
        h_in = trace[index]  # x for the first layer, h_{l-1} otherwise
        delta_in = hidden_backward(torch.mm(delta, weight), h_in, network) if index else None
        weight.addmm_(delta.t(), h_in, beta=decay, alpha=-lr)
        if bias is not None:
            bias.view(1, -1).addmm_(ones, delta, beta=decay, alpha=-lr)
        delta = delta_in
