"""Runtimes shared by export and profiling: ONNX export, ONNX Runtime sessions, parity checks."""
