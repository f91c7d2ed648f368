"""`shiftnas status` and the end-of-run table (`pipeline/summary.py`) on a tiny real run."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone

import pytest
import torch
import yaml
from cli_helpers import shiftnas
from run_helpers import CONFIG, state

from shiftnas.pipeline.config import load_config
from shiftnas.search import Arch, get_space

FULL = {
    **CONFIG,
    "retrain": {"epochs": 1, "batch_size": 16},
    "robustness": {"max_shift": 2, "shift_pairs": 1, "ablation": False},
    "stages": ["supernet", "search", "select", "retrain", "robustness", "export"],
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A run of every stage but `register`, made once: (run folder, stdout of `shiftnas run`)."""
    root = tmp_path_factory.mktemp("exported")
    config = root / "tiny.yaml"
    config.write_text(yaml.safe_dump(FULL))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        code, out, err = shiftnas("run", config, "--run-dir", root / "run")
    finally:
        torch.set_num_threads(threads)
    assert code == 0, err
    return root / "run", out


def rows(out: str) -> dict[str, list[str]]:
    """The cells of each row of a rich table printed 400 columns wide, by first cell."""
    found = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if cells and cells[0]:
            found[cells[0]] = cells[1:]
    return found


def test_status_shows_each_stage_its_time_and_summary(exported):
    run, _ = exported
    code, out, err = shiftnas("status", "--run-dir", run)
    assert code == 0, err
    table, stages = rows(out), state(run)
    for stage in FULL["stages"]:
        status, finished, _ = table[stage]
        when = datetime.fromtimestamp(stages[stage]["finished"], tz=timezone.utc)
        assert (status, finished) == ("done", when.strftime("%Y-%m-%d %H:%M:%S UTC"))
    selected = json.loads((run / "select" / "selected.json").read_text())
    ids = [entry["id"] for entry in selected["selected"]]
    assert len(ids) == 1 and table["select"][2] == json.dumps({"selected": ids})
    assert table["register"] == ["not configured", "", ""]
    supernet = table["supernet"][2]  # a long summary is cut to 80 characters
    assert len(supernet) == 80 and supernet.endswith("...") and supernet.startswith('{"epochs": 1')


def test_status_of_a_cut_off_stage_and_a_damaged_output(exported, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(exported[0], run)
    saved = json.loads((run / "state.json").read_text())
    saved["stages"]["export"]["status"] = "running"  # as a kill leaves it
    (run / "state.json").write_text(json.dumps(saved))
    (run / "search" / "pareto.json").unlink()
    code, out, err = shiftnas("status", "--run-dir", run)
    assert code == 0, err
    table = rows(out)
    assert table["export"][0] == "running (cut off or still running: run again to resume)"
    assert table["search"][0] == (
        "done, but search/pareto.json is damaged or missing: run again to recompute the stage"
    )


def test_end_of_run_table_shows_the_cards_figures(exported):
    run, out = exported
    (card_path,) = (run / "export").glob("*/card.json")
    card = json.loads(card_path.read_text())
    arch = Arch.from_json(card["architecture"])
    # the parameters counted again on a network built from the config, not read from the card
    config = load_config(run / "config.yaml")
    network = get_space("mbv3", config.space, num_classes=10).build(arch)
    params = sum(p.numel() for p in network.parameters())
    row = rows(out)[arch.id]
    assert row[0] == f"{100 * (1 - card['accuracy']['test_acc']):.2f}"
    assert row[1] == f"{params / 1e6:.3f}M" and row[2] == f"{card['macs'] / 1e6:.1f}M"
    assert row[5] == str(card_path.parent / "model.onnx")
    assert (card_path.parent / "model.onnx").is_file()
