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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shiftnas.errors import ShiftnasError
from shiftnas.search.spaces.mbv3 import Mbv3Settings


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShapesConfig(Section):
    train_size: int = Field(default=4000, ge=10, le=1_000_000)
    test_size: int = Field(default=1000, ge=10, le=1_000_000)
    image_size: int = Field(default=32, ge=8, le=256)


class DataConfig(Section):
    dataset: Literal["shapes", "cifar10", "imagefolder"] = "shapes"
    root: Path | None = None
    download: bool = False
    cache_dir: Path | None = None
    val_fraction: float = Field(default=0.2, gt=0.0, lt=1.0)
    max_train_images: int | None = Field(default=None, ge=10)
    shapes: ShapesConfig = ShapesConfig()

    @model_validator(mode="after")
    def _root_when_needed(self) -> DataConfig:
        if self.dataset in ("cifar10", "imagefolder") and self.root is None:
            raise ValueError(f"data.root is required for dataset '{self.dataset}': set it to a folder")
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


# Each space defines its own settings model next to its code; add it here to make it configurable.
SpaceConfig = Annotated[Mbv3Settings, Field(discriminator="name")]


class Config(Section):
    name: str = Field(default="run", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    data: DataConfig = DataConfig()
    space: SpaceConfig = Mbv3Settings()
    supernet: SupernetConfig = SupernetConfig()
    stages: list[Literal["supernet"]] = Field(default_factory=lambda: ["supernet"])


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
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        raise ShiftnasError(f"{source}: not valid YAML{line}: fix the syntax") from None
    if not isinstance(data, dict):
        raise ShiftnasError(f"{source}: the top level must be a mapping of sections")
    return config_from_dict(data, source)


def dump_config(config: Config) -> str:
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
