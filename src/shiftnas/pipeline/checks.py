"""Every name and setting of a config checked against the name tables, before any stage runs.

`Config` (pydantic) checks each key and value on its own; what it cannot know lives in the
name tables of the layers below: evaluators and their keyword settings (read from the
constructor's signature), latency backends and whether they can run here, spaces, and how the
sections fit together (`shift_error` needs inherited weights, `select.budgets` must name search
objectives). A typo in a late stage's section would otherwise surface only after the supernet
has trained for hours.
"""

from __future__ import annotations

import contextlib
import inspect
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from shiftnas.errors import ShiftnasError
from shiftnas.pipeline.config import Config
from shiftnas.profiling.backends import get_backend, list_backends
from shiftnas.search import list_spaces
from shiftnas.search.evaluators import evaluator_factory, list_evaluators
from shiftnas.search.space import require_capability

# passed by the pipeline itself (search.seed, device, the loaded data, the configured space)
SUPPLIED = frozenset({"space", "data", "seed", "device", "name"})


def check_config(config: Config, source: str = "config", stages: Sequence[str] = ()) -> list[str]:
    """Raise one `ShiftnasError` line, `source: key: problem: fix`, for the first problem found;
    return the warning lines the caller prints before any work (an estimator not trusted on the
    space, `search.evaluators.trust`).

    Names are always checked; what a stage needs (a backend that runs here, a supernet, the
    registry) only for `stages` (default: the config's own), so `shiftnas search` can pass
    `["search"]`.
    """
    stages = list(stages or config.stages)
    try:
        _check_objectives(config)
        _check_space(config, stages)
        _check_evaluator(config)
        _check_latency(config, stages)
        _check_selection(config)
        warnings = _check_trust(config, stages)
    except ShiftnasError as err:
        raise ShiftnasError(f"{source}: {err}") from None
    return [f"warning: {source}: {line}" for line in warnings]


def _check_trust(config: Config, stages: list[str]) -> list[str]:
    """The search's estimator against its measured fidelity on the space: a warning line, or an
    error with `search.evaluator.unmeasured: error`."""
    from shiftnas.search.evaluators.trust import verdict

    settings = config.search.evaluator
    if "search" not in stages or "error" not in _search_wants(config):
        return []
    line = verdict(settings.name, config.space.name)
    if line is None:
        return []
    if settings.unmeasured == "error":
        raise ShiftnasError(f"search.evaluator.name: {line} (search.evaluator.unmeasured: error)")
    return [f"search.evaluator.name: {line} (set search.evaluator.unmeasured: error to stop)"]


def _search_wants(config: Config) -> list[str]:
    return [o.name for o in config.search.objectives] + list(config.search.budgets)


def _check_space(config: Config, stages: list[str]) -> None:
    name = config.space.name
    if name not in list_spaces():
        spaces = ", ".join(list_spaces())
        raise ShiftnasError(f"space.name: unknown space '{name}': choose one of {spaces}")
    wants = _search_wants(config)
    needs = [
        ("stages", "supernet", "supernet" in stages, "remove supernet from stages"),
        ("search.evaluator.name", "supernet", "search" in stages and "error" in wants
         and config.search.evaluator.name == "inherited", "choose another evaluator (e.g. rwe)"),
        ("search.objectives", "supernet", "search" in stages and "shift_error" in wants,
         "drop shift_error"),
        ("retrain.init", "supernet", "retrain" in stages and config.retrain.init == "inherited",
         "set retrain.init: scratch"),
        ("stages", "filter_twins", "robustness" in stages, "remove robustness from stages"),
    ]  # fmt: skip
    for key, capability, needed, fix in needs:
        if needed:
            require_capability(name, capability, key, fix)


def _check_evaluator(config: Config) -> None:
    settings = config.search.evaluator
    if settings.name not in list_evaluators():
        raise ShiftnasError(
            f"search.evaluator.name: unknown evaluator '{settings.name}': choose one of "
            f"{', '.join(list_evaluators())}"
        )
    if "shift_error" in _search_wants(config) and settings.name != "inherited":
        raise ShiftnasError(
            "search.objectives: shift_error needs inherited weights: set search.evaluator.name: "
            "inherited"
        )
    if settings.name == "inherited":
        if settings.settings:
            raise ShiftnasError(
                "search.evaluator.settings: 'inherited' takes none: its knobs are "
                "search.evaluator.max_val_images and supernet.bn_recalibration_batches"
            )
        return
    if settings.max_val_images is not None and "shift_error" not in _search_wants(config):
        raise ShiftnasError(
            f"search.evaluator.max_val_images: '{settings.name}' does not use it (only "
            "inherited and shift_error do): remove it, or set the evaluator's own settings"
        )
    check_evaluator_settings(settings.name, settings.settings)


