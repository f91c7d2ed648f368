"""Exporting networks to ONNX (and TensorRT), with parity checks."""

from shiftnas.export.card import make_card
from shiftnas.export.onnx import OPSET, check_parity, export_onnx, onnx_session, parity_error
from shiftnas.export.package import export_in_run, export_network
from shiftnas.export.tensorrt import export_engines, tensorrt_unavailable

__all__ = [
    "OPSET",
    "check_parity",
    "export_engines",
    "export_in_run",
    "export_network",
    "export_onnx",
    "make_card",
    "onnx_session",
    "parity_error",
    "tensorrt_unavailable",
]
