"""Latency lookup tables on a tiny skeleton: entries, resume after a kill, JSON, refusal, fit."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from cli_helpers import one_line_error, shiftnas

from shiftnas.errors import ShiftnasError
from shiftnas.profiling import LatencyTable, build_table, get_backend, validate_table
from shiftnas.search import Arch, get_space

LAYERS = [{"channels": 8, "stride": 1}, {"channels": 16, "stride": 2}]


def tiny_space(**overrides):
    settings = {"layers": LAYERS, "input_size": 8, "stem_channels": 8, "head_channels": 32}
    return get_space("mbv3", **{**settings, **overrides})


def fast_backend():
    return get_backend("ort-cpu", warmup=1, runs=5)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A build killed after 6 measurements, then resumed to the end; what each part saw."""
    path = tmp_path_factory.mktemp("lut") / "table.json"
    space, seen = tiny_space(), []

    def killer(done: int, total: int, name: str) -> None:
        if done == 6:
            raise KeyboardInterrupt  # as a Ctrl-C or kill in the middle of a build

    with pytest.raises(KeyboardInterrupt):
        build_table(space, fast_backend(), path, passes=2, calibration_networks=3, progress=killer)
    partial = LatencyTable.load(path)
    table = build_table(
        space,
        fast_backend(),
        path,
        passes=2,
        calibration_networks=3,
        progress=lambda done, total, name: seen.append((done, total, name)),
    )
    return {"path": path, "space": space, "partial": partial, "table": table, "seen": seen}


def test_entries_cover_each_distinct_op_once(built) -> None:
    table = built["table"]
    # layer 0 (stride 1): the filter twin is the same op -> 7 entries; layer 1 (stride 2): all 13.
    assert len(table.entries) == 2 + 7 + 13
    assert table.layers[0]["1"] == table.layers[0]["0"] == "layer0/g0"
    assert table.layers[1]["1"] != table.layers[1]["0"]
    assert table.entries["layer1/g3"]["input_shape"] == [1, 8, 8, 8]
    assert table.entries["head"]["input_shape"] == [1, 16, 4, 4]


def test_killed_build_resumes_keeping_entries(built) -> None:
    partial, table, seen = built["partial"], built["table"], built["seen"]
    measured = {k: e["samples"]["min"] for k, e in partial.entries.items() if e["samples"]["min"]}
    measured_networks = sum(bool(n["samples"]["min"]) for n in partial.calibration["networks"])
    assert len(measured) + measured_networks == 6
    for key, values in measured.items():  # kept, not measured again
        assert table.entries[key]["samples"]["min"][: len(values)] == values
    total = (len(table.entries) + 3) * 2
    assert len(seen) == total - 6 and seen[0][0] == 7 and seen[-1][:2] == (total, total)
    assert table.missing() == 0
    assert all(len(e["samples"]["median"]) == 2 for e in table.entries.values())


def test_json_round_trip_predicts_the_same(built) -> None:
    table = built["table"]
    loaded = LatencyTable.load(built["path"])
    assert loaded.to_json() == table.to_json()
    rng = np.random.default_rng(0)
    for arch in (built["space"].sample(rng) for _ in range(5)):
        assert (
            loaded.predict_ms(arch) == pytest.approx(table.predict_ms(arch))
            and loaded.predict_ms(arch) > 0
        )
    assert loaded.backend["runs"] == 5 and loaded.device["host_cpu"]["cpu"]
    assert "onnxruntime" in loaded.versions


def test_statistics_are_ordered(built) -> None:
    table = built["table"]
    for entry in table.entries.values():
        s = entry["samples"]
        assert all(0 < a <= b <= c for a, b, c in zip(s["min"], s["p10"], s["median"], strict=True))


def test_a_table_for_another_skeleton_is_refused(built) -> None:
    table = built["table"]
    table.check_space(tiny_space(dropout=0.5))  # dropout does not change latency
    other = tiny_space(layers=[{"channels": 8, "stride": 1}, {"channels": 24, "stride": 2}])
    with pytest.raises(
        ShiftnasError, match=r"skeleton\.layers\[1\]\.out is 16 in the table but 24"
    ):
        table.check_space(other)
    with pytest.raises(ShiftnasError, match="genome has 3 genes"):
        table.predict_ms(Arch("mbv3", (0, 0, 0)))
    with pytest.raises(ShiftnasError, match=r"another device|other settings"):
        build_table(
            built["space"], get_backend("ort-cpu", warmup=1, runs=9), built["path"], passes=2
        )
    with pytest.raises(ShiftnasError, match="does not fit"):
        build_table(other, fast_backend(), built["path"], passes=2)


