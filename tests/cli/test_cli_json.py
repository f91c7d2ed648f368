"""Every command that reports a result takes `--json` and prints exactly one JSON object on
stdout (what else it says goes to stderr), on one tiny run made once with every stage.

`profile latency --json` and `doctor --json` are parsed in their own tests
(tests/profiling/test_lut_use.py, tests/test_doctor.py); `test_cli_help.py` checks that every
command has `--json`."""

from __future__ import annotations

import json

import pytest
import torch
import yaml
from cli_helpers import shiftnas

TINY = {
    "name": "tiny", "seed": 0, "device": "cpu",
    "data": {"dataset": "shapes", "shapes": {"train_size": 40, "test_size": 16, "image_size": 16}},
    "space": {"name": "mbv3", "input_size": 16, "stem_channels": 8, "head_channels": 32,
              "layers": [{"channels": 8, "stride": 1}, {"channels": 16, "stride": 2}]},
    "supernet": {"epochs": 1, "batch_size": 16, "sampling": "spos"},
    "search": {"population": 4, "generations": 2, "evaluator": {"name": "inherited"},
               "objectives": [{"name": "error"}, {"name": "params"}]},
    "select": {"k": 1},
    "retrain": {"epochs": 1, "batch_size": 16},
    "robustness": {"max_shift": 2, "shift_pairs": 1, "ablation": False},
}  # fmt: skip


def parsed(*args) -> dict:
    code, out, err = shiftnas(*args, "--json")
    assert code == 0, err
    return json.loads(out)  # the whole of stdout is one JSON object


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """`shiftnas run --json` of every stage (register included), made once: (config, run, JSON)."""
    root = tmp_path_factory.mktemp("json")
    config = root / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = parsed("run", config, "--run-dir", root / "run", "--quiet")
    finally:
        torch.set_num_threads(threads)
    return config, root / "run", result


def test_run_and_status(tiny_run):
    _, run, result = tiny_run
    assert [s["status"] for s in result["stages"]] == ["done"] * 7
    (exported,) = result["exported"]
    assert 0 <= exported["accuracy"] <= 1 and exported["onnx"].endswith("model.onnx")
    assert "mlflow ui" in result["mlflow_ui"]
    status = parsed("status", "--run-dir", run)
    assert [s["stage"] for s in status["stages"]][:2] == ["supernet", "search"]


def test_stage_commands(tiny_run):
    config, run, result = tiny_run
    arch = result["exported"][0]["arch_id"]
    trained = parsed("supernet", "train", "-c", config, "--run-dir", run, "--quiet")
    assert trained["epochs"] == 1 and trained["history"]
    searched = parsed("search", "-c", config, "--run-dir", run, "--quiet")
    assert searched["objectives"] == ["error", "params"] and searched["front"]
    retrained = parsed("retrain", "--run-dir", run, "--arch", arch, "--quiet")
    assert retrained["arch_id"] == arch and retrained["epochs"] == 1
    robust = parsed("robustness", "--run-dir", run, "--arch", arch, "--device", "cpu")
    assert set(robust["network"]["fills"]) == {"zero", "circular"}
    exported = parsed("export", "--run-dir", run, "--arch", arch)
    assert exported["card"]["architecture"]["id"] == arch
    promoted = parsed("promote", "--run-dir", run, "--model", "shiftnas", "--max-latency-ms",
                      "1e6", "--allow-near-chance")  # fmt: skip
    assert promoted["alias"] == "champion" and promoted["version"]


def test_eval_profile_and_catalogues(tmp_path):
    scored = parsed("eval", "params", "--arch", "0-3-4-5-6-7-8-9-10-11-12-0", "--quiet")
    assert scored["method"] == "params" and isinstance(scored["score"], float)
    assert parsed("profile", "macs", "--arch", "0-3-4-5-6-7-8-9-10-11-12-0")["macs"] > 0
    assert "mbv3" in json.dumps(parsed("space", "list"))
    assert parsed("space", "describe", "mbv3")["space"] == "mbv3"
    assert "rwe" in json.dumps(parsed("estimators"))


def test_renamed_progress_switch_still_works_with_a_note():
    code, out, err = shiftnas("eval", "params", "--arch", "0-3-4-5-6-7-8-9-10-11-12-0",
                              "--no-progress", "--json")  # fmt: skip
    assert code == 0, err
    assert "note: --no-progress is now --quiet" in err
    assert json.loads(out)["method"] == "params"


def test_lut_build_show_validate(tmp_path):
    table = tmp_path / "lut.json"
    space = ["--config", write_tiny(tmp_path)]
    built = parsed("lut", "build", *space, "--out", table, "--passes", "1", "--calibration", "2",
                   "--warmup", "1", "--runs", "3", "--quiet")  # fmt: skip
    assert built["entries"] > 0 and table.is_file()
    shown = parsed("lut", "show", table)
    assert shown["missing"] == 0 and len(shown["entries_ms"]) == built["entries"]
    checked = parsed("lut", "validate", table, "--n", "2", "--repeats", "2", "--quiet")
    assert "variants" in checked


def write_tiny(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path
