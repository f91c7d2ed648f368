"""The CPU-scale CIFAR-10 preset (configs/cifar10-cpu.yaml) and the benchmarks built on it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import CIFAR_JPEG, REPO, needs_shared

sys.path.insert(0, str(REPO / "benchmarks"))
PRESET = REPO / "configs" / "cifar10-cpu.yaml"


def preset_space():
    from _standalone import load_preset, preset_space

    return preset_space(load_preset(PRESET))


def test_preset_skeleton_has_the_documented_size():
    """4 layers, the third stride 1: 13 x 13 x 7 x 13 = 15,379 distinct networks (the comment)."""
    space = preset_space()
    distinct = 1
    for i in range(space.num_layers):
        distinct *= len({space.canonical_gene(i, g) for g in range(13)})
    assert distinct == 13 * 13 * 7 * 13 == 15_379


def _small_imagefolder(root: Path, train_per_class: int, test_per_class: int) -> Path:
    """A CIFAR-10 image folder of a few hundred images, linked from ../shared."""
    for split, count in (("train", train_per_class), ("test", test_per_class)):
        for folder in sorted((CIFAR_JPEG / split).iterdir()):
            target = root / split / folder.name
            target.mkdir(parents=True)
            for image in sorted(folder.iterdir())[:count]:
                (target / image.name).symlink_to(image)
    return root


@needs_shared
def test_preset_runs_every_stage_on_a_few_hundred_images(tmp_path):
    """The preset as shipped (skeleton, objectives, stages), only sizes and epochs shrunk."""
    from shiftnas.pipeline import run_pipeline
    from shiftnas.pipeline.config import load_config

    preset = load_config(PRESET)
    data = _small_imagefolder(tmp_path / "cifar", train_per_class=30, test_per_class=10)

    def shrink(section, **update):
        return getattr(preset, section).model_copy(update=update)

    config = preset.model_copy(update={
        "data": shrink("data", root=data, cache_dir=None),
        "supernet": shrink("supernet", epochs=1, batch_size=64),
        "search": shrink("search", population=4, generations=1,
                         latency=preset.search.latency.model_copy(update={"runs": 3, "warmup": 1})),
        "retrain": shrink("retrain", epochs=1, batch_size=64),
        "robustness": shrink("robustness", max_test_images=None),
    })  # fmt: skip
    run = run_pipeline(config, tmp_path / "run", progress=False)
    state = json.loads((run.root / "state.json").read_text())["stages"]
    assert [s for s in config.stages if state[s]["status"] == "done"] == list(config.stages)
    cards = sorted((run.root / "export").glob("*/card.json"))
    assert 1 <= len(cards) <= preset.select.k
    for card_path in cards:
        accuracy = json.loads(card_path.read_text())["accuracy"]["test_acc"]
        # measured on the 100 test images: a whole number of them
        assert 0.0 <= accuracy <= 1.0 and abs(accuracy * 100 - round(accuracy * 100)) < 1e-9
        assert (card_path.parent / "model.onnx").stat().st_size > 0


def test_stratified_networks_come_in_filter_twins_ordered_by_macs():
    from _standalone import cost, stratified_with_twins

    space = preset_space()
    picked = stratified_with_twins(space, strata=3, seed=0, pool=30)
    assert len(picked) == 6 and len({a.id for a in picked}) == 6
    firsts = picked[0::2]
    for a, b in zip(firsts, picked[1::2], strict=True):
        assert a != b and space.without_filter(a) == space.without_filter(b)
    # the strata are consecutive MACs groups of the sorted pool, so their picks ascend
    macs = [cost(space, a)[0] for a in firsts]
    assert macs == sorted(macs)


def test_random_partner_is_another_network_within_ten_percent_of_macs():
    from _standalone import cost
    from search_vs_random import random_partner

    space = preset_space()
    arch = space.from_string("5-9-4-3")
    partner = random_partner(space, arch, tolerance=0.10, seed=0)
    target = cost(space, arch)[0]
    assert partner != arch
    assert abs(cost(space, partner)[0] - target) <= 0.10 * target


def test_correlations_match_a_hand_count():
    """One swapped pair out of 6: tau = (5 - 1) / 6; rho = 1 - 6 * 2 / (4 * 15) = 0.8."""
    from supernet_ranking import correlations

    result = correlations([1.0, 2.0, 3.0, 4.0], {"x": [1.0, 2.0, 4.0, 3.0], "y": [4, 3, 2, 1]})
    assert result["kendall_tau"]["x"] == pytest.approx(4 / 6)
    assert result["spearman"]["x"] == pytest.approx(0.8)
    assert result["kendall_tau"]["y"] == pytest.approx(-1.0)
    assert correlations([0.1, 0.1, 0.1], {"x": [1, 2, 3]})["kendall_tau"]["x"] is None


def test_ground_truth_table_skips_a_torn_row_and_other_budgets(tmp_path):
    from _standalone import Budget, append_row, read_rows

    path = tmp_path / "truth.csv"
    budget = Budget()
    row = {"arch": "1-2-0-3", "macs": 5_000_000, "params": 90_000, "test_acc": 0.61,
           "val_acc": 0.6, "seconds": 100.0, "cpu_seconds": 90.0, "budget": budget.key}  # fmt: skip
    append_row(row, path)
    append_row({**row, "arch": "2-2-0-3", "budget": Budget(epochs=9).key}, path)
    with path.open("a") as handle:
        handle.write("3-2-0-3,5000000,90000,0.")  # killed during the append
    rows = read_rows(path, budget)
    assert list(rows) == ["1-2-0-3"]
    assert rows["1-2-0-3"]["test_acc"] == 0.61 and rows["1-2-0-3"]["macs"] == 5_000_000


def test_ground_truth_seeds_are_other_budgets_and_rows_before_them_keep_their_key(tmp_path):
    from _standalone import Budget, append_row, read_rows
    from supernet_ranking import truth_budgets

    # the key of rows written before `train_seed` existed (the committed CSV holds them)
    before = "epochs=2;train_images=20000;val_fraction=0.2;batch_size=128;lr=0.1;seed=0"
    assert Budget().key == before
    seeds = truth_budgets(Budget(), [0, 1])
    assert seeds[0] == Budget() and seeds[1].key == Budget().key + ";train_seed=1"
    assert [b.training_seed for b in seeds] == [0, 1]
    assert seeds[1].seed == 0  # the same images, split the same way
    # checkpoints of two recipes never mix
    assert [b.folder for b in seeds] == ["standalone", "standalone-train_seed=1"]
    assert Budget(epochs=3, train_seed=1).folder == "standalone-epochs=3-train_seed=1"
    path = tmp_path / "truth.csv"
    row = {"arch": "1-2-0-3", "macs": 5_000_000, "params": 90_000, "test_acc": 0.61,
           "val_acc": 0.6, "seconds": 100.0, "cpu_seconds": 90.0}  # fmt: skip
    append_row({**row, "budget": seeds[0].key}, path)
    append_row({**row, "test_acc": 0.55, "budget": seeds[1].key}, path)
    assert read_rows(path, seeds[0])["1-2-0-3"]["test_acc"] == 0.61
    assert read_rows(path, seeds[1])["1-2-0-3"]["test_acc"] == 0.55


def test_summed_op_costs_equal_fvcore_on_the_whole_network():
    from _standalone import cost

    from shiftnas.profiling import network_cost

    space = preset_space()
    for genome in ("5-9-4-3", "12-0-6-11", "1-12-12-7"):
        arch = space.from_string(genome)
        whole = network_cost(space.build(arch), (1, 3, 32, 32))
        assert cost(space, arch) == (whole.macs, whole.params)


def test_searched_networks_are_the_selected_then_the_front_by_error(tmp_path):
    from search_vs_random import searched_networks

    space = preset_space()

    def member(genome, error):
        return {"arch": {"space": "mbv3", "genome": genome}, "objectives": {"error": error}}

    front = [member([1, 1, 0, 1], 0.30), member([5, 5, 2, 5], 0.20), member([3, 3, 2, 3], 0.25)]
    (tmp_path / "search").mkdir()
    (tmp_path / "select").mkdir()
    (tmp_path / "search" / "pareto.json").write_text(json.dumps({"front": front}))
    # the selected knee is also on the front: it must not count twice; gene 2 at the stride-1
    # layer is canonical already, gene 3 there would be the same network as gene 2
    selected = [front[0], member([3, 3, 3, 3], 0.25)]
    (tmp_path / "select" / "selected.json").write_text(json.dumps({"selected": selected}))
    picked = [space.to_string(a) for a in searched_networks(space, tmp_path, n=3)]
    assert picked == ["1-1-0-1", "3-3-2-3", "5-5-2-5"]
