"""`card.json`: everything a user of an exported model needs, and the evidence behind its claims.

It names the architecture, what the model was measured to do (accuracy, shift robustness,
params, MACs, latency on a named device), the library versions, and how to run the file with
plain onnxruntime: the model expects normalised float32 NCHW input and returns logits, and the
card's `input.recipe` says how a photo becomes that input (resize policy, size, channels).
"""

from __future__ import annotations

from typing import Any, TypedDict

from shiftnas.profiling.fingerprint import library_versions

CARD_FORMAT = "shiftnas-model-card/1"
_PACKAGES = ("shiftnas", "torch", "onnx", "onnxruntime", "onnxruntime-gpu", "tensorrt", "numpy")


def card_versions() -> dict[str, str]:
    return library_versions(_PACKAGES)


_RESIZE_CODE = {
    "center_crop": "image = ImageOps.fit(image, ({s}, {s}), method=Image.Resampling.BILINEAR)",
    "pad": "image = ImageOps.pad(image, ({s}, {s}), method=Image.Resampling.BILINEAR, "
    "color={fill})",
    "stretch": "image = image.resize(({s}, {s}), Image.Resampling.BILINEAR)",
    "none": "assert image.size == ({s}, {s}), 'the model takes {s}x{s} px images'",
}


def load_snippet(
    mean: tuple[float, ...],
    std: tuple[float, ...],
    shape: tuple[int, ...],
    recipe: dict[str, Any] | None = None,
) -> str:
    """Python that runs `model.onnx` on one photo with onnxruntime, numpy and Pillow only, through
    the pipeline's whole input recipe (`shiftnas.data.decode`; 16-bit images aside)."""
    c, h, w = shape
    policy = (recipe or {}).get("resize", "none")
    fill = (recipe or {}).get("fill", 0)
    mode = "L" if c == 1 else "RGB"
    return "\n".join(
        [
            "import numpy as np, onnxruntime as ort",
            "from PIL import Image, ImageOps",
            "session = ort.InferenceSession('model.onnx', providers=['CPUExecutionProvider'])",
            f"image = Image.new('RGB', ({w}, {h}))  # your photo: Image.open('photo.jpg')",
            "image = ImageOps.exif_transpose(image)",
            "if image.mode in ('RGBA', 'LA', 'PA', 'P'):  # alpha over white",
            "    white = Image.new('RGBA', image.size, (255, 255, 255, 255))",
            "    image = Image.alpha_composite(white, image.convert('RGBA'))",
            f"image = image.convert('{mode}')",
            _RESIZE_CODE[policy].format(s=h, fill=fill if c == 1 else (fill, fill, fill)),
            f"mean = np.array({[round(m, 6) for m in mean]}, dtype=np.float32)",
            f"std = np.array({[round(s, 6) for s in std]}, dtype=np.float32)",
            f"pixels = np.asarray(image, dtype=np.float32).reshape({h}, {w}, {c})",
            "x = ((pixels / 255.0 - mean) / std).transpose(2, 0, 1)[None]",
            "logits = session.run(['output'], {'input': x})[0]  # (batch, classes)",
            "label = int(logits.argmax(1)[0])",
        ]
    )


def make_card(
    *,
    arch: dict[str, Any],
    image_shape: tuple[int, int, int],
    classes: tuple[str, ...],
    mean: tuple[float, ...],
    std: tuple[float, ...],
    accuracy: dict[str, Any],
    shift: dict[str, Any] | None,
    cost: dict[str, int],
    onnx: dict[str, Any],
    latency: dict[str, Any],
    tensorrt: dict[str, Any],
    training: dict[str, Any],
    recipe: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The card as a JSON-ready dict; every figure in it was measured by the export run.

    `recipe` (`shiftnas.data.decode.recipe`) is how a raw image file becomes the input: EXIF
    rotation, channels, resize policy and size; `shiftnas predict` follows it."""
    c, h, w = image_shape
    return {
        "format": CARD_FORMAT,
        "name": f"shiftnas-{arch['id']}",
        "architecture": arch,
        "input": {
            "name": "input", "shape": ["batch", c, h, w], "dtype": "float32", "layout": "NCHW",
            "preprocessing": "an image file through input.recipe (orientation, channels, resize "
                             "policy and size), then [0, 1] (uint8 / 255), minus mean, divided "
                             "by std, per channel",
            "mean": list(mean), "std": list(std),
            "recipe": {**(recipe or {}), "mean": list(mean), "std": list(std)},
        },
        "output": {"name": "output", "shape": ["batch", len(classes)], "meaning": "logits",
                   "classes": list(classes)},
        "accuracy": accuracy,
        "shift_robustness": shift if shift is not None else {
            "skipped": "no robustness/<arch-id>.json: run `shiftnas robustness` before export"},
        "params": cost["params"],
        "macs": cost["macs"],
        "macs_note": "multiply-adds of this ONNX network (BatchNorm folded, pooling not counted)",
        "latency": latency,
        "onnx": onnx,
        "tensorrt": tensorrt,
        "training": training,
        "versions": card_versions(),
        "how_to_load": {
            "needs": "pip install onnxruntime numpy pillow (nothing of shiftnas)",
            "python": load_snippet(mean, std, image_shape, recipe),
        },
    }  # fmt: skip


class CardFigures(TypedDict):
    """The headline figures of a model card; None where the card does not have one."""

    accuracy: float | None  # test accuracy, a fraction
    latency_ms: float | None  # median latency of the shipped file, ms
    device: str | None  # the GPU's name when measured on one, else the host CPU's model
    backend: str | None  # the latency backend (ort-cpu, tensorrt, ...)
    shift_consistency: float | None  # circular-fill consistency (else the first fill's), 0-1
    shifted_accuracy: float | None  # accuracy under the same shifts, 0-1
    params: int | None
    macs: int | None  # multiply-adds of the exported network
    arch_id: str | None
    num_classes: int | None


def card_figures(card: dict[str, Any]) -> CardFigures:
    """The headline figures of a card `make_card` wrote (the reader beside its writer): what the
    registry tags and the summary table show; None for a figure the card does not have.

    `device` is the GPU's name when the latency was measured on one, else the host CPU's model.
    """
    latency = next(iter(card.get("latency", {}).values()), {}) or {}
    device = latency.get("device", {}) or {}
    fills = (card.get("shift_robustness") or {}).get("fills") or {}
    shift = fills.get("circular") or next(iter(fills.values()), {})
    classes = (card.get("output") or {}).get("classes")
    return {
        "accuracy": card.get("accuracy", {}).get("test_acc"),
        "latency_ms": latency.get("median_ms"),
        "device": (device.get("gpu") or {}).get("gpu") or (device.get("host_cpu") or {}).get("cpu"),
        "backend": latency.get("backend"),
        "shift_consistency": shift.get("consistency"),
        "shifted_accuracy": shift.get("shifted_acc"),
        "params": card.get("params"),
        "macs": card.get("macs"),
        "arch_id": card.get("architecture", {}).get("id"),
        "num_classes": len(classes) if classes else None,
    }
