"""Search objectives register by name (`pipeline.objectives.OBJECTIVES`): one new function is a
new objective that configs can name, the search minimises and the archive records."""

import json

import pytest
from cli_helpers import tiny_run_config

from shiftnas.errors import ShiftnasError
from shiftnas.pipeline.checks import check_config
from shiftnas.pipeline.config import config_from_dict
from shiftnas.pipeline.objectives import OBJECTIVES
from shiftnas.pipeline.search_setup import search_from_config
from shiftnas.search.nsga.objectives import Measure
from shiftnas.search.spaces.mbv3_blocks import CANDIDATES

NAME = "filtered_layers"


def filtered_layers(archs):
    """Layers whose op carries the BlurPool filter: a count anyone can check by hand."""
    return [float(sum(CANDIDATES[g].blur for g in a.genome)) for a in archs]


if NAME not in OBJECTIVES:  # the whole of adding an objective

    @OBJECTIVES.register(NAME)
    def _filtered(ctx):
        return Measure(NAME, "cheap", lambda: filtered_layers)


def test_the_builtin_objectives_are_registered():
    assert set(OBJECTIVES.names()) >= {"error", "latency", "macs", "params", "shift_error"}


def test_a_registered_objective_is_searched_and_recorded(tmp_path):
    cfg = config_from_dict(tiny_run_config(
        search={"objectives": [{"name": "params"}, {"name": NAME}], "population": 4,
                "generations": 2},
        stages=["search"],
    ))  # fmt: skip
    check_config(cfg)
    result = search_from_config(cfg, tmp_path, progress=False)
    records = [json.loads(line) for line in (tmp_path / "search" / "archive.jsonl").open()]
    assert result.evaluations == len(records) >= 4
    for record in records:
        genome = record["arch"]["genome"]
        by_hand = sum(1 for g in genome if g != 12 and g % 2 == 1)  # odd ids 1..11 are "with"
        assert record["objectives"][NAME] == by_hand


def test_an_unknown_objective_is_one_line_naming_the_choices():
    cfg = config_from_dict(tiny_run_config(search={"objectives": [{"name": "energy"}]}))
    with pytest.raises(ShiftnasError, match=r"search.objectives: unknown objective 'energy': "
                       r"choose one of error, .*macs, params, shift_error"):  # fmt: skip
        check_config(cfg)


def test_a_surrogate_error_is_fitted_once_and_read_off_for_every_network(tmp_path):
    """`search.evaluator.surrogate`: `params` (negated) as the estimate is a sum over layers, so
    an additive fit on 60 of the 91 distinct networks gives every network's exact parameters."""
    from shiftnas.arch import Arch
    from shiftnas.data import load_data
    from shiftnas.search import get_space

    cfg = config_from_dict(tiny_run_config(
        search={"objectives": [{"name": "error"}, {"name": "macs"}], "population": 4,
                "generations": 2,
                "evaluator": {"name": "params", "surrogate": {"networks": 60, "ridge": 1e-9}}},
        stages=["search"],
    ))  # fmt: skip
    check_config(cfg)
    search_from_config(cfg, tmp_path, progress=False)
    fits = list((tmp_path / "search").glob("surrogate-*.jsonl"))
    assert len(fits) == 1 and len(fits[0].read_text().splitlines()) == 60
    classes = load_data(cfg.data, cfg.seed, cfg.space).num_classes
    space = get_space("mbv3", cfg.space, num_classes=classes)
    records = [json.loads(line) for line in (tmp_path / "search" / "archive.jsonl").open()]
    assert len(records) >= 4
    for record in records:
        network = space.build(Arch.from_json(record["arch"]))
        counted = sum(p.numel() for p in network.parameters())
        assert record["objectives"]["error"] == pytest.approx(-counted, rel=1e-6)
