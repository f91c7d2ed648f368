"""`shiftnas search` from a config: presets, the supernet requirement, every kind of objective."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from cli_helpers import shiftnas

from shiftnas.errors import ShiftnasError
from shiftnas.pipeline.config import config_from_dict, load_config

REPO = Path(__file__).resolve().parents[2]
TINY_SPACE = {
    "name": "mbv3",
    "input_size": 16,
    "stem_channels": 8,
    "stem_stride": 2,
    "head_channels": 32,
    "layers": [
        {"channels": 8, "stride": 1},
        {"channels": 16, "stride": 2},
        {"channels": 16, "stride": 1},
    ],
}
TINY_DATA = {"dataset": "shapes", "shapes": {"train_size": 300, "test_size": 40, "image_size": 16}}


def write_config(path: Path, search: dict) -> Path:
    cfg = {
        "name": "tiny",
        "device": "cpu",
        "data": TINY_DATA,
        "space": TINY_SPACE,
        "supernet": {"bn_recalibration_batches": 1, "batch_size": 32},
        "search": search,
    }
    config_from_dict(cfg)  # valid before the CLI sees it
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_presets_hold_the_papers_settings():
    sicns = load_config(REPO / "configs/cifar10-sicns.yaml").search
    assert (sicns.population, sicns.generations) == (10, 50)
    assert [o.name for o in sicns.objectives] == ["error", "params", "macs", "latency"]
    assert sicns.evaluator.name == "inherited"
    rwe = load_config(REPO / "configs/cifar10-rwe.yaml").search
    assert (rwe.population, rwe.generations) == (20, 30)
    assert [o.name for o in rwe.objectives] == ["error", "macs"]
    assert rwe.evaluator.name.startswith("rwe")


def test_inherited_without_supernet_says_train_first(tmp_path):
    from shiftnas.pipeline.search_setup import search_from_config

    cfg = load_config(write_config(tmp_path / "c.yaml", {"population": 4, "generations": 2}))
    with pytest.raises(ShiftnasError, match="shiftnas supernet train") as err:
        search_from_config(cfg, tmp_path / "run", progress=False)
    assert "\n" not in str(err.value)


def test_cli_search_with_cheap_objectives_and_a_budget(tmp_path, monkeypatch):
    search = {
        "population": 6,
        "generations": 2,
        "objectives": [{"name": "params"}, {"name": "macs"}],
        "budgets": {"params": 12000},
    }
    config = write_config(tmp_path / "c.yaml", search)
    monkeypatch.chdir(tmp_path)  # the run folder defaults to runs/<config name> here
    code, out, err = shiftnas("search", "-c", config, "--quiet")
    assert code == 0, err
    pareto = json.loads((tmp_path / "runs/tiny/search/pareto.json").read_text())
    assert pareto["front"] and all(e["objectives"]["params"] <= 12000 for e in pareto["front"])
    assert pareto["generations"] == 2 and "Pareto front" in out


def test_all_objectives_from_config_with_a_supernet(tmp_path):
    from shiftnas.data import load_data
    from shiftnas.pipeline.search_setup import search_from_config
    from shiftnas.search import get_space
    from shiftnas.search.supernet import Supernet

    search = {
        "population": 4,
        "generations": 2,
        "objectives": [{"name": "error"}, {"name": "shift_error"}, {"name": "latency"}],
        "budgets": {"params": 1.0e6},
        "shift_error": {"max_shift": 3},
        "latency": {"backend": "torch", "warmup": 2, "runs": 5},
    }
    cfg = load_config(write_config(tmp_path / "c.yaml", search))
    data = load_data(cfg.data, cfg.seed)
    space = get_space("mbv3", cfg.space, num_classes=data.num_classes)
    torch.manual_seed(0)
    supernet = Supernet(space)
    (tmp_path / "supernet").mkdir()
    torch.save({"model": supernet.state_dict()}, tmp_path / "supernet/checkpoint.pt")
    result = search_from_config(cfg, tmp_path, progress=False)
    records = [json.loads(x) for x in (tmp_path / "search/archive.jsonl").read_text().splitlines()]
    assert len(records) == result.evaluations >= 4
    for r in records:
        v = r["objectives"]
        assert set(v) == {"error", "shift_error", "latency", "params"}
        assert 0.0 <= v["error"] <= 1.0 and 0.0 <= v["shift_error"] <= 1.0
        assert v["latency"] > 0 and v["params"] <= 1.0e6


def test_shifted_validation_moves_every_image_by_a_seeded_offset(tiny_data):
    from shiftnas.pipeline.objectives import shifted_validation

    a = shifted_validation(tiny_data, 3, "circular", seed=5)
    b = shifted_validation(tiny_data, 3, "circular", seed=5)
    assert torch.equal(a.val.images, b.val.images) and torch.equal(
        a.train.images, tiny_data.train.images
    )
    assert torch.equal(a.val.labels, tiny_data.val.labels)
    moved = (a.val.images != tiny_data.val.images).flatten(1).any(1).float().mean()
    assert moved > 0.5  # (0, 0) is one offset of 49; blank images stay put
    # circular shifts only permute pixels within each image
    assert torch.equal(
        a.val.images.flatten(1).sort(1).values, tiny_data.val.images.flatten(1).sort(1).values
    )
