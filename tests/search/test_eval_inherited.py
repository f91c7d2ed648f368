"""`shiftnas eval inherited` scores a network exactly as the search did (issue #14: it ignored
`search.evaluator.max_val_images` and the BN recalibration batch size, so it disagreed with the
search archive for the same network)."""

from __future__ import annotations

import json

import run_helpers
import yaml
from run_helpers import shiftnas

finished = run_helpers.finished  # the shared fixture


def test_eval_inherited_agrees_with_the_search_archive(tmp_path):
    config = dict(run_helpers.CONFIG)
    config["search"] = {
        **config["search"],
        "evaluator": {"name": "inherited", "max_val_images": 10},
    }
    config["data"] = {
        "dataset": "shapes",
        "shapes": {"train_size": 100, "test_size": 16, "image_size": 16},
    }
    config["stages"] = ["supernet", "search"]
    config["supernet"] = {**config["supernet"], "epochs": 4}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    code, _, err = shiftnas("run", path, "--run-dir", tmp_path / "run")
    assert code == 0, err
    records = [json.loads(line) for line in (tmp_path / "run/search/archive.jsonl").open()]
    # the search scores on 10 of the 20 validation images, with BN recalibrated on batches of
    # the 80 training images (the default batch of 256 would calibrate on none)
    for record in records[:2]:
        arch = tmp_path / f"{record['id']}.json"
        arch.write_text(json.dumps(record["arch"]))
        code, out, err = shiftnas(
            "eval", "inherited", "--run-dir", tmp_path / "run", "--arch", arch
        )
        assert code == 0, err
        printed = float(out.split("error=")[1].split()[0])
        error = record["objectives"]["error"]
        assert abs(error * 10 - round(error * 10)) < 1e-6  # a multiple of 1/10
        assert abs(printed - error) < 1e-4, (out, record)
