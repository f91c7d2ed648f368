"""Data-parallel supernet training: 2 `gloo` ranks on 127.0.0.1 against one process.

The ranks are forked with torch.multiprocessing and join through the same `env://` variables
torchrun sets. With dropout off, N ranks must train the same weights as one process with the
same global batch (BatchNorm statistics and gradients of the global batch), and a job whose
rank is killed mid-run must resume from rank 0's checkpoint to the same weights.
"""

from __future__ import annotations

import json
import os
import signal
import socket

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from shiftnas.data import load_data
from shiftnas.data.settings import DataConfig, ShapesConfig
from shiftnas.errors import ShiftnasError
from shiftnas.search import get_space
from shiftnas.training import distributed
from shiftnas.training.retrain import retrain
from shiftnas.training.settings import RetrainConfig, SupernetConfig
from shiftnas.training.supernet import train_supernet

pytestmark = pytest.mark.skipif(
    not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
    reason="torch was built without gloo",
)

# 80 training images / global batch 20 = 4 steps per epoch, 8 in all; 10 images per rank
CONFIG = SupernetConfig(
    epochs=2, batch_size=20, lr=0.05, checkpoint_every_steps=3, augment={"cutout": 4}
)


@pytest.fixture(scope="module")
def setup():
    layers = [{"channels": 8, "stride": 1}, {"channels": 16, "stride": 2}]
    space = get_space(
        "mbv3", stem_channels=8, layers=layers, head_channels=32, input_size=16, dropout=0.0
    )
    shapes = ShapesConfig(train_size=100, test_size=40, image_size=16)
    data = load_data(DataConfig(dataset="shapes", shapes=shapes), seed=0)
    return space, data


@pytest.fixture(scope="module")
def one_process(setup, tmp_path_factory):
    """The reference: the same job in one process, whole global batches."""
    space, data = setup
    out = tmp_path_factory.mktemp("one")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    supernet, _ = train_supernet(space, data, CONFIG, out, progress=False)
    torch.set_num_threads(threads)
    return supernet.state_dict(), _metrics(out)


def _metrics(folder):
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rank(rank, world, port, job):
    os.environ.update(
        RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world),
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), GLOO_SOCKET_IFNAME="lo",
    )  # fmt: skip
    torch.set_num_threads(1)
    job(rank)


def _launch(job):
    """Run `job(rank)` on 2 forked ranks (a fork needs no pickling of the space and data)."""
    mp.start_processes(_rank, args=(2, _free_port(), job), nprocs=2, start_method="fork")


def _supernet_job(setup, out, kill_at=None):
    """Train the supernet; rank 1 dies at the start of step `kill_at`, and each rank lists the
    steps it trained in `out/steps-<rank>.txt`."""
    space, data = setup

    def job(rank):
        import shiftnas.training.supernet as module

        real = module.supernet_step

        def logging_step(*args, **kwargs):
            step_fn = real(*args, **kwargs)

            def step(model, x, y, index, ctx):
                if index == kill_at and rank == 1:
                    os.kill(os.getpid(), signal.SIGKILL)  # a hard kill: no cleanup, no checkpoint
                with open(out / f"steps-{rank}.txt", "a") as log:
                    log.write(f"{index}\n")
                return step_fn(model, x, y, index, ctx)

            return step

        module.supernet_step = logging_step  # in this forked child only
        train_supernet(space, data, CONFIG, out, progress=False)

    return job


def _steps(folder, rank):
    path = folder / f"steps-{rank}.txt"
    steps = [int(line) for line in path.read_text().split()]
    path.unlink()
    return steps


def _assert_same_weights(saved, reference):
    # Float noise alone moves these weights by up to 3.2e-4 over the 8 steps (measured: one
    # process with 2 threads against 1); per-rank BatchNorm statistics instead of the global
    # batch's would move them by up to 7e-2.
    assert saved.keys() == reference.keys()
    for key, value in reference.items():
        if value.is_floating_point():
            torch.testing.assert_close(saved[key], value, rtol=1e-3, atol=1e-3, msg=key)
        else:
            assert torch.equal(saved[key], value), key  # num_batches_tracked: same count


