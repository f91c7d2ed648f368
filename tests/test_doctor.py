"""`shiftnas doctor`: this machine's real values, and one install line per missing piece."""

from __future__ import annotations

import json
import platform
import re
import shutil
import socket
import sys

import pytest
import torch
from cli_helpers import shiftnas


def run_doctor(*args: str) -> tuple[int, str, str]:
    return shiftnas("doctor", *args)


def checks_of(out: str) -> dict[tuple[str, str], dict]:
    return {(c["area"], c["name"]): c for c in json.loads(out)["checks"]}


@pytest.fixture
def no_tracking_env(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def test_json_reports_this_machine(tmp_path, no_tracking_env) -> None:
    ort = pytest.importorskip("onnxruntime")
    code, out, err = run_doctor("--json", "--run-dir", str(tmp_path / "run"))
    report = json.loads(out)
    checks = checks_of(out)
    assert code == 0 and err == "" and report["cpu_path_ok"] is True
    assert checks["python", "python"]["value"] == platform.python_version()
    assert checks["torch", "torch"]["value"] == torch.__version__
    gpus = [c["value"] for (area, name), c in checks.items() if area == "gpu" and name != "driver"]
    if torch.cuda.is_available():
        assert gpus[0].startswith(torch.cuda.get_device_name(0)) and len(gpus) == len(
            range(torch.cuda.device_count())
        )
    else:
        assert gpus == ["none: torch sees no CUDA GPU"]
    onnx_rt = checks["runtime", "onnxruntime"]
    assert onnx_rt["value"] == f"{ort.__version__}: {', '.join(ort.get_available_providers())}"
    # the default store is SQLite inside the run folder, whose parent exists and is writable
    store = checks["tracking", "store"]
    assert store["ok"] and store["value"].startswith(f"sqlite:///{tmp_path / 'run' / 'mlflow.db'}")
    assert checks["latency backend", "ort-cpu"]["ok"] and checks["latency backend", "torch"]["ok"]
    free = float(re.match(r"([\d.]+) GiB free", checks["disk", "run folder"]["value"]).group(1))
    assert free == pytest.approx(shutil.disk_usage(tmp_path).free / 2**30, abs=0.2)
    # every missing piece comes with one pip line naming its extra
    for line in report["missing"]:
        assert re.search(r"pip install '[^']+'", line), line


def test_table_names_versions_and_install_lines(monkeypatch, tmp_path, no_tracking_env) -> None:
    monkeypatch.setitem(sys.modules, "tensorrt", None)  # absent, even where it is installed
    code, out, _ = run_doctor("--run-dir", str(tmp_path))
    assert code == 0
    assert torch.__version__ in out and platform.python_version() in out
    assert "missing runtime tensorrt: pip install 'shiftnas[tensorrt]'" in out
    assert "missing latency backend tensorrt: pip install 'shiftnas[tensorrt]'" in out


def test_missing_onnxruntime_exits_2_naming_the_cpu_extra(
    monkeypatch, tmp_path, no_tracking_env
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    code, out, err = run_doctor("--json", "--run-dir", str(tmp_path))
    checks = checks_of(out)
    assert code == 2 and err.strip().count("\n") == 0
    assert "onnxruntime" in err and "pip install 'shiftnas[cpu]'" in err
    assert checks["runtime", "onnxruntime"] == {
        "area": "runtime", "name": "onnxruntime", "ok": False, "value": "not installed",
        "fix": "pip install 'shiftnas[cpu]' (or 'shiftnas[gpu]' on a CUDA machine)",
        "required": True,
    }  # fmt: skip
    # the backends that need it say so, with the same extra; the torch backend still runs
    assert checks["latency backend", "ort-cpu"]["fix"] == "pip install 'shiftnas[cpu]'"
    assert checks["latency backend", "torch"]["ok"]


def test_missing_base_library_names_its_requirement(monkeypatch, tmp_path, no_tracking_env) -> None:
    monkeypatch.setitem(sys.modules, "pymoo", None)
    code, _, err = run_doctor("--run-dir", str(tmp_path))
    assert code == 2
    assert "pymoo (not installed): pip install 'pymoo>=0.6.1'" in err  # pyproject's requirement


def test_unreachable_tracking_server_fails_fast(monkeypatch, tmp_path) -> None:
    with socket.socket() as probe:  # a port nobody listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    uri = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    code, _, err = run_doctor("--run-dir", str(tmp_path))
    assert code == 2
    assert (
        f"store ({uri}: unreachable): start the MLflow server or unset MLFLOW_TRACKING_URI" in err
    )


@pytest.mark.gpu
def test_doctor_lists_every_gpu_torch_sees(tmp_path) -> None:
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    from shiftnas.doctor import diagnose

    checks = {(c.area, c.name): c for c in diagnose(tmp_path).checks}
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        value = checks["gpu", f"cuda:{index}"].value
        assert value.startswith(f"{props.name}, {props.total_memory / 2**30:.1f} GiB")
        assert value.endswith(f"compute capability {props.major}.{props.minor}")
    pynvml = pytest.importorskip("pynvml")
    pynvml.nvmlInit()
    driver = pynvml.nvmlSystemGetDriverVersion()
    pynvml.nvmlShutdown()
    driver = driver.decode() if isinstance(driver, bytes) else driver
    assert checks["gpu", "driver"].ok and checks["gpu", "driver"].value == driver
