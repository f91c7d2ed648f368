"""One pydantic model tree for the whole pipeline, loaded from YAML.

It lives at the top of the package rather than in `pipeline/` because every stage's library code
takes its own section as a typed value (a `TrainingConfig`, a `DataConfig`), and those must not
depend on the pipeline that strings the stages together.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from shiftnas.errors import ShiftnasError
from shiftnas.search.spaces.darts import DartsSettings
from shiftnas.search.spaces.macro import MacroSettings
from shiftnas.search.spaces.mbv3 import Mbv3Settings
from shiftnas.search.spaces.nb201 import Nb201Settings


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShapesConfig(Section):
    train_size: int = Field(default=4000, ge=10, le=1_000_000)
    test_size: int = Field(default=1000, ge=10, le=1_000_000)
    image_size: int = Field(default=32, ge=8, le=256)


class DigitsConfig(Section):
    """scikit-learn's 8x8 handwritten digits, upsampled to `image_size` pixels."""

    image_size: int = Field(default=16, ge=8, le=256)


class DataConfig(Section):
    dataset: Literal["shapes", "digits", "cifar10", "imagefolder"] = "shapes"
    root: Path | None = None
    download: bool = False
    cache_dir: Path | None = None
    val_fraction: float = Field(default=0.2, gt=0.0, lt=1.0)
    max_train_images: int | None = Field(default=None, ge=10)
    shapes: ShapesConfig = ShapesConfig()
    digits: DigitsConfig = DigitsConfig()

    @model_validator(mode="after")
    def _root_when_needed(self) -> DataConfig:
        if self.dataset in ("cifar10", "imagefolder") and self.root is None:
            raise ValueError(
                f"data.root is required for dataset '{self.dataset}': set it to a folder"
            )
        return self


class AugmentConfig(Section):
    enabled: bool = True
    crop_padding: int = Field(default=4, ge=0, le=64)
    flip: bool = True
    cutout: int = Field(default=0, ge=0, le=256)


class TrainingConfig(Section):
    """Shared by supernet training and retraining: one loop, one recipe format."""

    epochs: int = Field(default=1, ge=1, le=100_000)
    batch_size: int = Field(default=128, ge=1, le=65_536)
    lr: float = Field(default=0.05, gt=0.0, le=10.0)
    momentum: float = Field(default=0.9, ge=0.0, lt=1.0)
    nesterov: bool = True
    weight_decay: float = Field(default=4e-5, ge=0.0, le=1.0)
    warmup_epochs: float = Field(default=0.0, ge=0.0)
    label_smoothing: float = Field(default=0.1, ge=0.0, lt=1.0)
    grad_clip: float | None = Field(default=5.0, gt=0.0)
    augment: AugmentConfig = AugmentConfig()
    checkpoint_every_steps: int = Field(default=200, ge=1)
    amp: bool = True  # only takes effect on CUDA
    # channels-last halves a step of these depthwise-heavy networks on the CPU too (measured:
    # 1.2 s against 2.3 s for one mbv3 path, batch 64, 2 cores), so it is on everywhere.
    channels_last: bool = True


class SupernetConfig(TrainingConfig):
    sampling: Literal["fair", "spos"] = "fair"
    bn_recalibration_batches: int = Field(default=10, ge=0, le=10_000)


class RetrainConfig(TrainingConfig):
    """Retraining one searched network: the shared recipe plus where its weights start.

    SICNS retrains for 600 epochs at batch 128 with augmentation; the defaults stay short so the
    embedded quickstart finishes on a CPU. `inherited` starts from the supernet's weights.
    """

    init: Literal["scratch", "inherited"] = "scratch"
    eval_batch_size: int = Field(default=500, ge=1, le=65_536)


class RobustnessConfig(Section):
    """Shift-robustness evaluation and the Table III ablation of SICNS."""

    max_shift: int = Field(default=4, ge=1, le=64)
    fills: tuple[Literal["zero", "circular"], ...] = Field(
        default=("zero", "circular"), min_length=1
    )
    # pairs of random shifts per image (consistency)
    shift_pairs: int = Field(default=2, ge=1, le=100)
    ablation: bool = True
    ablation_epochs: int | None = Field(default=None, ge=1)  # None: the retrain section's epochs
    max_test_images: int | None = Field(default=None, ge=10)


class ExportConfig(Section):
    """ONNX (and TensorRT) export of a retrained network."""

    tolerance: float = Field(default=1e-4, gt=0.0, le=1.0)
    parity_batch: int = Field(default=8, ge=1, le=4096)
    latency_backend: str = "ort-cpu"
    tensorrt: Literal["auto", "off", "required"] = "auto"
    fp16_tolerance: float = Field(default=5e-2, gt=0.0)


