"""Promotion: the alias goes to the best version within the constraints, history is kept."""

from __future__ import annotations

import contextlib

import pytest
import torch
from cli_helpers import one_line_error, shiftnas

from shiftnas.errors import ShiftnasError
from shiftnas.tracking import promote

mlflow = pytest.importorskip("mlflow")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("registry") / "mlflow.db"
    return f"sqlite:///{path}"


@pytest.fixture
def client(store: str):  # type: ignore[no-untyped-def]
    return mlflow.MlflowClient(tracking_uri=store, registry_uri=store)


def add(client, name: str, accuracy: float, latency_ms: float, **tags: str) -> str:  # type: ignore[no-untyped-def]
    """One registered version with the tags the pipeline's register stage writes."""
    with contextlib.suppress(mlflow.exceptions.MlflowException):
        client.create_registered_model(name)
    figures = {"accuracy": str(accuracy), "latency_ms": str(latency_ms), "device": "cpu", **tags}
    version = client.create_model_version(name, source=f"file:///tmp/{name}", tags=figures)
    return str(version.version)


def test_picks_most_accurate_within_latency_ties_to_faster(client) -> None:
    name = "pick"
    add(client, name, 0.90, 20.0)  # v1: most accurate but too slow
    add(client, name, 0.85, 9.0)  # v2
    add(client, name, 0.85, 7.0)  # v3: same accuracy as v2, faster -> chosen
    add(client, name, 0.60, 1.0)  # v4: fastest
    client.create_model_version(name, source="file:///tmp/x")  # v5: no figures, ignored
    result = promote(client, name, max_latency_ms=10.0)
    assert (result.version, result.accuracy, result.latency_ms) == ("3", 0.85, 7.0)
    assert result.changed and result.previous_version is None
    assert str(client.get_model_version_by_alias(name, "champion").version) == "3"
    assert client.get_model_version(name, "3").tags["promoted_at"] == result.promoted_at
    # A tighter bound and an accuracy floor pick differently; another alias is independent.
    assert promote(client, name, max_latency_ms=5.0, alias="edge").version == "4"
    assert promote(client, name, max_latency_ms=30.0, min_accuracy=0.88).version == "1"


def test_refuses_when_no_version_qualifies_and_leaves_alias(client) -> None:
    name = "refuse"
    add(client, name, 0.70, 12.0)
    add(client, name, 0.95, 40.0)
    first = promote(client, name, max_latency_ms=15.0)
    with pytest.raises(ShiftnasError) as err:
        promote(client, name, max_latency_ms=10.0, min_accuracy=0.8)
    message = str(err.value)
    assert "\n" not in message
    assert "meets latency <= 10 ms and accuracy >= 0.8" in message
    assert "fastest is v1 (12 ms, accuracy 0.7)" in message
    assert "most accurate v2 (40 ms, accuracy 0.95)" in message
    assert str(client.get_model_version_by_alias(name, "champion").version) == first.version
    with pytest.raises(ShiftnasError, match="no registered model named 'missing'"):
        promote(client, "missing", max_latency_ms=10.0)
    with pytest.raises(ShiftnasError, match=r"named 'missing' in sqlite:///\S+/mlflow\.db: check"):
        promote(client.tracking_uri, "missing", max_latency_ms=10.0)  # no ?timeout=60 shown


def test_later_better_version_takes_alias_previous_keeps_tag(client) -> None:
    name = "move"
    add(client, name, 0.80, 5.0)
    assert promote(client, name, max_latency_ms=10.0).version == "1"
    again = promote(client, name, max_latency_ms=10.0)
    assert not again.changed and again.version == "1"  # nothing better: nothing moves
    add(client, name, 0.79, 2.0)  # faster but less accurate: does not win
    add(client, name, 0.88, 6.0)  # later and better
    result = promote(client, name, max_latency_ms=10.0)
    assert (result.version, result.previous_version, result.changed) == ("3", "1", True)
    assert str(client.get_model_version_by_alias(name, "champion").version) == "3"
    previous = client.get_model_version(name, "1")
    assert previous.tags["previous_champion"] == result.promoted_at
    assert "champion" not in previous.aliases
    assert client.get_model_version(name, "3").tags["replaced_champion"] == "1"


def test_cli_promote_and_refusal(client, store: str) -> None:
    name = "cli"
    add(client, name, 0.75, 3.0)
    code, out, err = shiftnas("promote", "--model", name, "--max-latency-ms", "4",
                              "--tracking-uri", store)  # fmt: skip
    assert code == 0, err
    assert "'champion' -> v1 of cli (accuracy 0.75, 3 ms)" in out
    code, _, err = shiftnas("promote", "--model", name, "--max-latency-ms", "1",
                            "--tracking-uri", store)  # fmt: skip
    one_line_error(code, err, "relax --max-latency-ms")
    code, _, err = shiftnas("promote", "--model", name, "--max-latency-ms", "-1",
                            "--tracking-uri", store)  # fmt: skip
    assert code == 2 and "--max-latency-ms" in err  # typer's usage error


