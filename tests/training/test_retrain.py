import json

import pytest
import torch

from shiftnas.errors import ShiftnasError
from shiftnas.search import Arch
from shiftnas.training.retrain import load_retrained, retrain
from shiftnas.training.settings import RetrainConfig, SupernetConfig
from shiftnas.training.supernet import train_supernet

ARCH = Arch("mbv3", (2, 5))  # mb_k5_e3 on the stride-1 layer, mb_k7_e3_blur on the stride-2 one


def _config(**extra):
    base = {"epochs": 2, "batch_size": 16, "lr": 0.05, "checkpoint_every_steps": 3,
            "augment": {"enabled": True, "cutout": 4}}  # fmt: skip
    return RetrainConfig(**{**base, **extra})


def test_resume_is_bit_identical(tmp_path, tiny_space, tiny_data):
    config = _config()  # 80 train images / 16 = 5 steps per epoch, 10 in all
    full = retrain(tiny_space, ARCH, tiny_data, config, tmp_path / "a", progress=False)
    # a kill after step 7: the last checkpoint is step 6, step 7 is lost and redone on resume
    retrain(tiny_space, ARCH, tiny_data, config, tmp_path / "b", progress=False, max_steps=7)
    assert torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=False)["step"] == 6
    resumed = retrain(tiny_space, ARCH, tiny_data, config, tmp_path / "b", progress=False)
    assert resumed.result.steps == 10
    a, b = full.model.state_dict(), resumed.model.state_dict()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    curves_a = (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()
    curves_b = (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x) for x in curves_a] == [json.loads(x) for x in curves_b]
    record = json.loads(curves_a[-1])
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc"):
        assert 0.0 <= record[key] < 10.0, key


def test_retrained_network_is_found_again_by_its_folder(tmp_path, tiny_space, tiny_data):
    done = retrain(tiny_space, ARCH, tiny_data, _config(epochs=1), tmp_path, progress=False)
    again = load_retrained(tiny_space, tmp_path)
    assert again.arch == tiny_space.canonical(ARCH) == done.arch
    x = torch.randn(3, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(again.model(x), done.model.eval()(x), atol=1e-5)  # channels-last
    with pytest.raises(ShiftnasError, match="another architecture"):
        retrain(tiny_space, Arch("mbv3", (0, 0)), tiny_data, _config(), tmp_path, progress=False)


def test_inherited_start_copies_the_supernet_path(tmp_path, tiny_space, tiny_data):
    supernet, _ = train_supernet(
        tiny_space, tiny_data, SupernetConfig(epochs=1, batch_size=16), tmp_path / "supernet",
        progress=False,
    )  # fmt: skip
    ckpt = tmp_path / "supernet" / "checkpoint.pt"
    config = _config(init="inherited", lr=1e-9, weight_decay=0.0, grad_clip=None)
    done = retrain(
        tiny_space, ARCH, tiny_data, config, tmp_path / "r", supernet_checkpoint=ckpt,
        progress=False, max_steps=1,
    )  # fmt: skip
    expected = supernet.extract(ARCH).state_dict()
    got = done.model.state_dict()
    # one step at lr 1e-9 leaves the weights where the supernet had them
    for key, value in expected.items():
        if value.is_floating_point() and "running" not in key:
            assert torch.allclose(got[key], value, atol=1e-6), key
    with pytest.raises(ShiftnasError, match="does not exist"):
        retrain(
            tiny_space, ARCH, tiny_data, config, tmp_path / "x",
            supernet_checkpoint=tmp_path / "none.pt", progress=False,
        )  # fmt: skip