class TrackingConfig(Section):
    """MLflow tracking and the model registry (`shiftnas.tracking`).

    `uri: None` means an SQLite store inside the run directory (`mlflow.db`, artifacts in
    `mlartifacts/`), so the default needs no server; the `MLFLOW_TRACKING_URI` environment
    variable, when set, wins over `uri`.
    """

    enabled: bool = True
    uri: str | None = None
    experiment: str = Field(default="shiftnas", min_length=1)
    registered_model: str = Field(default="shiftnas", min_length=1)


def _renamed_quantity(value: Any) -> Any:
    if value == "flops":
        raise ValueError("'flops' is now 'macs' (it always held MACs, multiply-adds): use macs")
    return value


SearchQuantity = Annotated[
    Literal["error", "shift_error", "params", "macs", "latency"],
    BeforeValidator(_renamed_quantity),
]


class SearchObjectiveConfig(Section):
    """One minimised objective; `bounds` fix its hypervolume normalisation (see `search.nsga`)."""

    name: SearchQuantity
    bounds: tuple[float, float] | None = None  # None: the documented default for this objective

    @model_validator(mode="after")
    def _ordered(self) -> SearchObjectiveConfig:
        if self.bounds is not None and not self.bounds[0] < self.bounds[1]:
            raise ValueError(f"bounds of '{self.name}' must be [low, high] with low < high")
        return self


class SearchEvaluatorConfig(Section):
    """Which estimator gives the `error` objective, and its keyword settings."""

    name: str = Field(default="inherited", min_length=1)
    settings: dict[str, Any] = Field(default_factory=dict)
    max_val_images: int | None = Field(default=None, ge=10)  # inherited / shift_error only


class SearchLatencyConfig(Section):
    """`table` (a lookup-table file: cheap) or, when absent, measured on `backend` (expensive)."""

    table: Path | None = None
    backend: str = "ort-cpu"
    threads: int = Field(default=1, ge=1, le=256)
    batch_size: int = Field(default=1, ge=1, le=4096)
    warmup: int = Field(default=20, ge=0, le=100_000)
    runs: int = Field(default=200, ge=1, le=1_000_000)


class SearchShiftConfig(Section):
    max_shift: int = Field(default=4, ge=1, le=64)
    fill: Literal["zero", "circular"] = "zero"


class SearchRayConfig(Section):
    """Where `search.executor: ray` sends the expensive estimates (`search.nsga.ray_executor`).

    `address`: `auto` (the cluster `ray start` made on this machine), `host:6379` (a cluster
    this machine is a node of), `ray://host:10001` (a remote cluster through Ray Client), or
    None: a local cluster of `num_cpus` CPUs (None: one per `search.workers`), started on demand
    and stopped when the search ends.
    """

    address: str | None = Field(default=None, pattern=r"^(auto|ray://\S+|[^\s:/]+:\d+)$")
    num_cpus: int | None = Field(default=None, ge=1, le=100_000)


class SearchConfig(Section):
    """NSGA-II settings (SICNS: population 10 x 50 generations; RWE: 20 x 30)."""

    population: int = Field(default=10, ge=2, le=100_000)
    generations: int = Field(default=50, ge=1, le=100_000)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)  # None: the run's seed
    workers: int = Field(default=1, ge=1, le=256)  # 1: evaluate in-process
    executor: Literal["local", "ray"] = "local"  # ray: on `workers` Ray actors (`search.ray`)
    ray: SearchRayConfig = SearchRayConfig()
    crossover_prob: float = Field(default=0.9, ge=0.0, le=1.0)
    # polynomial mutation on integer genes: a small distribution index (pymoo's integer
    # example uses 3) moves genes by more than one step often enough to matter
    mutation_eta: float = Field(default=3.0, gt=0.0, le=100.0)
    mutation_prob: float | None = Field(default=None, gt=0.0, le=1.0)  # per gene; None: 1/genes
    objectives: list[SearchObjectiveConfig] = Field(
        default_factory=lambda: [
            SearchObjectiveConfig(name="error"),
            SearchObjectiveConfig(name="params"),
            SearchObjectiveConfig(name="macs"),
        ],
        min_length=1,
    )
    budgets: dict[SearchQuantity, float] = Field(default_factory=dict)  # value <= budget
    skip_infeasible: bool = True  # no expensive evaluation when a cheap budget already fails
    evaluator: SearchEvaluatorConfig = SearchEvaluatorConfig()
    latency: SearchLatencyConfig = SearchLatencyConfig()
    shift_error: SearchShiftConfig = SearchShiftConfig()

    @model_validator(mode="after")
    def _unique(self) -> SearchConfig:
        names = [o.name for o in self.objectives]
        if len(set(names)) != len(names):
            raise ValueError(f"search.objectives: each objective once, got {', '.join(names)}")
        return self


