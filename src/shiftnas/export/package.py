"""Export one retrained network: ONNX with parity on random and real inputs, TensorRT engines
when possible, latency, and `card.json`. Everything is checked before anything is written, so a
failed parity check leaves no file behind."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import torch
from torch import nn

from shiftnas.data import DataSplits, normalize
from shiftnas.errors import ShiftnasError
from shiftnas.export import tensorrt as trt_export
from shiftnas.export.card import make_card
from shiftnas.export.settings import ExportConfig
from shiftnas.files import read_json, read_jsonl, write_bytes_atomic, write_json_atomic
from shiftnas.profiling.macs import network_cost
from shiftnas.runtime.onnx_io import OPSET, check_parity, export_onnx


def parity_inputs(data: DataSplits, count: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """A random normal batch and a batch of real, normalised test images."""
    c, h, w = data.image_shape
    generator = torch.Generator().manual_seed(seed)
    random = torch.randn(count, c, h, w, generator=generator)
    split = data.test if len(data.test) else data.val
    real = normalize(split.take(torch.arange(min(count, len(split)))), data.mean, data.std, "cpu")
    return {"random": random, "real": real}


def measure_latency(
    onnx_bytes: bytes, model: nn.Module, shape: tuple[int, ...], backend: str
) -> Any:
    """Latency of the shipped file on the configured backend, or the reason it was not measured."""
    try:
        from shiftnas.profiling.backends import get_backend
    except ImportError as err:
        return {"skipped": f"latency backends not available ({err})"}
    try:
        timer = get_backend(backend)
        if backend.startswith("ort"):
            return timer.measure_prepared(onnx_bytes, shape).to_json()
        return timer.measure(model, shape).to_json()  # type: ignore[arg-type]
    except ShiftnasError as err:
        return {"skipped": str(err)}


def export_network(
    model: nn.Module,
    arch: dict[str, Any],
    data: DataSplits,
    out_dir: Path,
    config: ExportConfig,
    *,
    accuracy: dict[str, Any] | None = None,
    shift: dict[str, Any] | None = None,
    training: dict[str, Any] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Write `model.onnx`, engines if any, and `card.json` into `out_dir`; returns the card.

    Raises `ShiftnasError` (writing nothing) if ONNX or TensorRT disagree with PyTorch by more
    than the configured tolerance on either input batch."""
    model = copy.deepcopy(model).cpu().eval().to(memory_format=torch.contiguous_format)
    c, h, w = data.image_shape
    onnx_bytes = export_onnx(model, (1, c, h, w))
    inputs = parity_inputs(data, config.parity_batch, seed)
    errors = {
        name: check_parity(model, onnx_bytes, x, config.tolerance) for name, x in inputs.items()
    }
    with torch.no_grad():
        reference = {name: (x.numpy(), model(x).numpy()) for name, x in inputs.items()}
    tolerances = {"fp32": config.tolerance, "fp16": config.fp16_tolerance}
    trt = trt_export.export_engines(onnx_bytes, reference, (c, h, w), tolerances, config.tensorrt)
    cost = network_cost(copy.deepcopy(model), (1, c, h, w))
    onnx_card = {
        "file": "model.onnx", "opset": OPSET, "dynamic_batch": True,
        "sha256": hashlib.sha256(onnx_bytes).hexdigest(), "checker": "onnx.checker passed",
        "parity_max_abs_error": errors, "tolerance": config.tolerance,
        "parity_batch": config.parity_batch,
    }  # fmt: skip
    card = make_card(
        arch=arch,
        image_shape=(c, h, w),
        classes=data.test.classes,
        mean=data.mean,
        std=data.std,
        accuracy=accuracy or {},
        shift=shift,
        cost={"params": cost.params, "macs": cost.macs},
        onnx=onnx_card,
        latency={config.latency_backend: measure_latency(onnx_bytes, model, (1, c, h, w),
                                                         config.latency_backend)},
        tensorrt=trt["card"],
        training=training or {},
        recipe=data.recipe,
    )  # fmt: skip
    out_dir = Path(out_dir)
    write_bytes_atomic(out_dir / "model.onnx", onnx_bytes)
    trt_export.write_engines(trt["engines"], out_dir)
    write_json_atomic(out_dir / "card.json", card)
    return card


def accuracy_from_metrics(metrics_path: Path) -> dict[str, Any]:
    """The last epoch's validation and test accuracy (in [0, 1]) from a retraining log."""
    history = list(read_jsonl(metrics_path))
    if not history:
        return {}
    last = history[-1]
    keys = ("val_acc", "test_acc", "train_acc")
    return {"epoch": last["epoch"] + 1, **{k: last[k] for k in keys if k in last}}


def shift_summary(path: Path) -> dict[str, Any] | None:
    """The headline shift metrics of `robustness/<arch-id>.json`, without the curves."""
    if not path.exists():
        return None
    result = read_json(path)
    network = result.get("network", {})
    fills = {
        fill: {k: v for k, v in metrics.items() if k != "offset_curve"}
        for fill, metrics in network.get("fills", {}).items()
    }
    ablation = {
        name: {"arch_id": cell["arch_id"], "filter": cell["filter"], "augment": cell["augment"],
               "epochs": cell["epochs"], "clean_acc": cell["metrics"]["clean_acc"],
               "shifted_acc": {f: m["shifted_acc"] for f, m in cell["metrics"]["fills"].items()}}
        for name, cell in (result.get("ablation") or {}).items()
    }  # fmt: skip
    return {"clean_acc": network.get("clean_acc"), "max_shift": network.get("max_shift"),
            "images": network.get("images"), "fills": fills,
            "ablation": ablation or None}  # fmt: skip