def test_cli_uses_the_store_of_a_run_dir(client, store: str, tmp_path, monkeypatch) -> None:
    from shiftnas.tracking.state import TrackingState

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    add(client, "bydir", 0.5, 1.0)
    TrackingState(tracking_uri=store).save(tmp_path)
    code, _, err = shiftnas("promote", "--model", "bydir", "--max-latency-ms", "2",
                            "--run-dir", tmp_path)  # fmt: skip
    assert code == 0, err
    code, _, err = shiftnas("promote", "--model", "bydir", "--max-latency-ms", "2")
    one_line_error(code, err, "pass --tracking-uri")


def test_unreachable_server_is_one_line(monkeypatch) -> None:
    import socket

    from shiftnas.tracking.store import HTTP_DEFAULTS

    for name, value in HTTP_DEFAULTS.items():
        monkeypatch.setenv(name, value)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ShiftnasError, match=r"unreachable: start it or pass the URI of a running"):
        promote(f"http://127.0.0.1:{port}", "x", max_latency_ms=1.0)


# --- #11 point 5: a model near chance is not promoted unless asked for ---------------------------


def test_near_chance_versions_are_refused_naming_accuracy_and_chance(client) -> None:
    name = "chance"
    add(client, name, 0.12, 1.0, num_classes="10")  # v1: 0.12 < 0.10 + 0.05
    add(client, name, 0.60, 30.0, num_classes="10")  # v2: learned, but too slow
    with pytest.raises(ShiftnasError) as err:
        promote(client, name, max_latency_ms=10.0)
    message = str(err.value)
    assert "\n" not in message
    assert "v1, has test accuracy 0.120, within 0.05 of chance (0.100 for 10 classes)" in message
    assert "--allow-near-chance" in message
    assert _current(client, name) is None  # the alias was not moved
    assert promote(client, name, max_latency_ms=50.0).version == "2"  # v2 is within bounds
    forced = promote(client, name, max_latency_ms=10.0, allow_near_chance=True, alias="edge")
    assert forced.version == "1"


def test_near_chance_boundary_depends_on_the_number_of_classes(client) -> None:
    add(client, "ten", 0.15, 1.0, num_classes="10")  # exactly chance + 0.05: not refused
    assert promote(client, "ten", max_latency_ms=2.0).version == "1"
    add(client, "two", 0.54, 1.0, num_classes="2")  # 0.54 < 0.50 + 0.05
    with pytest.raises(ShiftnasError, match=r"accuracy 0\.540, .*\(0\.500 for 2 classes\)"):
        promote(client, "two", max_latency_ms=2.0)
    add(client, "two", 0.55, 1.0, num_classes="2")
    assert promote(client, "two", max_latency_ms=2.0).version == "2"
    add(client, "untagged", 0.11, 1.0)  # registered outside shiftnas: cannot be checked
    assert promote(client, "untagged", max_latency_ms=2.0).version == "1"


def test_cli_allow_near_chance_and_exit_code(client, store: str) -> None:
    add(client, "clichance", 0.2, 1.0, num_classes="5")  # 5 classes: chance 0.2
    args = ["promote", "--model", "clichance", "--max-latency-ms", "2", "--tracking-uri", store]
    code, _, err = shiftnas(*args)
    one_line_error(code, err, "accuracy 0.200, within 0.05 of chance (0.200 for 5 classes)")
    code, out, err = shiftnas(*args, "--allow-near-chance")
    assert code == 0, err
    assert "'champion' -> v1 of clichance (accuracy 0.2, 1 ms)" in out


def test_cli_never_creates_an_empty_store(tmp_path, monkeypatch) -> None:
    """#14: `promote --run-dir` on a folder whose store is gone created an empty one, silently."""
    from shiftnas.tracking.state import TrackingState

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    TrackingState(tracking_uri=None).save(tmp_path)  # tracked, but mlflow.db is not there
    code, _, err = shiftnas("promote", "--model", "m", "--max-latency-ms", "2",
                            "--run-dir", tmp_path)  # fmt: skip
    line = one_line_error(code, err)
    assert line.startswith(f"error: no MLflow store at {tmp_path / 'mlflow.db'}: ")
    missing = tmp_path / "elsewhere.db"
    code, _, err = shiftnas("promote", "--model", "m", "--max-latency-ms", "2",
                            "--tracking-uri", f"sqlite:///{missing}")  # fmt: skip
    one_line_error(code, err, "check --tracking-uri")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tracking.json"]  # nothing created