# Each space defines its own settings model next to its code; add it here to make it configurable.
SpaceConfig = Annotated[
    Mbv3Settings | Nb201Settings | DartsSettings | MacroSettings, Field(discriminator="name")
]


class SelectConfig(Section):
    """Which front networks go on to retraining (`shiftnas.pipeline.select`)."""

    k: int = Field(default=3, ge=1, le=100)
    strategy: Literal["knee_extremes", "best_feasible"] = "knee_extremes"
    budgets: dict[SearchQuantity, float] = Field(
        default_factory=dict
    )  # value <= budget, in the search objectives' units (latency in ms)


class RegistryConfig(Section):
    """After registration, point `alias` at the best version within these constraints."""

    alias: str = Field(default="champion", pattern=r"^[A-Za-z0-9_-]+$")
    max_latency_ms: float | None = Field(default=None, gt=0.0)
    min_accuracy: float | None = Field(default=None, ge=0.0, le=1.0)
    # Point the alias at a model within 0.05 of chance accuracy (1/num_classes) all the same.
    allow_near_chance: bool = False


Stage = Literal["supernet", "search", "select", "retrain", "robustness", "export", "register"]
STAGE_ORDER: tuple[str, ...] = (
    "supernet", "search", "select", "retrain", "robustness", "export", "register",
)  # fmt: skip


class Config(Section):
    name: str = Field(default="run", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    data: DataConfig = DataConfig()
    space: SpaceConfig = Mbv3Settings()
    supernet: SupernetConfig = SupernetConfig()
    retrain: RetrainConfig = RetrainConfig()
    robustness: RobustnessConfig = RobustnessConfig()
    export: ExportConfig = ExportConfig()
    tracking: TrackingConfig = TrackingConfig()
    search: SearchConfig = SearchConfig()
    select: SelectConfig = SelectConfig()
    registry: RegistryConfig = RegistryConfig()
    stages: list[Stage] = Field(default_factory=lambda: list(STAGE_ORDER), min_length=1)

    @model_validator(mode="after")
    def _stages_in_order(self) -> Config:
        order = [STAGE_ORDER.index(s) for s in self.stages]
        if order != sorted(set(order)):
            raise ValueError(
                f"stages must be distinct and in pipeline order: {', '.join(STAGE_ORDER)}"
            )
        return self


def format_validation_error(err: ValidationError, source: str) -> str:
    """One line per problem: where it is, what is wrong, what is allowed."""
    first = err.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    if first["type"] == "extra_forbidden":
        allowed = _allowed_keys(first["loc"][:-1])
        hint = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
        message = f"unknown key '{first['loc'][-1]}'{hint}"
    else:
        got = first.get("input")
        shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
        message = f"{first['msg']}{shown}"
    more = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{source}: {where}: {message}{more}"


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: Any = Config
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = field.annotation
        for arg in getattr(model, "__args__", ()):  # Optional[...] / list[...]
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                model = arg
    return sorted(getattr(model, "model_fields", {}))


def config_from_dict(data: dict[str, Any], source: str = "config") -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        raise ShiftnasError(format_validation_error(err, source)) from None


def load_config(path: str | Path | None = None) -> Config:
    """Load a YAML config; `None` gives the embedded quickstart that ships inside the package."""
    if path is None:
        text = importlib.resources.files("shiftnas").joinpath("configs/quickstart.yaml").read_text()
        source = "quickstart.yaml (embedded)"
    else:
        path = Path(path)
        if not path.is_file():
            raise ShiftnasError(f"config file {path} does not exist: pass the path of a YAML file")
        text, source = path.read_text(), str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        raise ShiftnasError(f"{source}: not valid YAML{line}: fix the syntax") from None
    if data is None or data == {}:
        raise ShiftnasError(
            f"{source} holds no settings: write at least name, data and stages (see "
            "configs/quickstart.yaml), or run `shiftnas run` with no config for the quickstart"
        )
    if not isinstance(data, dict):
        raise ShiftnasError(
            f"{source}: the top level must be a mapping of sections (name:, data:, ...), "
            f"not a {type(data).__name__}"
        )
    return config_from_dict(data, source)


def dump_config(config: Config) -> str:
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
