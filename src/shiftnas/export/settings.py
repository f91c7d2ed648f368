"""Typed settings of `shiftnas.export`: the `export:` section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shiftnas.section import Section


class ExportConfig(Section):
    """ONNX (and TensorRT) export of a retrained network."""

    tolerance: float = Field(default=1e-4, gt=0.0, le=1.0)
    parity_batch: int = Field(default=8, ge=1, le=4096)
    latency_backend: str = "ort-cpu"
    tensorrt: Literal["auto", "off", "required"] = "auto"
    fp16_tolerance: float = Field(default=5e-2, gt=0.0)
