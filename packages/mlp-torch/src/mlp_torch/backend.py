"""mlp-torch as a backend (`mlp_numpy.backends.Backend`), registered under "torch".

Besides the training API (`make_engine`, `train`, `load`, `devices`), what a comparison
needs to know of PyTorch: its threads, its GPU, its installed defaults, and the two loops
`mlp-compare bench` times beside the engine.
"""

from __future__ import annotations

import inspect
import math
from itertools import pairwise

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from mlp_numpy.backends import DefaultReading, seconds_per_epoch

from .devices import devices
from .engine import make_engine
from .model import load, train

NAME = "torch"
DISPLAY_NAME = "PyTorch"
DISTRIBUTION = "mlp-torch"
DEFAULTS_SET = "torch"

__all__ = [
    "DEFAULTS_SET",
    "DISPLAY_NAME",
    "DISTRIBUTION",
    "NAME",
    "accelerator_name",
    "devices",
    "framework_version",
    "installed_defaults",
    "load",
    "make_engine",
    "products_epoch",
    "set_threads",
    "thread_settings",
    "train",
    "tutorial_epoch",
]


def framework_version() -> str:
    return torch.__version__


def set_threads(threads: int) -> None:
    """PyTorch's intra-op thread pool on `threads` threads (`torch.set_num_threads`)."""
    torch.set_num_threads(threads)


def thread_settings() -> dict[str, int | None]:
    return {"intra_op": torch.get_num_threads()}


def accelerator_name() -> str | None:
    """The first CUDA device's name, None without one."""
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def installed_defaults() -> dict[str, DefaultReading]:
    """PyTorch's defaults as the installed version defines them: read from its signatures
    and settings, nn.Linear's init bound measured, the formulas named where they are."""
    state = torch.random.get_rng_state()
    torch.manual_seed(0)
    linear = nn.Linear(400, 300)
    torch.random.set_rng_state(state)
    bound = float(linear.weight.detach().abs().max()) * math.sqrt(400)
    bias_bound = float(linear.bias.detach().abs().max()) * math.sqrt(400)
    adam = inspect.signature(torch.optim.Adam).parameters
    shuffle = inspect.signature(DataLoader).parameters["shuffle"].default
    return {
        "init": DefaultReading(
            f"W max|w|·√fan_in = {bound:.3f}, b max|b|·√fan_in = {bias_bound:.3f}",
            "measured: torch.nn.Linear(400, 300) after torch.manual_seed(0); 1/√fan_in gives 1.000",
        ),
        "eps": DefaultReading(adam["eps"].default, "inspect.signature(torch.optim.Adam) eps"),
        "eps_placement": DefaultReading("η m̂/(√v̂ + ε)", "the formula in torch/optim/adam.py"),
        "weight_decay_form": DefaultReading(
            adam["weight_decay"].default,
            "inspect.signature(torch.optim.Adam) weight_decay (coupled: g + λw)",
        ),
        "velocity": DefaultReading("v ← μv + g", "the formula in torch/optim/sgd.py"),
        "hyperparameter_precision": DefaultReading("Python floats", "torch.optim"),
        "loss_form": DefaultReading("from logits", "torch.nn.CrossEntropyLoss takes logits"),
        "batch_order": DefaultReading(
            f"DataLoader shuffle={shuffle}",
            "inspect.signature(DataLoader) shuffle; tutorials pass shuffle=True",
        ),
        "tf32": DefaultReading(
            bool(torch.backends.cuda.matmul.allow_tf32), "torch.backends.cuda.matmul.allow_tf32"
        ),
    }


def products_epoch(sizes: list[int], n: int, batch_size: int, epochs: int, device: str) -> float:
    """The matrix products of a training epoch alone, in float32 on `device`: per step and
    layer l, the forward h_l = h_{l−1} W_lᵀ, the weight gradient δ_lᵀ h_{l−1} and (below
    the top layer) δ_l W_l."""
    generator = torch.Generator().manual_seed(0)
    weights = [torch.randn(o, i, generator=generator).to(device) for i, o in pairwise(sizes)]
    grads = [torch.empty_like(w) for w in weights]
    acts = [torch.randn(batch_size, s, generator=generator).to(device) for s in sizes]
    deltas = [torch.empty(batch_size, s, device=device) for s in sizes]
    full, rest = divmod(n, batch_size)
    steps = [batch_size] * full + ([rest] if rest else [])

    def run_epoch(epoch: int) -> None:
        for b in steps:
            for layer, w in enumerate(weights):
                torch.mm(acts[layer][:b], w.T, out=acts[layer + 1][:b])
            for layer in range(len(weights) - 1, -1, -1):
                torch.mm(acts[layer + 1][:b].T, acts[layer][:b], out=grads[layer])
                if layer:
                    torch.mm(acts[layer + 1][:b], weights[layer], out=deltas[layer][:b])
        _synchronize(device)

    with torch.no_grad():
        return seconds_per_epoch(run_epoch, epochs)


def tutorial_epoch(
    sizes: list[int],
    x: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    epochs: int,
    device: str,
) -> float:
    """An epoch of the loop PyTorch's tutorials write: a `DataLoader(shuffle=True)` over a
    `TensorDataset`, an `nn.Sequential` of `nn.Linear` and `nn.ReLU`, `CrossEntropyLoss`
    and `torch.optim.SGD`, each batch moved to `device`."""
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for i, o in pairwise(sizes):
        layers += [nn.Linear(i, o), nn.ReLU()]
    model = nn.Sequential(*layers[:-1]).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    dataset = TensorDataset(torch.from_numpy(np.asarray(x, np.float32)), torch.from_numpy(labels))
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True)

    def run_epoch(epoch: int) -> None:
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
        _synchronize(device)

    return seconds_per_epoch(run_epoch, epochs)


def _synchronize(device: str) -> None:
    """Wait for the device's queued work, so that a timing includes it."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()
