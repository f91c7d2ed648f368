"""Shared by the tracking tests: a tiny ONNX model, seeded SQLite stores, a free port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
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
    a test module makes one and copies it (`seeded_run_dir`) into each run folder."""
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


START_TIMEOUT_S = 240.0


class Server:
    """An `mlflow server` process (its own process group) with an SQLite store and proxied
    artifacts under `root`."""

    def __init__(self, root: Path) -> None:
        self.root, self.port = root, free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import requests  # only the live-server tests need it (they skip without it)

        mlflow_bin = Path(sys.executable).parent / "mlflow"
        store = f"sqlite:///{self.root / 'mlflow.db'}"
        command = [str(mlflow_bin), "server", "--host", "127.0.0.1", "--port", str(self.port),
                   "--backend-store-uri", store, "--artifacts-destination",
                   str(self.root / "artifacts"), "--workers", "1"]  # fmt: skip
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        env.pop("MLFLOW_TRACKING_URI", None)
        log = open(self.root / "server.log", "ab")  # noqa: SIM115 (closed with the process)
        self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True, cwd=self.root)  # fmt: skip
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if requests.get(f"{self.uri}/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.25)
        tail = (self.root / "server.log").read_text(errors="replace")[-2000:]
        self.stop()
        pytest.fail(f"mlflow server did not come up at {self.uri}:\n{tail}")

    def stop(self) -> None:
        import requests

        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)  # the server and its uvicorn worker
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the worker may outlive its parent briefly
            try:
                requests.get(f"{self.uri}/health", timeout=1)
            except requests.RequestException:
                return
            time.sleep(0.2)
