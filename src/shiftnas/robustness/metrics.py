"""Shift-robustness metrics of a classifier: clean and shifted accuracy, consistency, offset curve.

Every metric runs the network on whole uint8 batches shifted with `shift_batch`, normalised on the
device, with offsets drawn from a `torch.Generator` passed in: the same seed gives the same shifts
for every network, so two networks are compared on exactly the same perturbed inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from shiftnas.data import ImageData, iterate_batches, normalize, random_shifts, shift_batch
from shiftnas.data.shift import Fill


class Classifier:
    """A network in eval mode plus the normalisation of its training data."""

    def __init__(
        self,
        model: nn.Module,
        mean: Sequence[float],
        std: Sequence[float],
        device: torch.device | None = None,
        batch_size: int = 500,
    ) -> None:
        self.model = model.eval()
        self.mean, self.std = tuple(mean), tuple(std)
        self.device = device or next(model.parameters()).device
        self.batch_size = batch_size

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Predicted labels `(B,)` on the CPU for a uint8 batch `(B, C, H, W)`."""
        return self.model(normalize(images, self.mean, self.std, self.device)).argmax(1).cpu()


@torch.no_grad()
def clean_accuracy(clf: Classifier, data: ImageData) -> float:
    """Fraction of `data` classified correctly, unshifted."""
    correct = 0
    for images, labels in iterate_batches(data, clf.batch_size):
        correct += int((clf.predict(images) == labels).sum())
    return correct / max(1, len(data))


@torch.no_grad()
def shifted_accuracy(
    clf: Classifier, data: ImageData, max_shift: int, fill: Fill, generator: torch.Generator
) -> float:
    """Accuracy when every image is moved by its own random offset in [-max_shift, max_shift]^2."""
    dx, dy = random_shifts(len(data), max_shift, generator)
    correct, start = 0, 0
    for images, labels in iterate_batches(data, clf.batch_size):
        end = start + len(labels)
        shifted = shift_batch(images, dx[start:end], dy[start:end], fill)
        correct += int((clf.predict(shifted) == labels).sum())
        start = end
    return correct / max(1, len(data))


@torch.no_grad()
def consistency(
    clf: Classifier,
    data: ImageData,
    max_shift: int,
    fill: Fill,
    generator: torch.Generator,
    pairs: int = 1,
) -> float:
    """Zhang (2019): how often the predicted label is the same for two random shifts of an image.

    Each image gets `pairs` independent pairs of offsets; the result is the fraction of all pairs
    whose two predictions agree, right or wrong.
    """
    agree, total = 0, 0
    for _ in range(pairs):
        dx1, dy1 = random_shifts(len(data), max_shift, generator)
        dx2, dy2 = random_shifts(len(data), max_shift, generator)
        start = 0
        for images, _labels in iterate_batches(data, clf.batch_size):
            end = start + len(images)
            a = clf.predict(shift_batch(images, dx1[start:end], dy1[start:end], fill))
            b = clf.predict(shift_batch(images, dx2[start:end], dy2[start:end], fill))
            agree += int((a == b).sum())
            total += len(images)
            start = end
    return agree / max(1, total)


@torch.no_grad()
def accuracy_vs_offset(
    clf: Classifier, data: ImageData, max_shift: int, fill: Fill
) -> dict[str, list[float]]:
    """Accuracy for every diagonal offset d in [-max_shift, max_shift] (dx = dy = d), as in the
    shift plots of Zhang (2019); a shift-invariant network gives a flat line."""
    offsets = list(range(-max_shift, max_shift + 1))
    accs = []
    for d in offsets:
        correct = 0
        for images, labels in iterate_batches(data, clf.batch_size):
            correct += int((clf.predict(shift_batch(images, d, d, fill)) == labels).sum())
        accs.append(correct / max(1, len(data)))
    return {"offset": [float(d) for d in offsets], "accuracy": accs}
