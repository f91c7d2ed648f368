"""The whole config of a run: every package's typed settings assembled into one pydantic tree,
loaded from YAML (`load_config`), with one-line messages for every invalid value.

Each package owns its section's model (`data.settings`, `training.settings`, `search.settings`,
...); only the pipeline, which strings the stages together, knows the whole.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from shiftnas.data.settings import DataConfig
from shiftnas.errors import ShiftnasError
from shiftnas.export.settings import ExportConfig
from shiftnas.robustness.settings import RobustnessConfig
from shiftnas.search.settings import SearchConfig, SearchQuantity
from shiftnas.search.spaces.settings import (
    DartsSettings,
    MacroSettings,
    Mbv3Settings,
    Nb201Settings,
    NbMacroSettings,
)
from shiftnas.section import Section
from shiftnas.tracking.settings import RegistryConfig, TrackingConfig
from shiftnas.training.settings import RetrainConfig, SupernetConfig

# Each space's settings model lives in `search.spaces.settings`; add it here to configure it.
SpaceConfig = Annotated[
    Mbv3Settings | NbMacroSettings | Nb201Settings | DartsSettings | MacroSettings,
    Field(discriminator="name"),
]


class SelectConfig(Section):
    """Which front networks go on to retraining (`shiftnas.pipeline.select`)."""

    k: int = Field(default=3, ge=1, le=100)
    strategy: Literal["knee_extremes", "best_feasible"] = "knee_extremes"
    budgets: dict[SearchQuantity, float] = Field(
        default_factory=dict
    )  # value <= budget, in the search objectives' units (latency in ms)


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
        message = f"{first['msg'].removeprefix('Value error, ')}{shown}"
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
