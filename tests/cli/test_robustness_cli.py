"""retrain -> robustness -> export through the CLI on a tiny run folder, each command given
the network in another of the `--arch` forms: a file, an id of the run, a genome string."""

import json

import yaml
from cli_helpers import one_line_error, shiftnas

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
    args = ["--run-dir", run]
    code, _, err = shiftnas("retrain", *args, "--arch", tmp_path / "a.json")
    assert code == 0, err
    folder = run / "retrain" / arch.id
    assert {p.name for p in folder.iterdir()} >= {"arch.json", "checkpoint.pt", "metrics.jsonl"}
    assert Arch.load(folder / "arch.json") == arch

    code, out, err = shiftnas("robustness", *args, "--arch", arch.id)  # found under retrain/
    assert code == 0, err
    assert "consistency" in out
    result = json.loads((run / "robustness" / f"{arch.id}.json").read_text())
    assert result["twin"]["genome"] == [0, 2] and result["ablation"] is None
    assert set(result["network"]["fills"]) == {"zero", "circular"}
    for name in ("report.md", "report.html", "accuracy_vs_shift.png", "training.png"):
        assert (run / "robustness" / arch.id / name).exists(), name

    # 1-3 is 0-3: layer 0 has stride 1, where the filter flag is dropped (canonical genome)
    code, out, err = shiftnas("export", *args, "--arch", "1-3")
    assert code == 0, err
    assert "TensorRT" in out  # the engine line or its one-line skip
    card = json.loads((run / "export" / arch.id / "card.json").read_text())
    assert card["architecture"]["ops"] == ["mb_k3_e3", "mb_k5_e3_blur"]
    shift = card["shift_robustness"]
    assert shift["clean_acc"] == result["network"]["clean_acc"]
    assert "offset_curve" not in shift["fills"]["zero"]
    assert card["accuracy"]["test_acc"] >= 0 and card["training"]["epochs"] == 1

    one_line_error(*shiftnas("export", *args, "--arch", "0-0")[::2], "run `shiftnas retrain`")
    renamed = shiftnas("export", *args, "--arch-id", arch.id)
    one_line_error(renamed[0], renamed[2], f"--arch-id is now --arch (an id, a genome or a file): "
                   f"--arch {arch.id}")  # fmt: skip
