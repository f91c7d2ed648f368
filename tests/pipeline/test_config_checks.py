"""Every name and setting of a config is checked before any stage runs (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import one_line_error, shiftnas, tiny_run_config, write_config

from shiftnas.errors import ShiftnasError
from shiftnas.pipeline.checks import accepted_settings, check_config
from shiftnas.pipeline.config import config_from_dict, load_config

REPO = Path(__file__).resolve().parents[2]
ALL_STAGES = ["supernet", "search", "select", "retrain", "robustness", "export", "register"]


def evaluator(name: str, **settings) -> dict:
    return {"evaluator": {"name": name, "settings": settings}}


@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        ({"search": {"evaluator": {"name": "rwee"}}},
         "search.evaluator.name: unknown evaluator 'rwee': choose one of default, ensemble"),
        ({"search": evaluator("rwe", nonsense=3)},
         "search.evaluator.settings: unknown key 'nonsense' for evaluator 'rwe'; allowed: "
         "batch_size, bn, grid, init, objective, probe, proxy, rescale_features, ridge_alpha, "
         "standardise_features, taps, train_images, val_images"),
        ({"search": evaluator("rwe", probe="lasso")},
         "search.evaluator.settings.probe: Input should be 'ridge' or 'sgd' (got 'lasso')"),
        # the default ensemble forwards its settings to rwe, synflow, jacob_cov and macs; macs
        # takes no batch_size, so no forwarded key is common to all four
        ({"search": evaluator("default", batch_size=32)},
         "unknown key 'batch_size' for evaluator 'default'; allowed: members, reference, weights"),
        ({"search": evaluator("ensemble", members=["synflow", "rwee"])},
         "search.evaluator.settings.members: unknown evaluator 'rwee'"),
        ({"search": evaluator("rwe", seed=3)},
         "search.evaluator.settings.seed: set by the pipeline"),
        ({"search": evaluator("inherited", batch_size=3)},
         "search.evaluator.settings: 'inherited' takes none"),
        ({"search": {"objectives": [{"name": "shift_error"}], **evaluator("rwe")}},
         "shift_error needs inherited weights"),
        ({"export": {"latency_backend": "ort-cpux"}},
         "export.latency_backend: unknown latency backend 'ort-cpux': choose one of ort-cpu,"),
        ({"search": {"latency": {"backend": "onnx"}}},
         "search.latency.backend: unknown latency backend 'onnx'"),
        ({"search": {"objectives": [{"name": "error"}, {"name": "latency"}],
                     "latency": {"table": "nowhere/lut.json"}}, "stages": ["supernet", "search"]},
         "search.latency.table: nowhere/lut.json does not exist"),
        ({"select": {"budgets": {"latency": 5.0}}},
         "select.budgets: 'latency' is not a search objective (error, params, macs)"),
        ({"space": {"name": "nb201"}}, "stages: needs a weight-sharing supernet"),
        ({"space": {"name": "nb201"}, "stages": ["search"]},
         "search.evaluator.name: needs a weight-sharing supernet"),
        ({"space": {"name": "darts"}, "stages": ["search", "select", "retrain", "robustness"],
          "search": evaluator("rwe")},
         "stages: needs a with/without BlurPool twin of each network (robustness, its ablation), "
         "which space 'darts' does not have: remove robustness from stages"),
        ({"stages": ALL_STAGES}, "stages: register needs the MLflow registry but tracking.enabled"),
        ({"search": {"evaluator": {"name": "rwe", "max_val_images": 100}}},
         "search.evaluator.max_val_images: 'rwe' does not use it"),
        ({"space": {"name": "nb201"}, "stages": ["retrain"], "retrain": {"init": "inherited"}},
         "retrain.init: needs a weight-sharing supernet (inherited-weight estimates, retrain.init: "
         "inherited), which space 'nb201' does not have: set retrain.init: scratch"),
    ],
)  # fmt: skip
def test_each_bad_name_or_setting_is_one_line(sections, expected):
    config = config_from_dict(tiny_run_config(**sections))
    with pytest.raises(ShiftnasError) as info:
        check_config(config, "my.yaml")
    message = str(info.value)
    assert message.startswith("my.yaml: ") and expected in message, message
    assert "\n" not in message


def test_good_settings_and_the_shipped_configs_pass():
    check_config(config_from_dict(tiny_run_config(search=evaluator("rwe", probe="sgd"))))
    check_config(config_from_dict(tiny_run_config(search=evaluator("synflow", batch_size=8))))
    check_config(load_config())
    for path in sorted((REPO / "configs").glob("*.yaml")):
        check_config(load_config(path), str(path))


def test_settings_are_read_from_the_constructors():
    # ProxyEvaluator(proxy, *, batch_size=64, **kwargs) -> ScoringEvaluator(*, space, data,
    # seed, device): the pipeline supplies the last four, the factory the proxy
    assert sorted(accepted_settings("synflow", {})) == ["batch_size"]
    assert accepted_settings("macs", {}) == {}
    # an ensemble of two proxies forwards what both take
    assert "batch_size" in accepted_settings("ensemble", {"members": ["synflow", "naswot"]})


@pytest.mark.parametrize(
    "sections",
    [{"search": {"evaluator": {"name": "rwee"}}}, {"search": evaluator("rwe", nonsense=3)}],
)
def test_run_refuses_before_any_stage_or_folder(tmp_path, sections):
    path = write_config(tmp_path / "typo.yaml", tiny_run_config(**sections))
    code, _, err = shiftnas("run", str(path), "--run-dir", str(tmp_path / "r"))
    line = one_line_error(code, err)
    assert f"{path}: search.evaluator" in line
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", "holds no settings"), ("# only a comment\n", "holds no settings"),
     ("{}\n", "holds no settings"), ("- supernet\n", "top level must be a mapping")],
)  # fmt: skip
def test_empty_or_non_mapping_config_file(tmp_path, text, expected):
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    code, _, err = shiftnas("run", str(path), "--run-dir", str(tmp_path / "r"))
    assert expected in one_line_error(code, err)
    assert not (tmp_path / "r").exists()
