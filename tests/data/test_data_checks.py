"""Data that does not match itself or the skeleton is refused at load, in one line, before the
run folder is made (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import one_line_error, shiftnas, tiny_run_config, write_config
from PIL import Image

from shiftnas.data import load_data
from shiftnas.data.settings import DataConfig
from shiftnas.errors import ShiftnasError


def image_folder(root: Path, splits: dict[str, dict[str, int]], sizes=None) -> Path:
    """`root/<split>/<class>/<i>.png`, `count` images per class; `sizes[split]` px (default 8)."""
    for split, classes in splits.items():
        side = (sizes or {}).get(split, 8)
        for name, count in classes.items():
            (root / split / name).mkdir(parents=True, exist_ok=True)
            for i in range(count):
                colour = (40 * i % 256, 30, 200 if name == "b" else 0)
                Image.new("RGB", (side, side), colour).save(root / split / name / f"{i}.png")
    return root


def run_on_folder(tmp_path, folder: Path, input_size: int = 8) -> str:
    """`shiftnas run` on the image folder; asserts exit 2, one line and no run folder."""
    config = tiny_run_config(data={"dataset": "imagefolder", "root": str(folder)})
    config["space"]["input_size"] = input_size
    path = write_config(tmp_path / "c.yaml", config)
    code, _, err = shiftnas("run", str(path), "--run-dir", str(tmp_path / "r"))
    line = one_line_error(code, err)
    assert not (tmp_path / "r").exists()  # refused before the run folder is made
    return line


def test_test_classes_that_differ_from_train_are_named(tmp_path):
    folder = image_folder(tmp_path / "d", {"train": {"a": 5, "b": 5}, "test": {"a": 2, "c": 2}})
    line = run_on_folder(tmp_path, folder)
    assert "only in train: b; only in test: c" in line


def test_image_size_must_match_the_skeleton(tmp_path):
    folder = image_folder(tmp_path / "d", {"train": {"a": 5, "b": 5}, "test": {"a": 2, "b": 2}},
                          sizes={"train": 16, "test": 16})  # fmt: skip
    line = run_on_folder(tmp_path, folder, input_size=8)
    assert "images are 16x16 px but space.input_size is 8" in line
    assert "set space.input_size: 16" in line


def test_train_and_test_of_different_sizes(tmp_path):
    folder = image_folder(tmp_path / "d", {"train": {"a": 5, "b": 5}, "test": {"a": 2, "b": 2}},
                          sizes={"train": 8, "test": 16})  # fmt: skip
    line = run_on_folder(tmp_path, folder)
    assert "training images are 8x8 px (3 channels) but test images 16x16 px" in line


def test_one_class_only(tmp_path):
    folder = image_folder(tmp_path / "d", {"train": {"a": 5}, "test": {"a": 2}})
    line = run_on_folder(tmp_path, folder)
    assert "only one class (a)" in line


def test_empty_validation_split(tmp_path):
    # one image per class: round(1 x 0.2) = 0 validation images per class
    folder = image_folder(tmp_path / "d", {"train": {"a": 1, "b": 1}, "test": {"a": 1, "b": 1}})
    line = run_on_folder(tmp_path, folder)
    assert "the validation split is empty (2 training images, val_fraction 0.2" in line


def test_empty_training_split_and_class():
    with pytest.raises(ShiftnasError, match="the training split is empty"):
        # 10 images, one per class: round(1 x 0.96) = 1 goes to validation, none stays
        load_data(DataConfig(shapes={"train_size": 10, "test_size": 10}, val_fraction=0.96))


def test_training_class_without_images(tmp_path):
    folder = image_folder(tmp_path / "d", {"train": {"a": 3, "b": 3}, "test": {"a": 1, "b": 1}})
    (folder / "train" / "c").mkdir()
    (folder / "test" / "c").mkdir()
    with pytest.raises(ShiftnasError, match="training class c has no images"):
        load_data(DataConfig(dataset="imagefolder", root=folder))


def test_a_file_that_is_not_an_image_is_named(tmp_path):
    folder = image_folder(tmp_path / "d", {"train": {"a": 5, "b": 5}, "test": {"a": 2, "b": 2}})
    broken = folder / "train" / "b" / "broken.jpg"
    broken.write_bytes(b"this is not a JPEG")
    line = run_on_folder(tmp_path, folder)
    assert f"{broken} is not a readable image" in line


def test_a_good_folder_loads_with_the_counts_of_a_hand_split(tmp_path):
    folder = image_folder(tmp_path / "d", {"train": {"a": 5, "b": 5}, "test": {"a": 2, "b": 2}})
    splits = load_data(DataConfig(dataset="imagefolder", root=folder))
    # round(5 x 0.2) = 1 validation image per class
    assert (len(splits.train), len(splits.val), len(splits.test)) == (8, 2, 4)


def test_cifar10_download_failure_says_how_to_use_a_local_copy(tmp_path, monkeypatch):
    """A real failed download (a proxy that refuses every connection), through the CLI."""
    import urllib.request

    config = tiny_run_config(data={"dataset": "cifar10", "root": str(tmp_path / "c10"),
                                   "download": True})  # fmt: skip
    config["space"]["input_size"] = 32
    path = write_config(tmp_path / "c.yaml", config)
    refused = "http://127.0.0.1:9"  # the discard port: nothing listens there
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, refused)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(urllib.request, "_opener", None)  # built again, with the proxies above
    code, _, err = shiftnas("run", str(path), "--run-dir", str(tmp_path / "r"))
    line = one_line_error(code, err)
    assert "could not download CIFAR-10" in line
    assert "root: ../shared/datasets/cifar10-jpeg" in line
    assert not (tmp_path / "r").exists()
