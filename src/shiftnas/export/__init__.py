"""Exporting networks to ONNX (and TensorRT), with parity checks."""

from shiftnas.export.onnx import OPSET, check_parity, export_onnx, onnx_session, parity_error

__all__ = ["OPSET", "check_parity", "export_onnx", "onnx_session", "parity_error"]
