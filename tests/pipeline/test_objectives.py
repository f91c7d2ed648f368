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
