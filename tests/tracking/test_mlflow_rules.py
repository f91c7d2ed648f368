"""#27 kind 1: values MLflow refuses are refused when the config (or the command line) is read,
and a promotion writes its history only after the alias has really moved."""

from __future__ import annotations

import contextlib

import pytest
from cli_helpers import one_line_error, shiftnas, tiny_run_config, write_config

from shiftnas.errors import ShiftnasError
from shiftnas.tracking import promote

mlflow = pytest.importorskip("mlflow")

RESERVED = ["latest", "LATEST", "v2", "V10"]  # MLflow: 'latest' and v<number>, any case


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('rules') / 'mlflow.db'}"


@pytest.fixture
def client(store: str):  # type: ignore[no-untyped-def]
    return mlflow.MlflowClient(tracking_uri=store, registry_uri=store)


def add(client, name: str, accuracy: float, latency_ms: float) -> str:  # type: ignore[no-untyped-def]
    with contextlib.suppress(mlflow.exceptions.MlflowException):
        client.create_registered_model(name)
    tags = {"accuracy": str(accuracy), "latency_ms": str(latency_ms)}
    return str(client.create_model_version(name, source=f"file:///tmp/{name}", tags=tags).version)


@pytest.mark.parametrize("alias", RESERVED)
def test_run_refuses_a_reserved_alias_before_any_stage(alias: str, tmp_path) -> None:
    config = write_config(tmp_path / "c.yaml", tiny_run_config(registry={"alias": alias}))
    code, _, err = shiftnas("run", config, "--run-dir", tmp_path / "run")
    one_line_error(code, err, "registry.alias", f"'{alias}' is reserved by MLflow", "champion")
    assert not (tmp_path / "run").exists()  # nothing started


@pytest.mark.parametrize(
    ("section", "value", "needle"),
    [
        ({"registered_model": "team/model"}, "tracking.registered_model", "'/' or ':'"),
        ({"registered_model": "a:b"}, "tracking.registered_model", "'/' or ':'"),
        ({"registered_model": ".."}, "tracking.registered_model", "'..'"),
        ({"experiment": "x" * 501}, "tracking.experiment", "MLflow allows 500"),
    ],
)
def test_run_refuses_names_mlflow_refuses(section, value, needle, tmp_path) -> None:
    config = write_config(tmp_path / "c.yaml", tiny_run_config(tracking=section))
    code, _, err = shiftnas("run", config, "--run-dir", tmp_path / "run")
    one_line_error(code, err, value, needle)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("alias", RESERVED)
def test_cli_promote_reserved_alias_is_one_line_and_writes_nothing(alias, client, store) -> None:
    name = f"reserved-{alias}"
    add(client, name, 0.8, 2.0)
    code, _, err = shiftnas("promote", "--model", name, "--max-latency-ms", "5",
                            "--alias", alias, "--tracking-uri", store)  # fmt: skip
    one_line_error(code, err, "--alias", "reserved by MLflow")
    tags = client.get_model_version(name, "1").tags
    assert not any(k == "promoted_at" or k.startswith("replaced_") for k in tags), tags


def test_allowed_aliases_still_promote(client) -> None:
    name = "allowed"
    add(client, name, 0.8, 2.0)
    for alias in ("v2x", "latest-good", "V_1", "edge"):  # near the reserved names, not them
        assert promote(client, name, max_latency_ms=5.0, alias=alias).version == "1"


class _AliasRefused(mlflow.MlflowClient):
    """A store that refuses to move the alias (a server rule, a lost connection)."""

    def set_registered_model_alias(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise mlflow.exceptions.MlflowException("alias refused", error_code="BAD_REQUEST")


def test_history_tags_are_written_only_after_the_alias_moved(client, store) -> None:
    name = "history"
    add(client, name, 0.7, 2.0)
    assert promote(client, name, max_latency_ms=5.0).version == "1"
    add(client, name, 0.9, 2.0)  # v2 would take the alias from v1
    refusing = _AliasRefused(tracking_uri=store, registry_uri=store)
    with pytest.raises(mlflow.exceptions.MlflowException):
        promote(refusing, name, max_latency_ms=5.0)
    assert "promoted_at" not in client.get_model_version(name, "2").tags
    assert "replaced_champion" not in client.get_model_version(name, "2").tags
    assert "previous_champion" not in client.get_model_version(name, "1").tags
    assert str(client.get_model_version_by_alias(name, "champion").version) == "1"
    moved = promote(client, name, max_latency_ms=5.0)  # the real store moves it, with history
    assert (moved.version, moved.previous_version) == ("2", "1")
    assert client.get_model_version(name, "2").tags["replaced_champion"] == "1"


def test_promote_refuses_a_reserved_alias_in_python(client) -> None:
    add(client, "py", 0.8, 2.0)
    with pytest.raises(ShiftnasError, match="reserved by MLflow"):
        promote(client, "py", max_latency_ms=5.0, alias="Latest")
