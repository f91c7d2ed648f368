import json

import pytest
import torch

from shiftnas.training import lr_factor, single_path_step, train
from shiftnas.training.settings import SupernetConfig, TrainingConfig
from shiftnas.training.supernet import train_supernet


def _config(sampling="fair", **extra):
    return SupernetConfig(
        epochs=2, batch_size=16, lr=0.05, sampling=sampling, checkpoint_every_steps=3,
        augment={"cutout": 4}, **extra,
    )  # fmt: skip


@pytest.mark.parametrize("sampling", ["fair", "spos"])
def test_resume_is_bit_identical(tmp_path, tiny_space, tiny_data, sampling):
    config = _config(sampling)  # 80 train images / 16 = 5 steps per epoch, 10 in all
    full, _ = train_supernet(tiny_space, tiny_data, config, tmp_path / "a", progress=False)
    # a hard kill after step 8, mid-epoch: the last checkpoint is from step 6, so steps 7-8 are
    # lost and redone on resume, and must come out the same
    train_supernet(tiny_space, tiny_data, config, tmp_path / "b", progress=False, max_steps=8)
    ckpt = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=False)
    assert ckpt["step"] == 6
    resumed, result = train_supernet(tiny_space, tiny_data, config, tmp_path / "b", progress=False)
    assert result.steps == 10
    a, b = full.state_dict(), resumed.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    lines_a = (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()
    lines_b = (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x) for x in lines_a] == [json.loads(x) for x in lines_b]
    assert len(lines_a) == 2


def test_finished_training_is_not_redone(tmp_path, tiny_space, tiny_data):
    config = _config()
    train_supernet(tiny_space, tiny_data, config, tmp_path, progress=False)
    stamp = (tmp_path / "checkpoint.pt").stat().st_mtime_ns
    _, result = train_supernet(tiny_space, tiny_data, config, tmp_path, progress=False)
    assert result.steps == 10
    assert (tmp_path / "checkpoint.pt").stat().st_mtime_ns == stamp


def test_supernet_learns_on_shapes(tmp_path, tiny_space, tiny_data):
    """A few fair steps lower the training loss: the summed multi-path update works."""
    config = SupernetConfig(epochs=4, batch_size=16, lr=0.05, label_smoothing=0.0)
    _, result = train_supernet(tiny_space, tiny_data, config, tmp_path, progress=False)
    losses = [r["train_loss"] for r in result.history]
    assert losses[-1] < losses[0]


def test_lr_schedule_warmup_then_cosine_to_zero():
    assert lr_factor(0, 100, 10) == pytest.approx(0.1)
    assert lr_factor(9, 100, 10) == pytest.approx(1.0)
    assert lr_factor(10, 100, 10) == pytest.approx(1.0)
    assert lr_factor(100, 100, 10) == pytest.approx(0.0)
    assert lr_factor(55, 100, 10) == pytest.approx(0.5)


def test_standalone_training_with_the_same_loop(tmp_path, tiny_space, tiny_data):
    network = tiny_space.build(tiny_space.sample(__import__("numpy").random.default_rng(0)))
    config = TrainingConfig(epochs=1, batch_size=16)
    result = train(
        network, single_path_step(torch.nn.CrossEntropyLoss()), tiny_data, config, tmp_path,
        progress=False,
    )  # fmt: skip
    assert result.steps == 5 and (tmp_path / "checkpoint.pt").exists()