def test_calibration_recovers_a_known_line(built) -> None:
    table = LatencyTable.from_json(json.loads(json.dumps(built["table"].to_json())))
    for net in table.calibration["networks"]:  # pretend the runtime costs 2 x sum + 0.1 ms
        raw = table.raw_ms(Arch("mbv3", net["genome"]))
        net["samples"]["min"] = [2 * raw + 0.1] * 2
    table.refit()
    a, b = table.fit("min")
    assert a == pytest.approx(2.0) and b == pytest.approx(0.1)


def test_validate_reports_the_benchmark_keys(built) -> None:
    result = validate_table(built["table"], built["space"], n=4, repeats=2, backend=fast_backend())
    for key in (
        "n",
        "within_5pct",
        "within_10pct",
        "mape",
        "spearman",
        "worst_error",
        "noise_floor",
    ):
        assert key in result
    assert result["n"] == 4 and 0 <= result["within_5pct"] <= result["within_10pct"] <= 1
    assert set(result["variants"]) == {
        "min/median",
        "p10/median",
        "median/median",
        "min/min",
        "p10/min",
        "median/min",
    }


def test_cli_show_and_validate(built) -> None:
    code, shown, err = shiftnas("lut", "show", built["path"])
    assert code == 0, err
    code, validated, err = shiftnas("lut", "validate", built["path"], "--n", "3", "--json")
    assert code == 0, err
    assert "layer1/g12" in shown and '"within_5pct"' in validated


def test_cli_lut_for_an_unknown_file_is_one_line(tmp_path) -> None:
    one_line_error(*shiftnas("lut", "show", tmp_path / "none.json")[::2], "shiftnas lut build")


def test_a_table_from_another_device_predicts_but_is_not_validated_here(built) -> None:
    data = json.loads(json.dumps(built["table"].to_json()))
    data["device"]["host_cpu"]["cpu"] = "NVIDIA GeForce RTX 2080 Ti host"
    foreign = LatencyTable.from_json(data)
    arch = built["space"].sample(np.random.default_rng(3))
    assert foreign.predict_ms(arch) == pytest.approx(built["table"].predict_ms(arch))
    with pytest.raises(ShiftnasError, match="another device"):
        validate_table(foreign, built["space"], n=2, backend=fast_backend())


def test_cli_build_from_a_config(tmp_path) -> None:
    import yaml

    config = tmp_path / "tiny.yaml"
    space = {"name": "mbv3", "layers": [{"channels": 8, "stride": 2}], "input_size": 8}
    data = {"dataset": "shapes", "shapes": {"train_size": 40, "test_size": 10, "image_size": 8}}
    config.write_text(yaml.safe_dump({"space": space, "data": data}))
    out = tmp_path / "t.json"
    argv = [
        "lut",
        "build",
        "--config",
        str(config),
        "--out",
        str(out),
        "--runs",
        "3",
        "--warmup",
        "1",
        "--passes",
        "1",
        "--calibration",
        "2",
    ]
    code, printed, err = shiftnas(*argv)
    assert code == 0, err
    table = LatencyTable.load(out)
    assert len(table.entries) == 15 and table.missing() == 0
    assert table.statistic == "min" and set(table.calibration["fits"]) == {"median", "min"}
    assert "15 entries x 1 passes" in " ".join(printed.split())


def test_sigkilled_build_keeps_its_entries(tmp_path) -> None:
    """A real kill -9 in the middle of a build: the file stays valid and the resume keeps it."""
    import os
    import signal
    import subprocess
    import time

    path = tmp_path / "killed.json"
    layers = [{"channels": 8, "stride": 1}]  # stem, head and 7 blocks: 9 entries
    args = "passes=1, calibration_networks=0"
    script = (
        "from shiftnas.profiling import build_table, get_backend\n"
        "from shiftnas.search import get_space\n"
        f"space = get_space('mbv3', layers={layers!r}, input_size=8, stem_channels=8)\n"
        f"build_table(space, get_backend('ort-cpu', warmup=1, runs=50), {str(path)!r}, {args})\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None:
            if path.exists() and LatencyTable.load(path).missing() <= 6:
                break
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    partial = LatencyTable.load(path)
    kept = {k: e["samples"]["min"] for k, e in partial.entries.items() if e["samples"]["min"]}
    assert len(kept) >= 3 and partial.missing() > 0
    space = get_space("mbv3", layers=layers, input_size=8, stem_channels=8)
    backend = get_backend("ort-cpu", warmup=1, runs=50)
    table = build_table(space, backend, path, passes=1, calibration_networks=0)
    assert table.missing() == 0 and len(table.entries) == 9
    for key, values in kept.items():
        assert table.entries[key]["samples"]["min"] == values
