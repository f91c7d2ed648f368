"""retrain -> robustness -> export through the CLI on a tiny run directory."""

import json

import yaml
from typer.testing import CliRunner

from shiftnas.cli import app
from shiftnas.errors import ShiftnasError
from shiftnas.search import Arch

CONFIG = {
    "name": "t", "device": "cpu",
    "data": {"dataset": "shapes",
             "shapes": {"train_size": 100, "test_size": 40, "image_size": 16}},
    "space": {"name": "mbv3", "input_size": 16, "stem_channels": 8, "head_channels": 32,
              "layers": [{"channels": 8, "stride": 1}, {"channels": 16, "stride": 2}]},
    "retrain": {"epochs": 1, "batch_size": 16},
    "robustness": {"max_shift": 2, "shift_pairs": 1, "ablation": False},
}  # fmt: skip


def test_robustness_and_export_commands(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    arch = Arch("mbv3", (0, 3))
    (tmp_path / "a.json").write_text(json.dumps(arch.to_json()))
    runner = CliRunner()
    args = ["--run-dir", str(run)]
    assert runner.invoke(app, ["retrain", *args, "--arch", str(tmp_path / "a.json")]).exit_code == 0
    folder = run / "retrain" / arch.id
    assert {p.name for p in folder.iterdir()} >= {"arch.json", "checkpoint.pt", "metrics.jsonl"}
    assert Arch.load(folder / "arch.json") == arch

    shown = runner.invoke(app, ["robustness", *args, "--arch-id", arch.id])
    assert shown.exit_code == 0, shown.output
    assert "consistency" in shown.output
    result = json.loads((run / "robustness" / f"{arch.id}.json").read_text())
    assert result["twin"]["genome"] == [0, 2] and result["ablation"] is None
    assert set(result["network"]["fills"]) == {"zero", "circular"}
    for name in ("report.md", "report.html", "accuracy_vs_shift.png", "training.png"):
        assert (run / "robustness" / arch.id / name).exists(), name

    exported = runner.invoke(app, ["export", *args, "--arch-id", arch.id])
    assert exported.exit_code == 0, exported.output
    assert "TensorRT" in exported.output  # the engine line or its one-line skip
    card = json.loads((run / "export" / arch.id / "card.json").read_text())
    assert card["architecture"]["ops"] == ["mb_k3_e3", "mb_k5_e3_blur"]
    shift = card["shift_robustness"]
    assert shift["clean_acc"] == result["network"]["clean_acc"]
    assert "offset_curve" not in shift["fills"]["zero"]
    assert card["accuracy"]["test_acc"] >= 0 and card["training"]["epochs"] == 1

    missing = runner.invoke(app, ["export", *args, "--arch-id", "nope"])
    assert isinstance(missing.exception, ShiftnasError)
    assert "run `shiftnas retrain`" in str(missing.exception)
