"""A run folder made before the own-data keys existed (issue 26) keeps its finished stages: keys
absent from its config.yaml that now have defaults are no change."""

from __future__ import annotations

import yaml

from shiftnas.pipeline.config import config_from_dict, dump_config
from shiftnas.pipeline.rundir import RunDir


def test_keys_added_since_a_run_started_reset_nothing(tmp_path):
    config = config_from_dict({"name": "old", "data": {"dataset": "digits"}})
    old = yaml.safe_load(dump_config(config))
    for key in ("resize", "image_size", "pad_fill", "unreadable", "workers", "test_fraction",
                "split_seed"):  # fmt: skip
        del old["data"][key]
    del old["supernet"]["augment"]["resized_crop"]
    run = RunDir(tmp_path / "run")
    run.root.mkdir()
    run.config_path.write_text(yaml.safe_dump(old, sort_keys=False))
    assert run.bind(config) == []  # no line: nothing changed, nothing reset
    changed = config_from_dict({"name": "old", "data": {"dataset": "digits", "resize": "pad"}})
    assert any("data.resize" in line for line in run.bind(changed))
