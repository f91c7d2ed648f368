"""A latency table used under other settings than it was measured with, or damaged (issue 13,
kind 4; issue 14): refused in one line; a damaged table is mended by resuming its build."""

from __future__ import annotations

import json

import pytest
from cli_helpers import shiftnas

from shiftnas.errors import ShiftnasError
from shiftnas.pipeline.config import config_from_dict
from shiftnas.profiling import LatencyTable, build_table, get_backend
from shiftnas.search import get_space

ARCH = "0-2-4-1-6-8-11-10-12-3-5-9"


def backend(batch_size: int = 1):
    return get_backend("torch", warmup=0, runs=1, batch_size=batch_size)


@pytest.fixture(scope="module")
def table_path(tmp_path_factory):
    """A batch-1 table of the default mbv3 skeleton (the `torch` backend, one quick pass)."""
    path = tmp_path_factory.mktemp("lut") / "table.json"
    build_table(get_space("mbv3"), backend(), path, passes=1, calibration_networks=2)
    return path


def run_main(*args: str) -> tuple[int, str]:
    code, _, err = shiftnas(*args)
    return code, err.strip()


def test_profile_latency_refuses_a_table_of_another_batch_size(table_path, monkeypatch, capsys):
    code, err = run_main("profile", "latency", "--arch", ARCH, "--table",
                         str(table_path), "--backend", "torch", "--batch-size", "16")  # fmt: skip
    assert code == 2 and len(err.splitlines()) == 1
    assert "measured with batch_size 1, not 16" in err and "--batch-size 1" in err


def test_profile_latency_with_the_tables_settings_predicts(table_path):
    code, printed, err = shiftnas(
        "profile",
        "latency",
        "--arch",
        ARCH,
        "--table",
        table_path,
        "--backend",
        "torch",
        "--runs",
        1,
        "--warmup",
        0,
        "--json",
    )
    assert code == 0, err
    out = json.loads(printed)
    space = get_space("mbv3")
    expected = LatencyTable.load(table_path).predict_ms(space.canonical(space.from_string(ARCH)))
    assert out["predicted_ms"] == expected


def test_profile_latency_refuses_other_threads(table_path, monkeypatch, capsys):
    code, err = run_main("profile", "latency", "--arch", ARCH, "--table",
                         str(table_path), "--backend", "torch", "--threads", "2")  # fmt: skip
    assert code == 2 and "measured with threads 1, not 2" in err


def test_profile_latency_refuses_a_table_of_another_device(table_path, tmp_path, monkeypatch,
                                                            capsys):  # fmt: skip
    data = json.loads(table_path.read_text())
    data["device"]["host_cpu"]["cpu"] = "NVIDIA GeForce RTX 2080 Ti host"
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(data))
    code, err = run_main("profile", "latency", "--arch", ARCH, "--table",
                         str(foreign), "--backend", "torch", "--runs", "1")  # fmt: skip
    assert code == 2 and "measured on another device" in err


def test_the_search_objective_refuses_another_batch_size(table_path, tmp_path):
    from shiftnas.pipeline.search_setup import build_measures

    def measures(latency):
        objectives = [{"name": "params"}, {"name": "latency"}]
        search = {"objectives": objectives, "latency": latency}
        cfg = config_from_dict({"space": {"name": "mbv3"}, "search": search})
        return build_measures(cfg, tmp_path, get_space("mbv3"))[0]

    with pytest.raises(ShiftnasError, match="measured with batch_size 1, not 16"):
        measures({"table": str(table_path), "batch_size": 16})
    with pytest.raises(ShiftnasError, match="measured with backend 'torch', not 'ort-cpu'"):
        measures({"table": str(table_path), "backend": "ort-cpu"})
    space = get_space("mbv3")
    arch = space.from_string(ARCH)
    table = LatencyTable.load(table_path)
    for latency in ({"table": str(table_path)}, {"table": str(table_path), "batch_size": 1}):
        predict = measures(latency)[1].make()
        assert predict([arch]) == [table.predict_ms(arch)]


def test_a_table_with_an_entry_deleted_is_refused_then_mended(table_path, tmp_path, monkeypatch,
                                                               capsys):  # fmt: skip
    data = json.loads(table_path.read_text())
    del data["entries"]["layer3/g5"]
    damaged = tmp_path / "damaged.json"
    damaged.write_text(json.dumps(data))
    assert LatencyTable.from_json(data).missing() == 0  # what `lut show` used to call complete
    code, err = run_main("lut", "show", str(damaged))
    assert code == 2 and len(err.splitlines()) == 1
    assert str(damaged) in err and "entry 'layer3/g5' is missing" in err
    mended = build_table(get_space("mbv3"), backend(), damaged, passes=1, calibration_networks=2)
    assert LatencyTable.load(damaged).entries.keys() == mended.entries.keys()
    assert mended.entries["layer3/g5"]["samples"]["min"]  # measured again, the rest kept
    assert mended.entries["stem"] == json.loads(table_path.read_text())["entries"]["stem"]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d["calibration"]["networks"].pop(), "1 calibration networks of the 2"),
        (lambda d: d["layers"].pop(), "it maps 11 layers but its skeleton has 12"),
        (lambda d: d["layers"][4].pop("7"), "layer 4 maps 12 of the 13 candidate ops"),
        (lambda d: d["entries"]["head"].pop("samples"), "unexpected structure"),
    ],
)
def test_other_damage_is_refused_in_one_line(table_path, tmp_path, damage, message):
    data = json.loads(table_path.read_text())
    damage(data)
    damaged = tmp_path / "damaged.json"
    damaged.write_text(json.dumps(data))
    with pytest.raises(ShiftnasError, match=message):
        LatencyTable.load(damaged)


def test_a_table_that_is_not_json_is_one_line(table_path, tmp_path, monkeypatch, capsys):
    cut = tmp_path / "cut.json"
    cut.write_text(table_path.read_text()[:-40])
    code, err = run_main("lut", "show", str(cut))
    assert code == 2 and len(err.splitlines()) == 1 and f"{cut} is not valid JSON" in err


def test_a_table_for_other_input_channels_is_refused(table_path):
    table = LatencyTable.load(table_path)
    assert table.settings["in_channels"] == 3
    with pytest.raises(ShiftnasError, match="in_channels is 3 in the table but 1 here"):
        table.check_space(get_space("mbv3", in_channels=1))
