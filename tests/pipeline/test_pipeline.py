"""The whole pipeline on tiny settings: every stage, MLflow tracking (SQLite default and a live
server), the registry and promotion, and resume after real kills in search and retraining."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from shiftnas.pipeline import RunDir, run_pipeline
from shiftnas.pipeline.config import config_from_dict, dump_config
from shiftnas.pipeline.select import knee_index, select_from_front

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

STAGES = ["supernet", "search", "select", "retrain", "robustness", "export", "register"]


def tiny_config(objectives=("error", "params", "macs"), **sections):
    data = {
        "name": "tiny",
        "seed": 0,
        "device": "cpu",
        "data": {
            "dataset": "shapes",
            "shapes": {"train_size": 100, "test_size": 40, "image_size": 16},
        },
        "space": {
            "name": "mbv3", "input_size": 16, "stem_channels": 8, "head_channels": 32,
            "layers": [{"channels": 8, "stride": 1}, {"channels": 16, "stride": 2}],
        },
        "supernet": {"epochs": 1, "batch_size": 16, "checkpoint_every_steps": 2},
        "search": {
            "population": 4, "generations": 3, "objectives": [{"name": o} for o in objectives],
            "evaluator": {"name": "inherited"},
        },
        "select": {"k": 2},
        "retrain": {"epochs": 3, "batch_size": 16, "checkpoint_every_steps": 2},
        "robustness": {"max_shift": 2, "ablation": False, "max_test_images": 40},
        # tiny networks on 100 images stay near chance: promote them all the same
        "registry": {"max_latency_ms": 1000.0, "allow_near_chance": True},
        "stages": STAGES,
    }  # fmt: skip
    data.update(sections)
    return config_from_dict(data)


def mlflow_runs(uri: str) -> list:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(experiments, max_results=1000)


def check_finished_run(root: Path, uri: str, objectives: int) -> dict:
    from mlflow import MlflowClient

    run = RunDir(root)
    stages = run.state()["stages"]
    assert [s for s in STAGES if stages[s]["status"] == "done"] == STAGES
    pareto = json.loads((root / "search" / "pareto.json").read_text())
    assert len(pareto["objectives"]) == objectives and pareto["front"]
    selected = json.loads((root / "select" / "selected.json").read_text())["selected"]
    assert 1 <= len(selected) <= 2
    for member in selected:
        arch_id = member["id"]
        assert (root / "retrain" / arch_id / "metrics.jsonl").exists()
        assert (root / "robustness" / f"{arch_id}.json").exists()
        card = json.loads((root / "export" / arch_id / "card.json").read_text())
        assert card["architecture"]["id"] == arch_id
        assert (root / "export" / arch_id / "model.onnx").stat().st_size > 1000
    runs = mlflow_runs(uri)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1, "one parent run per pipeline run, no duplicates"
    assert sorted(r.info.run_name for r in children) == sorted(STAGES)
    assert all(r.data.tags["mlflow.parentRunId"] == parents[0].info.run_id for r in children)
    assert parents[0].data.params["search.population"] == "4"
    by_stage = {r.info.run_name: r for r in children}
    assert "val_acc_probe_mean" in by_stage["supernet"].data.metrics
    assert "hypervolume" in by_stage["search"].data.metrics
    client = MlflowClient(tracking_uri=uri)
    for member in selected:  # the retrain run holds each network's files, not its checkpoint
        folder = f"retrain/{member['id']}"
        logged = {a.path for a in client.list_artifacts(by_stage["retrain"].info.run_id, folder)}
        assert logged == {f"{folder}/arch.json", f"{folder}/metrics.jsonl"}
    assert "config.yaml" in {a.path for a in client.list_artifacts(parents[0].info.run_id)}
    return {"selected": selected, "pareto": pareto, "runs": runs}


def check_registry(uri: str, expected_versions: int) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    versions = client.search_model_versions("name='shiftnas'")
    assert len(versions) == expected_versions
    for version in versions:
        for tag in ("accuracy", "latency_ms", "params", "macs", "shift_consistency", "run_id",
                    "device", "num_classes"):  # fmt: skip
            assert tag in version.tags, tag
    champion = client.get_model_version_by_alias("shiftnas", "champion")
    best = max(float(v.tags["accuracy"]) for v in versions)
    assert float(champion.tags["accuracy"]) == best


def test_whole_pipeline_sqlite_default(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    config = tiny_config(objectives=("error", "params", "macs", "latency"))
    root = tmp_path / "run"
    run_pipeline(config, root, progress=False)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    result = check_finished_run(root, uri, objectives=4)
    check_registry(uri, expected_versions=len(result["selected"]))
    # a second `run` finds every stage done and changes nothing
    before = (root / "state.json").read_text()
    run_pipeline(config, root, progress=False)
    assert json.loads((root / "state.json").read_text()) == json.loads(before)
    assert len(mlflow_runs(uri)) == len(result["runs"])


def test_whole_pipeline_against_live_mlflow_server(tmp_path, monkeypatch):
    from tracking_helpers import Server

    server = Server(tmp_path)
    server.start()
    try:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", server.uri)
        root = tmp_path / "run"
        run_pipeline(tiny_config(), root, progress=False)
        result = check_finished_run(root, server.uri, objectives=3)
        check_registry(server.uri, expected_versions=len(result["selected"]))
        assert not (root / "mlflow.db").exists()
    finally:
        server.stop()


def _wait_then_kill(proc: subprocess.Popen, ready, timeout: float = 600) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.05)
    proc.wait()
    return False


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_killed_in_search_and_retraining_resumes_to_the_same_result(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    config = tiny_config()
    config_file = tmp_path / "tiny.yaml"
    config_file.write_text(dump_config(config))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    env.pop("MLFLOW_TRACKING_URI", None)

    def start(root: Path) -> subprocess.Popen:
        # both runs in fresh processes with the same settings: the reference must not inherit
        # the state this test process built up (thread pools, kernel caches)
        command = [
            sys.executable,
            "-m",
            "shiftnas",
            "run",
            str(config_file),
            "--run-dir",
            str(root),
        ]
        return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    reference = tmp_path / "reference"
    uninterrupted = start(reference)
    _, err = uninterrupted.communicate(timeout=600)
    assert uninterrupted.returncode == 0, err.decode()[-2000:]
    root = tmp_path / "killed"

    archive = root / "search" / "archive.jsonl"
    assert _wait_then_kill(start(root), lambda: _lines(archive) >= 6), "search was not reached"
    assert RunDir(root).state()["stages"]["search"]["status"] == "running"
    retrain_logs = lambda: list((root / "retrain").glob("*/metrics.jsonl"))  # noqa: E731
    assert _wait_then_kill(start(root), lambda: any(_lines(p) >= 1 for p in retrain_logs())), (
        "retraining was not reached"
    )
    assert RunDir(root).state()["stages"]["retrain"]["status"] == "running"
    final = start(root)
    _, err = final.communicate(timeout=600)
    assert final.returncode == 0, err.decode()[-2000:]

    result = check_finished_run(root, f"sqlite:///{root / 'mlflow.db'}", objectives=3)
    expected = check_finished_run(reference, f"sqlite:///{reference / 'mlflow.db'}", objectives=3)
    assert result["pareto"]["front"] == expected["pareto"]["front"]
    assert [m["id"] for m in result["selected"]] == [m["id"] for m in expected["selected"]]
    for member in expected["selected"]:
        a = torch.load(reference / "retrain" / member["id"] / "checkpoint.pt", weights_only=False)
        b = torch.load(root / "retrain" / member["id"] / "checkpoint.pt", weights_only=False)
        for key, value in a["model"].items():
            assert torch.equal(value, b["model"][key]), key
        assert _lines(root / "retrain" / member["id"] / "metrics.jsonl") == 3
    check_registry(f"sqlite:///{root / 'mlflow.db'}", expected_versions=len(result["selected"]))


def test_select_knee_and_extremes_and_budgets():
    import numpy as np

    front = [
        {"id": "a", "objectives": {"error": 0.10, "latency": 9.0}},
        {"id": "b", "objectives": {"error": 0.12, "latency": 3.0}},
        {"id": "c", "objectives": {"error": 0.30, "latency": 1.0}},
    ]
    assert knee_index(np.array([[0.10, 9.0], [0.12, 3.0], [0.30, 1.0]])) == 1
    picked = select_from_front(front, ["error", "latency"], k=3)
    assert [m["id"] for m in picked] == ["b", "a", "c"]
    assert picked[0]["reasons"] == ["knee"]
    within = select_from_front(front, ["error", "latency"], 1, "best_feasible", {"latency": 5.0})
    assert [m["id"] for m in within] == ["b"]
    from shiftnas.errors import ShiftnasError

    with pytest.raises(ShiftnasError, match="no network of the front meets the budgets"):
        select_from_front(front, ["error", "latency"], 1, budgets={"latency": 0.5})
