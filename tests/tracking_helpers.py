"""Shared by the tracking tests: a tiny ONNX model, seeded SQLite stores, a free port."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import torch

from shiftnas.runtime.onnx_io import export_onnx


def tiny_onnx(path: Path) -> Path:
    """A 2-class ONNX model on (1, 3, 8, 8) inputs."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1),
                                torch.nn.Flatten(), torch.nn.Linear(4, 2))  # fmt: skip
    export_onnx(model, (1, 3, 8, 8), path)
    return path


def init_store(path: Path) -> Path:
    """An initialised, empty SQLite store at `path`: MLflow's migrations take 2-10 s of CPU, so
    a test module makes one and copies it (`seeded_run_dir`) into each run directory."""
    import mlflow

    mlflow.MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


def seeded_run_dir(path: Path, template: Path) -> Path:
    path.mkdir(parents=True)
    shutil.copyfile(template, path / "mlflow.db")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
