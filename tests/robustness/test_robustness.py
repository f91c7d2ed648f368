import base64
import re

import pytest
import torch
from torch import nn

from shiftnas.data import ImageData
from shiftnas.robustness import (
    Classifier,
    accuracy_vs_offset,
    clean_accuracy,
    consistency,
    shift_metrics,
    shifted_accuracy,
)
from shiftnas.robustness.ablation import CONDITIONS, run_ablation
from shiftnas.robustness.report import write_report
from shiftnas.robustness.settings import RobustnessConfig
from shiftnas.search import Arch, get_space
from shiftnas.search.spaces.blurpool import BlurPool
from shiftnas.search.spaces.mbv3_blocks import CANDIDATES, CONV1X1
from shiftnas.training.settings import RetrainConfig


def _images(n=64, size=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, size, size), generator=g, dtype=torch.uint8)
    return ImageData(images, torch.randint(0, 4, (n,), generator=g), ("a", "b", "c", "d"))


def _classifier(model):
    return Classifier(
        model, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), torch.device("cpu"), batch_size=16
    )


def _pointwise_gap():
    """Global average pooling of a pointwise conv: exactly invariant to circular shifts."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(4, 4)
    )


def test_circular_shift_invariant_network_scores_consistency_one():
    data, clf = _images(), _classifier(_pointwise_gap())
    g = torch.Generator().manual_seed(1)
    assert consistency(clf, data, 4, "circular", g, pairs=3) == 1.0
    assert shifted_accuracy(clf, data, 4, "circular", g) == clean_accuracy(clf, data)
    curve = accuracy_vs_offset(clf, data, 3, "circular")
    assert curve["offset"] == [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]
    assert len(set(curve["accuracy"])) == 1
    # zero fill brings in new (zero) pixels, so the same network is no longer invariant
    assert consistency(clf, data, 4, "zero", torch.Generator().manual_seed(1), pairs=3) < 1.0


def test_position_dependent_network_is_not_consistent():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(1), nn.Linear(3 * 12 * 12, 4))  # sees absolute positions
    data, clf = _images(), _classifier(model)
    assert consistency(clf, data, 4, "circular", torch.Generator().manual_seed(1)) < 0.9
    curve = accuracy_vs_offset(clf, data, 2, "zero")
    assert curve["accuracy"][2] == clean_accuracy(clf, data)  # offset 0 is the clean image


def test_shift_metrics_are_seeded_and_shared_by_networks():
    data = _images()
    config = RobustnessConfig(max_shift=3, shift_pairs=2)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveMaxPool2d(1), nn.Flatten(1))
    a = shift_metrics(model, data, (0.5,) * 3, (0.25,) * 3, config, seed=3)
    b = shift_metrics(model, data, (0.5,) * 3, (0.25,) * 3, config, seed=3)
    assert a == b
    assert set(a["fills"]) == {"zero", "circular"}
    assert a["images"] == 64 and 0.0 <= a["fills"]["zero"]["consistency"] <= 1.0


@pytest.mark.parametrize("stride2_gene", [c.index for c in CANDIDATES])
def test_ablation_twin_drops_every_filter_and_keeps_weight_shapes(stride2_gene):
    layers = [{"channels": 8, "stride": 2}, {"channels": 8, "stride": 1},
              {"channels": 16, "stride": 2}]  # fmt: skip
    space = get_space("mbv3", stem_channels=8, head_channels=16, input_size=16, layers=layers)
    arch = space.canonical(
        Arch("mbv3", (stride2_gene, 5, stride2_gene ^ 1 if stride2_gene != CONV1X1 else 3))
    )
    twin = space.without_filter(arch)
    net, twin_net = space.build(arch), space.build(twin)
    assert not any(isinstance(m, BlurPool) for m in twin_net.modules())
    has_filter = any(CANDIDATES[g].blur for g in arch.genome)
    assert any(isinstance(m, BlurPool) for m in net.modules()) == has_filter
    shapes = {k: v.shape for k, v in net.state_dict().items()}
    assert shapes == {k: v.shape for k, v in twin_net.state_dict().items()}


def _tiny_result(tmp_path, tiny_space, tiny_data):
    arch = tiny_space.canonical(Arch("mbv3", (2, 5)))
    retrain_cfg = RetrainConfig(epochs=1, batch_size=20, augment={"cutout": 4})
    config = RobustnessConfig(max_shift=2, shift_pairs=1)
    ablation = run_ablation(
        tiny_space, arch, tiny_data, retrain_cfg, config, tmp_path / "ablation", progress=False
    )
    net = ablation["searched-aug"]
    return {
        "arch": arch.to_json(), "arch_id": arch.id,
        "twin": tiny_space.without_filter(arch).to_json(),
        "settings": config.model_dump(mode="json"), "network": net["metrics"],
        "ablation": ablation,
    }  # fmt: skip


def test_ablation_grid_and_report(tmp_path, tiny_space, tiny_data):
    result = _tiny_result(tmp_path, tiny_space, tiny_data)
    ablation = result["ablation"]
    assert set(ablation) == {c.name for c in CONDITIONS}
    assert ablation["without_filter-noaug"]["arch"]["genome"] == [2, 4]
    assert ablation["searched-noaug"]["augment"] is False
    assert len({cell["folder"] for cell in ablation.values()}) == 4  # four separate trainings
    history = [{"epoch": 0, "train_acc": 0.2, "val_acc": 0.1, "test_acc": 0.15},
               {"epoch": 1, "train_acc": 0.4, "val_acc": 0.3, "test_acc": 0.25}]  # fmt: skip
    files = write_report(result, history, tmp_path / "report")
    md, page = files["md"].read_text(), files["html"].read_text()
    assert "Table III" in md and "![Accuracy against shift](accuracy_vs_shift.png)" in md
    for name in ("accuracy_vs_shift.png", "ablation.png", "training.png"):
        assert (tmp_path / "report" / name).read_bytes().startswith(b"\x89PNG")
    sources = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(sources) == 3
    for src in sources:  # self-contained: every image is an embedded PNG
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG")
    assert "http" not in page
