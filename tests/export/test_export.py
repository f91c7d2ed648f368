import json
import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from shiftnas.errors import ShiftnasError
from shiftnas.export import export_network, tensorrt_unavailable
from shiftnas.export.settings import ExportConfig
from shiftnas.runtime.onnx_io import check_parity, export_onnx
from shiftnas.search import Arch, get_space
from shiftnas.search.spaces.mbv3_blocks import CANDIDATES

# the stem, one stride-1 and one stride-2 layer: every candidate is exported in both positions
SKELETON = {"stem_channels": 8, "head_channels": 16, "input_size": 16,
            "layers": [{"channels": 8, "stride": 1}, {"channels": 16, "stride": 2}]}  # fmt: skip


def _trained_like(model: nn.Module) -> nn.Module:
    """Non-trivial BatchNorm statistics, so that folding them into the export is exercised."""
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
    return model.eval()


@pytest.mark.parametrize("gene", [c.index for c in CANDIDATES], ids=[c.label for c in CANDIDATES])
def test_onnx_parity_of_every_mbv3_candidate(gene):
    space = get_space("mbv3", **SKELETON)
    torch.manual_seed(gene)
    model = _trained_like(space.build(space.canonical(Arch("mbv3", (gene, gene)))))
    data = export_onnx(model, (1, 3, 16, 16))
    x = torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(1))  # batch != 1: dynamic
    assert check_parity(model, data, x) <= 1e-4
    graph = onnx.load_from_string(data)
    assert graph.opset_import[0].version == 17
    assert graph.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


class _BatchDependent(nn.Module):
    """Traces to a graph that differs from PyTorch for batches other than the traced one."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 10, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(1))

    def forward(self, x):
        return self.body(x) * float(x.shape[0] == 1)


def test_parity_failure_is_loud_and_writes_nothing(tmp_path, tiny_data):
    with pytest.raises(ShiftnasError, match="does not match PyTorch"):
        export_network(_BatchDependent(), {"id": "x"}, tiny_data, tmp_path / "out", ExportConfig())
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from shiftnas.data import load_data
    from shiftnas.data.settings import DataConfig, ShapesConfig

    data = load_data(DataConfig(dataset="shapes", shapes=ShapesConfig(
        train_size=100, test_size=40, image_size=16)))  # fmt: skip
    space = get_space("mbv3", num_classes=data.num_classes, **SKELETON)
    arch = space.canonical(Arch("mbv3", (4, 9)))
    torch.manual_seed(0)
    model = _trained_like(space.build(arch))
    out = tmp_path_factory.mktemp("export")
    card = export_network(model, {"id": arch.id, **arch.to_json()}, data, out, ExportConfig(),
                          accuracy={"test_acc": 0.5})  # fmt: skip
    return model, data, out, card


def test_whole_network_export_and_card(exported):
    model, data, out, card = exported
    assert (out / "model.onnx").exists() and json.loads((out / "card.json").read_text()) == card
    errors = card["onnx"]["parity_max_abs_error"]
    assert set(errors) == {"random", "real"} and max(errors.values()) <= 1e-4
    assert card["onnx"]["opset"] == 17 and card["input"]["mean"] == list(data.mean)
    assert card["params"] == sum(p.numel() for p in model.parameters())
    assert card["macs"] > 0 and "flops_papers_convention" not in card
    assert card["accuracy"] == {"test_acc": 0.5}
    assert "onnxruntime" in card["versions"] and "python" in card["how_to_load"]
    latency = card["latency"]["ort-cpu"]
    assert latency.get("median_ms", 0) > 0 or "skipped" in latency
    if "median_ms" in latency:
        assert latency["device"]["host_cpu"]["cpu"]
    reason = tensorrt_unavailable()
    if reason is not None:
        assert card["tensorrt"] == {"skipped": reason}
        assert not list(out.glob("*.engine"))


def test_onnx_runs_with_plain_onnxruntime_and_no_shiftnas(exported, tmp_path):
    """What a user does: the card's snippet in a fresh interpreter that never imports shiftnas."""
    model, data, out, card = exported
    images = data.test.images[:5].permute(0, 2, 3, 1).numpy()  # (B, H, W, C) uint8, as from disk
    np.save(tmp_path / "images.npy", images)
    x = (torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0 - torch.tensor(data.mean)
         .view(1, 3, 1, 1)) / torch.tensor(data.std).view(1, 3, 1, 1)  # fmt: skip
    with torch.no_grad():
        expected = model(x).numpy()
    script = f"""
import sys, json, numpy as np, onnxruntime as ort
card = json.load(open({str(out / "card.json")!r}))
session = ort.InferenceSession({str(out / "model.onnx")!r}, providers=["CPUExecutionProvider"])
mean = np.array(card["input"]["mean"], dtype=np.float32)
std = np.array(card["input"]["std"], dtype=np.float32)
images = np.load({str(tmp_path / "images.npy")!r})
x = ((images.astype(np.float32) / 255.0 - mean) / std).transpose(0, 3, 1, 2)
np.save({str(tmp_path / "got.npy")!r}, session.run(["output"], {{"input": x}})[0])
assert not any(m.startswith("shiftnas") for m in sys.modules), "shiftnas was imported"
"""
    snippet = card["how_to_load"]["python"]
    done = subprocess.run(
        [sys.executable, "-I", "-c", script], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    got = np.load(tmp_path / "got.npy")
    assert got.shape == (5, data.num_classes)
    assert np.max(np.abs(got - expected)) <= 1e-4
    snippet_run = subprocess.run(
        [sys.executable, "-I", "-c", snippet + "\nprint(label)"],
        cwd=out,
        capture_output=True,
        text=True,
    )
    assert snippet_run.returncode == 0, snippet_run.stderr
    assert 0 <= int(snippet_run.stdout.strip()) < data.num_classes


@pytest.mark.tensorrt
@pytest.mark.skipif(tensorrt_unavailable() is not None, reason=str(tensorrt_unavailable()))
def test_tensorrt_engines_match_pytorch(exported):
    _, _, out, card = exported
    for precision in ("fp32", "fp16"):
        engine = card["tensorrt"]["engines"][precision]
        assert (out / engine["file"]).exists()
        limit = 1e-4 if precision == "fp32" else 5e-2
        assert max(engine["parity_max_abs_error"].values()) <= limit
