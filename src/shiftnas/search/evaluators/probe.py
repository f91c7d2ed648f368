"""Linear probes on frozen features: the RWE paper's SGD ensemble and a closed-form ridge fit.

Both return the validation error (a fraction) of a linear classifier trained on the training
features; the ridge fit also gives a continuous tie-breaker (validation squared error).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def standardise(train: torch.Tensor, val: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero mean, unit variance per feature, with statistics of the training features only."""
    mean, std = train.mean(0), train.std(0).clamp_min(1e-6)
    return (train - mean) / std, (val - mean) / std


def rescale(train: torch.Tensor, val: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Both divided by one number, the training features' standard deviation over all entries:
    the features' overall scale removed, their relative scales kept (unchanged if it is 0)."""
    scale = float(train.std())
    if not math.isfinite(scale) or scale == 0.0:
        return train, val
    return train / scale, val / scale


def sgd_ensemble_error(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    val_x: torch.Tensor,
    val_y: torch.Tensor,
    num_classes: int,
    generator: torch.Generator,
    members: int = 5,
    epochs: int = 30,
    lr: float = 0.25,
    momentum: float = 0.9,
    batch_size: int = 512,
) -> float:
    """The RWE paper's probe: `members` linear classifiers, each seeing all but one fifth of the
    features, SGD with momentum and cosine decay to 0; the ensemble averages probabilities."""
    dim = train_x.shape[1]
    folds = torch.randperm(dim, generator=generator).chunk(members) if members > 1 else [None]
    probs = torch.zeros(len(val_y), num_classes)
    steps_per_epoch = math.ceil(len(train_y) / batch_size)
    total = epochs * steps_per_epoch
    for fold in folds:
        keep = torch.ones(dim, dtype=torch.bool)
        if fold is not None:
            keep[fold] = False
        xs, xv = train_x[:, keep], val_x[:, keep]
        layer = nn.Linear(xs.shape[1], num_classes)
        with torch.no_grad():
            bound = 1.0 / math.sqrt(max(1, xs.shape[1]))
            layer.weight.uniform_(-bound, bound, generator=generator)
            layer.bias.uniform_(-bound, bound, generator=generator)
        opt = torch.optim.SGD(layer.parameters(), lr=lr, momentum=momentum)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, total)
        for _ in range(epochs):
            order = torch.randperm(len(train_y), generator=generator)
            for b in range(steps_per_epoch):
                idx = order[b * batch_size : (b + 1) * batch_size]
                loss = nn.functional.cross_entropy(layer(xs[idx]), train_y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
        with torch.no_grad():
            probs += layer(xv).softmax(1)
    return float((probs.argmax(1) != val_y).float().mean())


def ridge_error(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    val_x: torch.Tensor,
    val_y: torch.Tensor,
    num_classes: int,
    alpha: float = 1.0,
) -> tuple[float, float]:
    """Least squares on one-hot targets with an L2 penalty `alpha` (per sample), solved exactly.
    Returns (validation error, validation mean squared error)."""
    x = train_x.double()
    mean = x.mean(0)
    x = x - mean
    targets = nn.functional.one_hot(train_y, num_classes).double()
    offset = targets.mean(0)
    gram = x.t() @ x + alpha * len(x) * torch.eye(x.shape[1], dtype=torch.float64)
    weights = torch.linalg.solve(gram, x.t() @ (targets - offset))
    pred = (val_x.double() - mean) @ weights + offset
    error = float((pred.argmax(1) != val_y).double().mean())
    mse = float((pred - nn.functional.one_hot(val_y, num_classes).double()).pow(2).sum(1).mean())
    return error, mse
