"""Random-weight evaluation: train only a linear probe on a frozen random network's features.

Source: Hu, Cheng, He, Lu, Wang, Zhang, "Accelerating multi-objective neural architecture search
by random-weight evaluation", Complex & Intelligent Systems (2021); text in
../shared/papers/rwe-random-weight-evaluation.txt.

`rwe_paper` is the method as the RWE paper states it (PyTorch's default init, the classifier's
input as features, the 5-member SGD ensemble, 30 epochs, no feature standardisation), at the
space's own size, with one fix: the features' overall scale removed (see `rwe_paper`).
`rwe` is the variant chosen by measurement on NAS-Bench-201
(benchmarks/rwe_tuning.py, 93 development networks kept apart from the fidelity benchmark's;
README, "Performance estimators"): a reduced proxy network (C=8, two cells per stage) with
Kaiming init and BatchNorm in eval mode, features 2x2-pooled from every cell, standardised, and a
closed-form ridge fit of 1000 training images whose *training* squared error is the score
(Spearman 0.83 there, synflow 0.80). The probe's validation error ranked at 0.46 at best on an
earlier 40 networks: how well random features of a network can fit the training labels is what
predicts its trained accuracy. One cell per stage ranked 0.07-0.13 lower, and varied by 0.04-0.09
between two initialisation seeds; PyTorch's default init and batch-statistics BatchNorm were
worse still.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import torch

from shiftnas.arch import Arch
from shiftnas.data import ImageData
from shiftnas.search.evaluators.base import register_evaluator
from shiftnas.search.evaluators.features import BnMode, Init, Taps, extract_features, initialise
from shiftnas.search.evaluators.probe import (
    rescale,
    ridge_error,
    sgd_ensemble_error,
    standardise,
)
from shiftnas.search.evaluators.scoring import (
    ScoringEvaluator,
    arch_seed,
    build_seeded,
    fixed_batch,
    require_data,
)
from shiftnas.search.space import SearchSpace, get_space

log = logging.getLogger("shiftnas.search")

# The reduced proxy network `rwe` builds in each space (settings overrides); same genome.
PROXY_SETTINGS: dict[str, dict[str, Any]] = {
    "nb201": {"channels": 8, "cells_per_stage": 2},
    "darts": {"channels": 8, "layers": 5},
    "macro": {"channels": 16},
    # 1/4 width (stages 16/32/64, head 320): 1.1-1.6 CPU-s a network instead of 10-22 s
    "nbmacro": {"stem_channels": 8, "head_channels": 320},
}
# Where the features come from, per space (default "all"). On MobileNet blocks one probe over all
# taps is dominated by the widest, deepest layers and the head (576 of the 992 features of a
# `mbv3` network of configs/cifar10-cpu.yaml), whose random features reward compute where
# training does not; one probe per tap judges every layer alike: Spearman -0.744 -> -0.190 on
# the 46 `mbv3` networks, +0.30 -> +0.50 on 48 NAS-Bench-Macro tune networks. Still below MACs
# on both (benchmarks/results/nbmacro_estimators.json, docs/concepts/estimators.md).
TAPS: dict[str, Taps] = {"nbmacro": "each", "mbv3": "each"}


def subsample(images: ImageData, n: int | None, seed: int) -> ImageData:
    """A seeded random subset of `n` images (the splits are stored sorted by class)."""
    if n is None or n >= len(images):
        return images
    generator = torch.Generator().manual_seed(seed)
    return images.subset(torch.randperm(len(images), generator=generator)[:n].sort().values)


class RweEvaluator(ScoringEvaluator):
    """Validation error of a linear probe on frozen random features (lower is better)."""

    name = "rwe"

    def __init__(
        self,
        *,
        train_images: int | None = 1000,
        val_images: int | None = 1000,
        proxy: dict[str, Any] | None = None,
        init: Init = "kaiming",
        bn: BnMode = "eval",
        taps: Taps | None = None,
        grid: int = 2,
        standardise_features: bool = True,
        rescale_features: bool = False,
        probe: Literal["ridge", "sgd"] = "ridge",
        ridge_alpha: float = 1e-3,
        objective: Literal["train_mse", "train_error", "val_error"] = "train_mse",
        batch_size: int = 500,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        overrides = PROXY_SETTINGS.get(self.space.name, {}) if proxy is None else proxy
        settings = getattr(self.space, "settings", None)
        self.proxy_space: SearchSpace = (
            get_space(self.space.name, settings, **overrides) if overrides else self.space
        )
        self.train_images, self.val_images = train_images, val_images
        taps = taps if taps is not None else TAPS.get(self.space.name, "all")
        self.init, self.bn, self.taps, self.grid = init, bn, taps, grid
        self.standardise_features = standardise_features
        self.rescale_features = rescale_features
        self.probe, self.ridge_alpha, self.batch_size = probe, ridge_alpha, batch_size
        self.objective = objective
        self._splits: tuple[ImageData, ImageData] | None = None

    def splits(self) -> tuple[ImageData, ImageData]:
        """The probe's training and validation images, the same for every network."""
        if self._splits is None:
            data = require_data(self.name, self.data)
            self._splits = (
                subsample(data.train, self.train_images, self.seed),
                subsample(data.val, self.val_images, self.seed + 1),
            )
            used = [("train", self.train_images, self._splits[0])]
            if self.objective == "val_error":  # the other objectives use no validation images
                used.append(("val", self.val_images, self._splits[1]))
            for split, asked, got in used:
                if asked is not None and asked > len(got):
                    log.warning(
                        "rwe: the %s split has %d images, fewer than the %d asked for: the probe "
                        "uses all %d (set train_images/val_images to silence this)",
                        split, len(got), asked, len(got),
                    )  # fmt: skip
        return self._splits

    def features(
        self, arch: Arch, widths: list[int] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        data = require_data(self.name, self.data)
        network = build_seeded(
            self.proxy_space, arch, self.seed, self.device, lambda net: initialise(net, self.init)
        )
        calibration = [fixed_batch(data, self.batch_size, self.seed, self.device)[0]]
        common = dict(taps=self.taps, grid=self.grid, bn=self.bn, calibration=calibration,
                      batch_size=self.batch_size, device=self.device)  # fmt: skip
        train_images, val_images = self.splits()
        train = extract_features(
            network, train_images, data.mean, data.std, widths=widths, **common
        )
        if self.objective != "val_error":
            return train, None
        val = extract_features(network, val_images, data.mean, data.std, **common)
        return train, val

    def score(self, arch: Arch) -> float:
        data = require_data(self.name, self.data)
        if self.taps == "each":
            return self.score_each(arch)
        train_x, val_x = self.features(arch)
        train_y, val_y = (images.labels for images in self.splits())
        train_x = torch.nan_to_num(train_x)
        if val_x is None:  # how well the probe fits the training images themselves
            val_x, val_y = train_x, train_y
        val_x = torch.nan_to_num(val_x)
        if self.standardise_features:
            train_x, val_x = standardise(train_x, val_x)
        elif self.rescale_features:
            train_x, val_x = rescale(train_x, val_x)
        if self.probe == "ridge":
            error, mse = ridge_error(
                train_x, train_y, val_x, val_y, data.num_classes, self.ridge_alpha
            )
            if self.objective == "train_mse":
                return mse
            return error + 1e-4 * mse  # mse breaks ties between equal error counts
        generator = torch.Generator().manual_seed(arch_seed(self.seed, arch))
        return sgd_ensemble_error(train_x, train_y, val_x, val_y, data.num_classes, generator)

    def score_each(self, arch: Arch) -> float:
        """Mean over the taps of each tap's own ridge training squared error: every layer's
        output is judged alike, not in proportion to its channels (the deep, wide stages would
        otherwise hold most of the features)."""
        data = require_data(self.name, self.data)
        widths: list[int] = []
        train_x, _ = self.features(arch, widths)
        train_x = torch.nan_to_num(train_x)
        labels = self.splits()[0].labels
        errors = []
        for block in torch.split(train_x, widths, dim=1):
            if self.standardise_features:
                block = standardise(block, block)[0]
            errors.append(ridge_error(block, labels, block, labels, data.num_classes,
                                      self.ridge_alpha)[1])  # fmt: skip
        return float(sum(errors) / len(errors))


@register_evaluator("rwe")
def rwe(**kwargs: Any) -> RweEvaluator:
    return RweEvaluator(**kwargs)


@register_evaluator("rwe_paper")
def rwe_paper(**kwargs: Any) -> RweEvaluator:
    """As published: full-size network, default init, frozen (eval-mode) BN, classifier input,
    5 SGD classifiers on 4/5 of the features each; 10k train / 5k val images.

    One change, a fix: the features are divided by their overall standard deviation (one
    number) before the probe. PyTorch's default init keeps a third of the signal's variance at
    each convolution and a fresh BatchNorm in eval mode is the identity, so the classifier input
    of a deep network is tiny (std 4e-5 to 2e-2 over 40 NAS-Bench-Macro networks, down to 6e-14
    for NB201 cells) and the SGD probe, whose step scales with the features' square, learnt
    nothing: chance error (0.889) for 85% of those NAS-Bench-Macro networks and 35% of 40 NB201
    ones, ranked backwards by depth. Rescaled: 0% and 3% at chance, but the ranking stays below
    MACs' (Spearman +0.19 and -0.28; MACs +0.78, +0.82; `benchmarks/rwe_paper_scale.py`)."""
    settings: dict[str, Any] = dict(
        train_images=10_000, val_images=5_000, proxy={}, init="default", bn="eval", taps="last",
        grid=1, standardise_features=False, rescale_features=True, probe="sgd",
        objective="val_error",
    )  # fmt: skip
    settings.update(kwargs)
    evaluator = RweEvaluator(**settings)
    evaluator.name = "rwe_paper"
    return evaluator