def test_two_ranks_train_the_weights_of_one_process(setup, one_process, tmp_path):
    _launch(_supernet_job(setup, tmp_path))
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert saved["step"] == 8
    reference, reference_metrics = one_process
    _assert_same_weights(saved["model"], reference)
    # rank 0 alone wrote the metrics, with loss and accuracy summed over both shards
    metrics = _metrics(tmp_path)
    assert [m["epoch"] for m in metrics] == [0, 1]
    for mine, theirs in zip(metrics, reference_metrics, strict=True):
        assert mine["train_loss"] == pytest.approx(theirs["train_loss"], rel=1e-3)
        assert mine["lr"] == pytest.approx(theirs["lr"])


def test_a_killed_rank_resumes_from_the_checkpoint(setup, one_process, tmp_path):
    # rank 1 dies at the start of step 7 (0-based); rank 0's last checkpoint is after step 6
    with pytest.raises(mp.ProcessExitedException):
        _launch(_supernet_job(setup, tmp_path, kill_at=7))
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=False)["step"] == 6
    assert _steps(tmp_path, 1) == list(range(7))
    assert _steps(tmp_path, 0)[:7] == list(range(7))  # and maybe the start of step 7
    _launch(_supernet_job(setup, tmp_path))  # the same command again
    # both ranks went on from rank 0's checkpoint: step 6 again, then 7
    assert _steps(tmp_path, 0) == [6, 7] and _steps(tmp_path, 1) == [6, 7]
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert saved["step"] == 8
    _assert_same_weights(saved["model"], one_process[0])
    assert [m["epoch"] for m in _metrics(tmp_path)] == [0, 1]


def test_two_ranks_retrain_the_weights_of_one_process(setup, tmp_path):
    space, data = setup
    arch = space.sample(np.random.default_rng(1))
    config = RetrainConfig(epochs=1, batch_size=20, lr=0.05, augment={"cutout": 4})
    one = retrain(space, arch, data, config, tmp_path / "one", progress=False)
    _launch(lambda rank: retrain(space, arch, data, config, tmp_path / "two", progress=False))
    saved = torch.load(tmp_path / "two" / "checkpoint.pt", weights_only=False)
    assert saved["step"] == 4
    _assert_same_weights(saved["model"], one.model.state_dict())
    (mine,), (theirs,) = _metrics(tmp_path / "two"), _metrics(tmp_path / "one")
    assert mine["val_acc"] == pytest.approx(theirs["val_acc"], abs=1 / 20)  # 20 images: 1 may flip
    assert mine["train_loss"] == pytest.approx(theirs["train_loss"], rel=1e-3)


def test_global_batch_must_split_over_ranks():
    ranks = distributed.Ranks(rank=1, world_size=4)
    assert ranks.shard(32) == slice(8, 16)
    with pytest.raises(ShiftnasError, match="multiple of 4"):
        ranks.shard(30)


def test_without_torchrun_nothing_changes(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    ranks = distributed.setup(torch.device("cpu"))
    assert (ranks.rank, ranks.world_size, ranks.main) == (0, 1, True)
    assert not torch.distributed.is_initialized()


def test_incomplete_torchrun_environment_is_one_line(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    for name in ("RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ShiftnasError, match="RANK, MASTER_ADDR, MASTER_PORT is not set"):
        distributed.setup(torch.device("cpu"))


def test_the_pipeline_refuses_to_run_as_a_torchrun_job(monkeypatch, tmp_path):
    from cli_helpers import one_line_error, shiftnas

    monkeypatch.setenv("WORLD_SIZE", "2")
    one_line_error(*shiftnas("run", "--run-dir", tmp_path / "run")[::2], "shiftnas supernet train")
    assert not (tmp_path / "run").exists()  # refused before anything was written
