"""The own-data example end to end (issue 26): a messy folder built by the shipped script, every
stage at 64 px by the shipped config, and `shiftnas predict` on the held-out photos agreeing with
the pipeline's own test accuracy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cli_helpers import shiftnas
from conftest import CIFAR_JPEG, REPO

from shiftnas.data import make_shapes
from shiftnas.pipeline import RunDir, run_pipeline
from shiftnas.pipeline.config import config_from_dict

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _source(tmp_path: Path) -> Path:
    """The CIFAR-10 JPEGs when ../shared has them, else `shapes` images saved as JPEGs."""
    if CIFAR_JPEG.is_dir():
        return CIFAR_JPEG
    from PIL import Image

    root = tmp_path / "source"
    for split, seed in (("train", 0), ("test", 1)):
        data = make_shapes(200, seed=seed)
        for i, (image, label) in enumerate(zip(data.images, data.labels, strict=True)):
            folder = root / split / data.classes[int(label)]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image.permute(1, 2, 0).numpy()).save(folder / f"{i}.jpg")
    return root


def test_messy_folder_runs_every_stage_at_64_px_and_predict_agrees(tmp_path):
    messy = tmp_path / "messy"
    made = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_messy_folder.py"), "--source",
         str(_source(tmp_path)), "--out", str(messy), "--train-per-class", "36",
         "--test-per-class", "14", "--classes", "5"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    suffixes = {p.suffix for p in messy.rglob("*.*")}
    assert suffixes == {".jpg", ".png"}
    raw = yaml.safe_load((REPO / "configs" / "own-data-64.yaml").read_text())
    raw["data"].update(root=str(messy), cache_dir=str(tmp_path / "cache"))
    raw.update(device="cpu", tracking={"enabled": False}, stages=raw["stages"][:-1])
    raw["supernet"].update(epochs=1, checkpoint_every_steps=100)
    raw["search"].update(population=4, generations=2)
    raw["select"]["k"] = 1
    raw["retrain"].update(epochs=2, init="scratch")
    raw["robustness"]["max_test_images"] = 40
    run = run_pipeline(config_from_dict(raw), tmp_path / "run", progress=False)
    stages = run.state()["stages"]
    assert all(stages[s]["status"] == "done" for s in raw["stages"])

    report = json.loads((tmp_path / "run" / "data.json").read_text())
    assert report["image_shape"] == [3, 64, 64] and report["skipped"]["count"] == 1
    assert report["skipped"]["files"][0][0].endswith("corrupt.jpg")
    (export,) = RunDir(tmp_path / "run").stage("export").iterdir()
    card = json.loads((export / "card.json").read_text())
    recipe = card["input"]["recipe"]
    assert (recipe["resize"], recipe["size"], recipe["channel_order"]) == ("center_crop", 64, "RGB")
    assert recipe["mean"] == card["input"]["mean"]

    tests = sorted((messy / "test").rglob("*.*"))
    assert len(tests) == 70  # 5 classes x 14; 180 training photos and the corrupt one
    code, out, err = shiftnas("predict", "--run-dir", str(tmp_path / "run"), *map(str, tests))
    assert code == 0, err
    lines = [line.split("\t") for line in out.strip().splitlines()]
    assert [Path(p) for p, _, _ in lines] == tests
    correct = sum(Path(p).parent.name == label for p, label, _ in lines)
    # the same photos, the same recipe: onnxruntime's accuracy is the pipeline's (PyTorch) test
    # accuracy, up to one image whose top two logits are within float error of each other
    assert abs(correct / len(tests) - card["accuracy"]["test_acc"]) <= 1 / len(tests) + 1e-9