def _current(client, name: str, alias: str = "champion") -> str | None:  # type: ignore[no-untyped-def]
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except mlflow.exceptions.MlflowException:
        return None


# --- the pipeline's register stage ---------------------------------------------------------------


def test_register_stage_tags_versions_and_keeps_alias_off_a_near_chance_model(
    tmp_path, store: str
) -> None:
    """#11 point 5 and #14: every exported network is registered with `device` (the CPU the
    latency was measured on) and `num_classes`; the alias stays off a model near chance, with
    one warning line, unless `registry.allow_near_chance`."""
    import io
    import json

    import numpy as np
    from rich.console import Console
    from tracking_helpers import tiny_onnx

    from shiftnas.pipeline.config import config_from_dict
    from shiftnas.pipeline.context import RunContext
    from shiftnas.pipeline.rundir import RunDir
    from shiftnas.pipeline.stages import register_stage
    from shiftnas.profiling.fingerprint import cpu_fingerprint, device_fingerprint
    from shiftnas.tracking import MlflowTracker

    settings = {"name": "reg", "device": "cpu",
                "data": {"shapes": {"train_size": 50, "test_size": 10, "image_size": 16}},
                "space": {"name": "mbv3", "input_size": 16, "stem_channels": 8,
                          "head_channels": 16, "layers": [{"channels": 8, "stride": 2}]},
                "registry": {"max_latency_ms": 5.0}, "tracking": {"uri": store}}  # fmt: skip
    config = config_from_dict(settings)
    out, text = RunDir(tmp_path / "run"), io.StringIO()
    ctx = RunContext(config, out, torch.device("cpu"), console=Console(file=text, width=300))
    arch = ctx.space.canonical(ctx.space.sample(np.random.default_rng(0)))
    (out.root / "select").mkdir(parents=True)
    (out.root / "select" / "selected.json").write_text(
        json.dumps({"selected": [{"id": arch.id, "arch": arch.to_json()}]})
    )
    folder = out.root / "export" / arch.id
    tiny_onnx(folder / "model.onnx")
    latency = {"median_ms": 0.5, "backend": "ort-cpu", "device": device_fingerprint("ort-cpu")}
    card = {"accuracy": {"test_acc": 0.11}, "latency": {"ort-cpu": latency},
            "output": {"classes": list("abcdefghij")}, "params": 10, "macs": 20,
            "architecture": {"id": arch.id}}  # fmt: skip
    (folder / "card.json").write_text(json.dumps(card))

    with (
        MlflowTracker.open(out.root, config.tracking, "reg", {}) as ctx.tracker,
        ctx.tracker.start_stage("register"),
    ):
        summary = register_stage(ctx)
    assert summary == {"model": "shiftnas", "versions": {arch.id: "1"}, "promoted": None}
    warning = text.getvalue().strip()
    assert warning.count("\n") == 0 and warning.startswith("not promoted: the best qualifying")
    assert "accuracy 0.110, within 0.05 of chance (0.100 for 10 classes)" in warning
    client = ctx.tracker.client
    version = client.get_model_version("shiftnas", "1")
    assert version.tags["device"] == cpu_fingerprint()["cpu"] and version.tags["device"]
    assert version.tags["num_classes"] == "10" and version.tags["accuracy"] == "0.11"
    assert not client.get_registered_model("shiftnas").aliases

    ctx.config = config_from_dict({**settings, "registry": {"max_latency_ms": 5.0,
                                                           "allow_near_chance": True}})  # fmt: skip
    with (
        MlflowTracker.open(out.root, config.tracking, "reg", {}) as ctx.tracker,
        ctx.tracker.start_stage("register"),
    ):
        summary = register_stage(ctx)
    assert summary["promoted"] == {"alias": "champion", "version": "1"}
    assert summary["versions"] == {arch.id: "1"}  # the same version, not a second one
    assert str(client.get_model_version_by_alias("shiftnas", "champion").version) == "1"


def test_card_device_is_the_gpu_when_the_latency_was_measured_on_one() -> None:
    from shiftnas.export.card import card_figures

    device = {
        "host_cpu": {"kind": "cpu", "cpu": "AMD EPYC 9654"},
        "gpu": {"kind": "gpu", "gpu": "NVIDIA H200", "index": 0},
    }  # device_fingerprint's shape
    figures = card_figures({"latency": {"ort-cuda": {"median_ms": 0.2, "device": device}}})
    assert figures["device"] == "NVIDIA H200" and figures["num_classes"] is None
    del device["gpu"]
    assert card_figures({"latency": {"ort-cpu": {"device": device}}})["device"] == "AMD EPYC 9654"