def check_evaluator_settings(name: str, settings: Mapping[str, Any]) -> None:
    """Each key must be a keyword of the evaluator's constructor, each value of its type."""
    where = "search.evaluator.settings"
    accepted = accepted_settings(name, settings)
    if accepted is None:  # a constructor that takes any keyword: nothing to check against
        return
    for key, value in settings.items():
        if key in SUPPLIED:
            raise ShiftnasError(
                f"{where}.{key}: set by the pipeline (from seed, device, data and space), "
                "not here: remove it"
            )
        if key not in accepted:
            allowed = ", ".join(sorted(accepted)) or "none"
            raise ShiftnasError(
                f"{where}: unknown key '{key}' for evaluator '{name}'; allowed: {allowed}"
            )
        try:
            TypeAdapter(accepted[key]).validate_python(value)
        except ValidationError as err:
            first = err.errors()[0]
            raise ShiftnasError(f"{where}.{key}: {first['msg']} (got {value!r})") from None
        except Exception:  # a type pydantic cannot check: the constructor will
            continue


def accepted_settings(name: str, settings: Mapping[str, Any]) -> dict[str, Any] | None:
    """The keyword settings of evaluator `name` and their types; None if it takes any keyword.

    Read from the constructor its factory returns, following `**kwargs` up the base classes;
    an ensemble forwards its extra keywords to every member, so it accepts the members' common
    ones. Keys the pipeline supplies (`SUPPLIED`) are left out.
    """
    try:
        cls = typing.get_type_hints(evaluator_factory(name)).get("return")
    except Exception:  # an unannotated factory: nothing to read
        return None
    if not isinstance(cls, type):
        return None
    params: dict[str, inspect.Parameter] = {}
    hints: dict[str, Any] = {}
    forwards = True
    for klass in cls.__mro__[:-1]:  # up to, not including, object
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        with contextlib.suppress(Exception):  # unresolvable hints: keys are still checked
            hints = {**typing.get_type_hints(init), **hints}
        forwards = False
        for p in list(inspect.signature(init).parameters.values())[1:]:
            if p.kind is p.VAR_KEYWORD:
                forwards = True
            elif p.kind is p.KEYWORD_ONLY or (p.kind is p.POSITIONAL_OR_KEYWORD
                                              and p.default is not p.empty):  # fmt: skip
                params.setdefault(p.name, p)
        if not forwards:
            break
    accepted = {k: hints.get(k, Any) for k in params if k not in SUPPLIED}
    if not forwards:
        return accepted
    if "members" not in params:
        return None
    members = settings.get("members", params["members"].default)
    common: dict[str, Any] | None = None
    for member in members if isinstance(members, list | tuple) else []:
        if not isinstance(member, str):
            return None
        if member not in list_evaluators():
            raise ShiftnasError(
                f"search.evaluator.settings.members: unknown evaluator '{member}': choose from "
                f"{', '.join(list_evaluators())}"
            )
        inner = accepted_settings(member, {})
        if inner is None:
            return None
        common = inner if common is None else {k: v for k, v in common.items() if k in inner}
    return {**(common or {}), **accepted}


def _check_latency(config: Config, stages: list[str]) -> None:
    names = list_backends()
    for key, backend in (("search.latency.backend", config.search.latency.backend),
                         ("export.latency_backend", config.export.latency_backend)):  # fmt: skip
        if backend not in names:
            raise ShiftnasError(
                f"{key}: unknown latency backend '{backend}': choose one of {', '.join(names)}"
            )
    latency = config.search.latency
    if "search" in stages and "latency" in _search_wants(config):
        if latency.table is not None and not Path(latency.table).is_file():
            raise ShiftnasError(
                f"search.latency.table: {latency.table} does not exist: build it with "
                "`shiftnas lut build`, or remove the key to measure latency instead"
            )
        if latency.table is None:
            _available("search.latency.backend", latency.backend, latency.threads)
    if "register" in stages:  # the registry's tags need a measured latency
        _available("export.latency_backend", config.export.latency_backend, 1)
        if not config.tracking.enabled:
            raise ShiftnasError(
                "stages: register needs the MLflow registry but tracking.enabled is false: "
                "enable tracking or remove register from stages"
            )


def _available(key: str, backend: str, threads: int) -> None:
    try:
        get_backend(backend, threads=threads)
    except ShiftnasError as err:
        raise ShiftnasError(f"{key}: {err}") from None


def _check_objectives(config: Config) -> None:
    from shiftnas.pipeline.objectives import OBJECTIVES

    where = [("search.objectives", [o.name for o in config.search.objectives]),
             ("search.budgets", list(config.search.budgets)),
             ("select.budgets", list(config.select.budgets))]  # fmt: skip
    for key, names in where:
        for name in names:
            if name not in OBJECTIVES:
                raise ShiftnasError(
                    f"{key}: unknown objective '{name}': choose one of "
                    f"{', '.join(OBJECTIVES.names())}"
                )


def _check_selection(config: Config) -> None:
    objectives = [o.name for o in config.search.objectives]
    for quantity in config.select.budgets:
        if quantity not in objectives:
            raise ShiftnasError(
                f"select.budgets: '{quantity}' is not a search objective ({', '.join(objectives)})"
                ": the front holds no value to compare; add it to search.objectives or drop it"
            )
