"""Per-network work in a run folder (`shiftnas.pipeline.networks`): one context, resumable."""

import yaml

from shiftnas.arch import Arch
from shiftnas.pipeline.context import open_run
from shiftnas.pipeline.networks import retrain_in_run, robustness_in_run

CONFIG = {
    "name": "t", "device": "cpu",
    "data": {"dataset": "shapes",
             "shapes": {"train_size": 60, "test_size": 20, "image_size": 16}},
    "space": {"name": "mbv3", "input_size": 16, "stem_channels": 8, "head_channels": 16,
              "layers": [{"channels": 8, "stride": 2}]},
    "retrain": {"epochs": 1, "batch_size": 16},
    "robustness": {"max_shift": 1, "shift_pairs": 1, "fills": ["zero"], "ablation": False},
}  # fmt: skip


def test_a_finished_robustness_result_is_not_computed_again(tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    ctx = open_run(tmp_path, progress=False)
    done = retrain_in_run(ctx, Arch("mbv3", (3,)))
    first = robustness_in_run(ctx, done.arch.id)
    report = tmp_path / "robustness" / done.arch.id / "report.html"
    stamp = report.stat().st_mtime_ns
    assert robustness_in_run(ctx, done.arch.id) == first
    assert report.stat().st_mtime_ns == stamp  # the report was not written again

    # other settings: evaluated again, under the new settings
    config = {**CONFIG, "robustness": {**CONFIG["robustness"], "fills": ["circular"]}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    again = robustness_in_run(open_run(tmp_path, progress=False), done.arch.id)
    assert set(again["network"]["fills"]) == {"circular"} and set(first["network"]["fills"]) == {
        "zero"
    }
