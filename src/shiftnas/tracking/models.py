"""ONNX models into MLflow: logged with an input signature, registered with their figures.

In MLflow 3 a logged model is its own entity (`models:/<model_id>`), named with `name=` rather
than the old `artifact_path=`; a registered model version points at it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from shiftnas.errors import ShiftnasError

# Promotion ranks by accuracy and latency and refuses a model near chance (1/num_classes); the
# pipeline also sets device, backend, shift_consistency, params, macs and arch_id.
REQUIRED_TAGS = ("accuracy", "latency_ms", "num_classes")


@contextmanager
def using_uri(uri: str) -> Iterator[None]:
    """Point MLflow's global URIs at `uri` for one call, then put them back exactly.

    Model logging and registration read the globals. `mlflow.set_tracking_uri` also writes
    `MLFLOW_TRACKING_URI` into the environment, and restoring through the public getters would
    pin resolved values as globals: either leak would send the next run (or the next
    `MlflowClient(uri)`, whose registry follows the global) to the wrong store. So the raw
    module globals are saved and restored, and the environment with them.
    """
    import mlflow
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    names = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
    saved_env = {name: os.environ.get(name) for name in names}
    saved = tracking_utils._tracking_uri, registry_utils._registry_uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield
    finally:
        tracking_utils._tracking_uri, registry_utils._registry_uri = saved
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def example_input(onnx_path: Path) -> np.ndarray:
    """A batch of one zero input shaped like the model's first input (dynamic axes -> 1)."""
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    initialisers = {init.name for init in graph.initializer}
    first = next(i for i in graph.input if i.name not in initialisers)
    dims = [d.dim_value if d.dim_value > 0 else 1 for d in first.type.tensor_type.shape.dim]
    return np.zeros(dims, dtype=np.float32)


def _requirements() -> list[str]:
    """Pinned explicitly: MLflow's own inference imports the model in a subprocess (~7 s)."""
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for package in ("onnx", "onnxruntime", "onnxruntime-gpu"):
        try:
            found.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    return found


def _providers() -> list[str]:
    """CUDA when this onnxruntime has it, else the CPU (MLflow's default names both and warns)."""
    import onnxruntime as ort

    wanted = ("CUDAExecutionProvider", "CPUExecutionProvider")
    return [name for name in wanted if name in ort.get_available_providers()]


def log_onnx(
    client: Any,
    run_id: str,
    onnx_path: Path,
    name: str,
    input_example: np.ndarray,
    key: str | None = None,
) -> str:
    """Log `onnx_path` to `run_id` with a signature inferred from running it; returns the URI.

    The logged model is created first in the run's experiment: left to itself, MLflow puts it
    in the default experiment, whose artifacts land in `./mlruns` of the working directory.
    With `key`, a logged model already tagged `shiftnas.key = key` is reused (see `keyed`): its
    URI when it is complete, else its files are uploaded again into it.
    """
    import mlflow
    import onnx
    from mlflow.models import infer_signature

    from shiftnas.runtime.onnx_io import onnx_session
    from shiftnas.tracking.keyed import KEY_TAG, find_logged_model, is_ready

    onnx_path = Path(onnx_path)
    if not onnx_path.is_file():
        raise ShiftnasError(f"ONNX model {onnx_path} does not exist: export it before logging it")
    experiment_id = client.get_run(run_id).info.experiment_id
    model = None if key is None else find_logged_model(client, experiment_id, key)
    if model is not None and is_ready(model):
        return str(model.model_uri)
    example = np.ascontiguousarray(input_example, dtype=np.float32)
    session = onnx_session(onnx_path.read_bytes())
    output = session.run(None, {session.get_inputs()[0].name: example})[0]
    if model is None:
        tags = None if key is None else {KEY_TAG: key}
        model = client.create_logged_model(experiment_id, name=name, source_run_id=run_id,
                                           tags=tags)  # fmt: skip
    with using_uri(client.tracking_uri):
        info = mlflow.onnx.log_model(
            onnx.load(str(onnx_path)),
            name=name,
            run_id=run_id,
            model_id=model.model_id,
            signature=infer_signature(example, output),
            input_example=example,
            pip_requirements=_requirements(),
            onnx_execution_providers=_providers(),
        )
    return info.model_uri


def version_tags(tags: Mapping[str, Any]) -> dict[str, str]:
    missing = [key for key in REQUIRED_TAGS if tags.get(key) is None]
    if missing:
        raise ShiftnasError(
            f"model version tags lack {', '.join(missing)}: pass them, promotion ranks by them"
        )
    return {key: str(value) for key, value in tags.items() if value is not None}


def create_version(uri: str, model_uri: str, name: str, tags: Mapping[str, str]) -> str:
    import mlflow

    with using_uri(uri):
        version = mlflow.register_model(model_uri, name, await_registration_for=0, tags=dict(tags))
    return str(version.version)
