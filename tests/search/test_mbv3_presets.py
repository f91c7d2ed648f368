"""Skeleton presets per input size (issue 26): without `layers`, mbv3 subsamples as MobileNetV3
does for the resolution, and a 224 px network builds, trains a step, exports and profiles."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shiftnas.data import ImageData
from shiftnas.data.dataset import DataSplits
from shiftnas.export import export_network
from shiftnas.export.settings import ExportConfig
from shiftnas.profiling.macs import network_cost
from shiftnas.search import get_space
from shiftnas.search.spaces.settings import Mbv3Settings

PRESETS = [(16, 1, 2), (32, 1, 4), (64, 2, 4), (96, 2, 6), (128, 2, 4), (224, 2, 7)]


@pytest.mark.parametrize(("size", "stem", "head_map"), PRESETS)
def test_presets_leave_a_small_map_for_the_head(size, stem, head_map):
    settings = Mbv3Settings(input_size=size)
    side = size // settings.stem_stride
    for layer in settings.layers:
        side //= layer.stride
    assert (settings.stem_stride, side) == (stem, head_map)
    assert get_space("mbv3", input_size=size).settings.layers == settings.layers
    # the 32 px preset is the skeleton every earlier run used
    assert Mbv3Settings(input_size=32).layers == Mbv3Settings().layers


def test_explicit_layers_and_stem_are_kept():
    layers = [{"channels": 8, "stride": 2}]
    settings = Mbv3Settings(input_size=224, layers=layers, stem_stride=1)
    assert (settings.stem_stride, len(settings.layers)) == (1, 1)
    assert Mbv3Settings(input_size=224, stem_stride=1).stem_stride == 1


@pytest.mark.slow
def test_a_224_px_network_trains_a_step_exports_and_profiles(tmp_path):
    space = get_space("mbv3", input_size=224, num_classes=3, head_channels=64)
    arch = space.sample(np.random.default_rng(0))
    model = space.build(arch)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 224, 224, generator=g)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss = torch.nn.functional.cross_entropy(model(x), torch.tensor([0, 2]))
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)
    pixels = torch.randint(0, 256, (4, 3, 224, 224), dtype=torch.uint8, generator=g)
    part = ImageData(pixels, torch.tensor([0, 1, 2, 0]), ("a", "b", "c"))
    data = DataSplits(part, part, part, (0.5,) * 3, (0.25,) * 3, "random")
    card = export_network(model.eval(), {"id": arch.id}, data, tmp_path / "e",
                          ExportConfig(parity_batch=2))  # fmt: skip
    assert card["input"]["shape"] == ["batch", 3, 224, 224]
    assert (tmp_path / "e" / "model.onnx").stat().st_size > 100_000
    assert card["latency"]["ort-cpu"]["median_ms"] > 0  # profiled with onnxruntime
    # a 7x7 head map: the cost of 224 px is that of a mobile network, not of 49x a 32 px one
    assert 20e6 < card["macs"] < 600e6
    assert network_cost(model, (1, 3, 224, 224)).macs >= card["macs"]
