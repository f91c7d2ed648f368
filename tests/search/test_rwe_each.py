"""`rwe` with one ridge probe per tap (`taps="each"`), the setting on MobileNet-block spaces."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from shiftnas.data import load_data
from shiftnas.data.settings import DataConfig, ShapesConfig
from shiftnas.search import get_space
from shiftnas.search.evaluators import get_evaluator
from shiftnas.search.evaluators.features import initialise
from shiftnas.search.evaluators.scoring import build_seeded


@pytest.fixture(scope="module")
def shapes():
    cfg = DataConfig(
        dataset="shapes", shapes=ShapesConfig(train_size=300, test_size=20, image_size=32)
    )
    return load_data(cfg, seed=0)


def fit_mse(x: torch.Tensor, labels: torch.Tensor, alpha: float) -> float:
    """Closed-form ridge on standardised features, one-hot targets, training squared error."""
    x = x.double()
    x = (x - x.mean(0)) / x.std(0).clamp_min(1e-6)
    x = x - x.mean(0)
    y = nn.functional.one_hot(labels, 10).double()
    y0 = y - y.mean(0)
    w = torch.linalg.solve(
        x.T @ x + alpha * len(x) * torch.eye(x.shape[1], dtype=x.dtype), x.T @ y0
    )
    return float((x @ w + y.mean(0) - y).pow(2).sum(1).mean())


def test_each_tap_is_probed_alone_and_the_errors_averaged(shapes):
    space = get_space("nbmacro", num_classes=10)
    ev = get_evaluator("rwe", space=space, data=shapes, seed=0, train_images=200)
    assert ev.taps == "each" and ev.proxy_space.settings.stem_channels == 8  # nbmacro defaults
    arch = space.from_string("12000000")
    score = ev.evaluate([arch])[0]
    # independently: the same seeded proxy network, a hook on each layer and the classifier
    net = build_seeded(
        ev.proxy_space, arch, 0, torch.device("cpu"), lambda n: initialise(n, "kaiming")
    )
    net.eval()
    images = ev.splits()[0]
    x = (images.images.float() / 255 - torch.tensor(shapes.mean).view(1, -1, 1, 1)) / torch.tensor(
        shapes.std
    ).view(1, -1, 1, 1)
    taps: list[torch.Tensor] = []
    hooks = [m.register_forward_hook(lambda _m, _i, o: taps.append(
        nn.functional.adaptive_avg_pool2d(o, 2).flatten(1))) for m in net.layers]  # fmt: skip
    hooks.append(net.head[-1].register_forward_pre_hook(lambda _m, a: taps.append(a[0])))
    with torch.no_grad():
        net(x)
    assert len(taps) == 9  # 8 layers and the classifier's input
    expected = sum(fit_mse(t, images.labels, 1e-3) for t in taps) / len(taps)
    assert score == pytest.approx(expected, rel=1e-4)


def test_nb201_keeps_one_probe_over_all_taps(shapes):
    ev = get_evaluator("rwe", space=get_space("nb201"), data=shapes, seed=0)
    assert ev.taps == "all"
    assert get_evaluator("rwe", space=get_space("mbv3"), data=shapes).taps == "each"
