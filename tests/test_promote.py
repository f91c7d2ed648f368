"""Promotion: the alias goes to the best version within the constraints, history is kept."""

from __future__ import annotations

import contextlib

import pytest
from typer.testing import CliRunner

from shiftnas.cli import app
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
    runner = CliRunner()
    ok = runner.invoke(app, ["promote", "--model", name, "--max-latency-ms", "4",
                             "--tracking-uri", store])  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert "'champion' -> v1 of cli (accuracy 0.75, 3 ms)" in ok.output
    refused = runner.invoke(app, ["promote", "--model", name, "--max-latency-ms", "1",
                                  "--tracking-uri", store])  # fmt: skip
    assert isinstance(refused.exception, ShiftnasError)
    assert "relax --max-latency-ms" in str(refused.exception)
    bad = runner.invoke(app, ["promote", "--model", name, "--max-latency-ms", "-1",
                              "--tracking-uri", store])  # fmt: skip
    assert bad.exit_code == 2


def test_cli_uses_the_store_of_a_run_dir(client, store: str, tmp_path, monkeypatch) -> None:
    from shiftnas.tracking.state import TrackingState

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    add(client, "bydir", 0.5, 1.0)
    TrackingState(tracking_uri=store).save(tmp_path)
    runner = CliRunner()
    ok = runner.invoke(app, ["promote", "--model", "bydir", "--max-latency-ms", "2",
                             "--run-dir", str(tmp_path)])  # fmt: skip
    assert ok.exit_code == 0, ok.output
    missing = runner.invoke(app, ["promote", "--model", "bydir", "--max-latency-ms", "2"])
    assert "pass --tracking-uri" in str(missing.exception)


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
