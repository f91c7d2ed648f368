"""An estimate is never trusted blind (issue #25): a search with an estimator never measured on
its space, or measured below MACs there, prints one warning line before any work, or stops with
`search.evaluator.unmeasured: error`; an estimator that scores a whole generation alike stops the
search in one line; `shiftnas estimators --space S` shows the measured figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cli_helpers import one_line_error, shiftnas

from shiftnas.pipeline.config import config_from_dict
from shiftnas.search.evaluators import trust
from shiftnas.search.evaluators.base import EVALUATORS

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
TINY_SPACE = {
    "name": "mbv3", "input_size": 16, "stem_channels": 8, "stem_stride": 2, "head_channels": 32,
    "layers": [{"channels": 8, "stride": 1}, {"channels": 16, "stride": 2}],
}  # fmt: skip
TINY_DATA = {"dataset": "shapes", "shapes": {"train_size": 200, "test_size": 40, "image_size": 16}}
FIGURE = {"kendall_tau": 0.5, "n": 46, "source": "benchmarks/results/x.json", "key": "k",
          "split": "all 46"}  # fmt: skip
TABLE = {"mbv3": {"macs": {**FIGURE, "spearman": 0.7}, "synflow": {**FIGURE, "spearman": 0.25}}}


def config(path: Path, evaluator: dict) -> Path:
    cfg = {
        "name": "tiny", "device": "cpu", "data": TINY_DATA, "space": TINY_SPACE,
        "search": {"population": 4, "generations": 1, "evaluator": evaluator,
                   "objectives": [{"name": "error"}, {"name": "macs"}]},
    }  # fmt: skip
    config_from_dict(cfg)
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture
def table(monkeypatch):
    monkeypatch.setattr(trust, "MEASURED", TABLE)


def warnings_in(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("warning:")]


def test_an_estimator_below_macs_warns_once_with_the_figures_then_searches(tmp_path, table):
    code, out, err = shiftnas("search", "-c", config(tmp_path / "c.yaml", {"name": "synflow"}),
                              "--run-dir", tmp_path / "run", "--quiet")  # fmt: skip
    assert code == 0, err
    [line] = warnings_in(out)
    assert "'synflow' ranks space 'mbv3' below MACs: Spearman +0.250 vs macs +0.700" in line
    assert "choose macs Spearman +0.700" in line
    assert out.index(line) < out.index("Pareto front")  # before the work
    assert (tmp_path / "run/search/pareto.json").exists()


def test_a_never_measured_estimator_warns_and_the_error_mode_stops_before_work(tmp_path, table):
    path = config(tmp_path / "c.yaml", {"name": "naswot"})
    code, out, err = shiftnas("search", "-c", path, "--run-dir", tmp_path / "a", "--quiet")
    assert code == 0, err
    [line] = warnings_in(out)
    assert "'naswot' was never measured on space 'mbv3'" in line
    path = config(tmp_path / "c.yaml", {"name": "naswot", "unmeasured": "error"})
    code, out, err = shiftnas("search", "-c", path, "--run-dir", tmp_path / "b", "--quiet")
    one_line_error(code, err, "'naswot' was never measured on space 'mbv3'", "unmeasured: error")
    assert not (tmp_path / "b").exists()  # nothing was made: stopped before any work
    code, out, err = shiftnas("run", path, "--run-dir", tmp_path / "c")
    one_line_error(code, err, "never measured on space 'mbv3'")


def test_a_trusted_estimator_prints_no_warning(tmp_path, monkeypatch):
    figures = {"macs": {**FIGURE, "spearman": 0.7}, "synflow": {**FIGURE, "spearman": 0.8}}
    trusted = {"mbv3": figures}
    monkeypatch.setattr(trust, "MEASURED", trusted)
    code, out, err = shiftnas("search", "-c", config(tmp_path / "c.yaml", {"name": "synflow"}),
                              "--run-dir", tmp_path / "run", "--quiet")  # fmt: skip
    assert code == 0, err
    assert warnings_in(out) == []


class Constant:
    """An estimator that learned nothing: every network 0.9 (as rwe_paper on mbv3)."""

    name = "constant"

    def __init__(self, **_: object) -> None:
        pass

    def evaluate(self, archs):
        return [0.9] * len(archs)


def test_an_estimator_that_scores_a_generation_alike_stops_the_search(tmp_path, monkeypatch):
    monkeypatch.setitem(EVALUATORS._entries, "constant", Constant)
    code, _, err = shiftnas("search", "-c", config(tmp_path / "c.yaml", {"name": "constant"}),
                              "--run-dir", tmp_path / "run", "--quiet")  # fmt: skip
    one_line_error(code, err, "'constant' gave all 4 networks of generation 1 the same error (0.9)")
    assert not (tmp_path / "run/search/pareto.json").exists()


def test_estimators_space_shows_the_shipped_figures_and_who_is_trusted():
    code, out, err = shiftnas("estimators", "--space", "nb201", "--json")
    assert code == 0, err
    rows = json.loads(out)
    source = json.loads((RESULTS / "evaluator_fidelity_1000.json").read_text())
    assert (
        rows["naswot"]["fidelity"]["spearman"] == source["methods"]["naswot"]["holdout"]["spearman"]
    )
    # rwe_paper (features rescaled) ranked 40 NB201 networks at Spearman -0.277, below macs'
    # +0.798 (rwe_paper_scale.json): flagged
    assert "below MACs" in rows["rwe_paper"]["warning"] and rows["macs"]["warning"] is None
    code, out, err = shiftnas("estimators", "--space", "darts", "--json")
    assert all(r["fidelity"] is None for r in json.loads(out).values())
    one_line_error(*shiftnas("estimators", "--space", "nope")[::2], "--space 'nope' is unknown")


def test_the_shipped_table_stops_rwe_on_mobilenet_blocks_when_asked(tmp_path):
    from shiftnas.search.evaluators.fidelity_table import MEASURED

    rwe, macs = MEASURED["mbv3"]["rwe"]["spearman"], MEASURED["mbv3"]["macs"]["spearman"]
    assert rwe < macs  # measured: one probe per tap still ranks mbv3 below MACs
    path = config(tmp_path / "c.yaml", {"name": "rwe", "unmeasured": "error"})
    code, _, err = shiftnas("search", "-c", path, "--run-dir", tmp_path / "run", "--quiet")
    one_line_error(code, err, f"'rwe' ranks space 'mbv3' below MACs: Spearman {rwe:+.3f} vs "
                   f"macs {macs:+.3f}", "choose default Spearman")  # fmt: skip
    assert not (tmp_path / "run").exists()
