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

LayerTensors = tuple[Tensor, Tensor, Tensor | None]  # (W, Wᵀ, b as a (1, out) row) of one layer


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
        """(W_l, W_lᵀ, b_l) of each layer: the parameters as plain tensors, which a training
        step reads without `nn.Module` attribute lookups. W_lᵀ and b_l, a (1, out_features)
        row (None without bias), are views made once of the parameters' storage, so they
        follow every in-place update and a step creates no views of its own."""
        return [
            (w, w.t(), None if b is None else b.view(1, -1))
            for w, b in ((linear.weight, linear.bias) for linear in self.linears)
        ]

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


# --- losses: the value and ∂L/∂z ----------------------------------------------------------


def divisor(n: int, k: int, loss: Loss) -> int:
    """What the sum of the element-wise losses of n rows of k outputs is divided by: N for
    cross-entropy and for `sum_outputs`, N·K for `mean`, as torch's `CrossEntropyLoss`,
    `BCELoss` and `MSELoss` by default."""
    return n if loss.name == "cross_entropy" or loss.reduction == "sum_outputs" else n * k


def log_softmax_rows(z: Tensor) -> Tensor:
    """log softmax of each row of z, computed along dim 0 of zᵀ: torch's CPU kernel along
    the last dimension is slow on short rows (an epoch's 60 000 × 10 logits: about 10 ms,
    against 2 ms this way). Equal to `torch.log_softmax(z, dim=1)` up to the order in
    which the exponentials are summed (within an ulp or two)."""
    return torch.log_softmax(z.t(), dim=0).t()


def row_losses(z: Tensor, y: Tensor, loss: Loss, output_name: str) -> Tensor:
    """Σ_k of the element-wise losses of each row of logits z and one-hot targets y:

    - cross_entropy: logsumexp(z_n) − Σ_k y_nk z_nk = −Σ_k y_nk log softmax(z_n)_k
    - bce: Σ_k softplus(z_nk) − y_nk z_nk, with softplus(z) = max(z, 0) + log1p(e^(−|z|)),
      which never takes log 0
    - mse: Σ_k (a_nk − y_nk)², a = f(z)
    """
    if loss.name == "cross_entropy":
        return -(log_softmax_rows(z) * y).sum(dim=1)
    if loss.name == "bce":
        softplus = torch.clamp(z, min=0) + torch.log1p(torch.exp(-torch.abs(z)))
        return (softplus - y * z).sum(dim=1)
    if loss.name == "mse":
        error = output(z, output_name) - y
        return (error * error).sum(dim=1)
    raise ValueError(f"loss.name: unknown loss {loss.name!r}")


def summed_loss_delta(z: Tensor, y: Tensor, loss: Loss, output_name: str) -> Tensor:
    """D δ = ∂(Σ row_losses)/∂z, the derivative of the summed loss, for logits z and one-hot
    targets y; δ = ∂L/∂z is this divided by D (`loss_delta`):

    - cross_entropy: softmax(z) − y
    - bce: σ(z) − y
    - mse: ∂/∂a = 2 (a − y), then through the output's derivative
    """
    if loss.name == "cross_entropy":
        return torch.softmax(z, dim=1).sub_(y)
    if loss.name == "bce":
        return torch.sigmoid(z).sub_(y)
    if loss.name == "mse":
        a = output(z, output_name)
        return output_backward((a - y).mul_(2), a, output_name)
    raise ValueError(f"loss.name: unknown loss {loss.name!r}")


def loss_delta(z: Tensor, y: Tensor, loss: Loss, output_name: str) -> Tensor:
    """δ = ∂L/∂z of the batch loss L = Σ row_losses / D (D = `divisor`): `summed_loss_delta`
    times 1/D."""
    d = divisor(*z.shape, loss)
    delta = summed_loss_delta(z, y, loss, output_name)
    return delta if d == 1 else delta.mul_(1 / d)  # online learning: no scaling by 1


def loss_and_delta(z: Tensor, y: Tensor, loss: Loss, output_name: str) -> tuple[Tensor, Tensor]:
    """The batch loss L (a 0-dim tensor) and δ = ∂L/∂z for logits z and one-hot targets y."""
    value = row_losses(z, y, loss, output_name).sum() / divisor(*z.shape, loss)
    return value, loss_delta(z, y, loss, output_name)


def batch_losses(z: Tensor, y: Tensor, batch_size: int, loss: Loss, output_name: str) -> Tensor:
    """The loss of each consecutive batch of `batch_size` rows of (z, y), the last one
    possibly shorter, from one `row_losses` over all rows: a step that keeps its logits
    need not compute its loss."""
    rows = row_losses(z, y, loss, output_name)
    n, k = z.shape
    full = n - n % batch_size
    losses = [rows[:full].view(-1, batch_size).sum(dim=1) / divisor(batch_size, k, loss)]
    if full < n:
        losses.append(rows[full:].sum().view(1) / divisor(n - full, k, loss))
    return torch.cat(losses)


# --- the whole network: forward trace and backward pass -----------------------------------


def forward_trace(
    layers: list[LayerTensors], x: Tensor, network: Network, logits: Tensor | None = None
) -> list[Tensor]:
    """[x, h_1, …, h_{L-1}, z_L]: the input, every hidden activation and the logits,
    kept for `backward`; z_L is written into `logits` when given."""
    trace = [x]
    last = len(layers) - 1
    for index, (_, weight_t, bias) in enumerate(layers):
        h, out = trace[-1], logits if index == last else None
        if bias is None:
            z = torch.mm(h, weight_t, out=out)  # h Wᵀ
        else:
            z = torch.addmm(bias, h, weight_t, out=out)  # h Wᵀ + b
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
        weight, _, bias = layers[index]
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

    Every δ_l is linear in δ_L, so `delta` may be c δ_L with `lr` = η / c: the same update,
    with 1/c applied by each product instead of by one more op on δ_L (the same numbers
    when c is a power of two, as scaling by it is exact). Plain SGD passes D δ_L
    (`summed_loss_delta`) and η / D.
    """
    for index in range(len(layers) - 1, -1, -1):
        weight, _, bias = layers[index]
        h_in = trace[index]  # x for the first layer, h_{l-1} otherwise
        delta_in = hidden_backward(torch.mm(delta, weight), h_in, network) if index else None
        weight.addmm_(delta.t(), h_in, beta=decay, alpha=-lr)
        if bias is not None:
            bias.addmm_(ones, delta, beta=decay, alpha=-lr)
        delta = delta_in
