"""Point an alias (`champion`) at the best registered version that meets deployment constraints.

Best means the highest accuracy, ties broken by lower latency, then by keeping the current
holder (no churn), then by the older version. The history stays on the versions: the one that
loses the alias gets a `previous_<alias>` tag with the time, the new one `promoted_at`.

A version whose test accuracy is within `NEAR_CHANCE_MARGIN` of chance (`1 / num_classes`, from
its `num_classes` tag) is never promoted unless the caller allows it explicitly: a network that
learned nothing must not become the one a deployment loads. Versions without a `num_classes` tag
(registered outside shiftnas) cannot be checked and are treated as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from shiftnas.errors import ShiftnasError
from shiftnas.robustness.chance import NEAR_CHANCE_MARGIN, near_chance

# "Within a few points of chance": test accuracy < 1/num_classes + NEAR_CHANCE_MARGIN (0.05, five
# percentage points) is refused. 10 classes: below 0.15; 2 classes: below 0.55. The robustness
# report uses the same rule.
__all__ = ["NEAR_CHANCE_MARGIN", "PromotionResult", "promote"]


@dataclass(frozen=True)
class PromotionResult:
    name: str
    alias: str
    version: str
    accuracy: float
    latency_ms: float
    previous_version: str | None  # who held the alias before (None: nobody)
    changed: bool  # False when the best version already held the alias
    promoted_at: str | None


@dataclass(frozen=True)
class _Candidate:
    version: str
    accuracy: float
    latency_ms: float
    num_classes: int | None = None

    @property
    def chance(self) -> float | None:
        return 1.0 / self.num_classes if self.num_classes else None

    @property
    def near_chance(self) -> bool:
        return near_chance(self.accuracy, self.num_classes)


def _client(client_or_uri: Any) -> Any:
    from mlflow import MlflowClient

    if isinstance(client_or_uri, MlflowClient):
        return client_or_uri
    from shiftnas.tracking.store import is_http, require_reachable, use_short_http_timeouts

    if client_or_uri is not None and is_http(client_or_uri):
        use_short_http_timeouts()
        require_reachable(client_or_uri, "or pass the URI of a running one")
    if client_or_uri is not None:  # wait for runs writing to the same SQLite store
        from shiftnas.tracking.sqlite import with_busy_timeout

        client_or_uri = with_busy_timeout(client_or_uri)
    return MlflowClient(tracking_uri=client_or_uri, registry_uri=client_or_uri)


def _versions(client: Any, name: str) -> list[Any]:
    quoted = name.replace("'", "\\'")
    found, token = [], None
    while True:
        page = client.search_model_versions(f"name='{quoted}'", page_token=token)
        found.extend(page)
        token = page.token
        if not token:
            return found


def _candidates(versions: list[Any]) -> list[_Candidate]:
    out = []
    for version in versions:
        try:
            accuracy = float(version.tags["accuracy"])
            latency = float(version.tags["latency_ms"])
        except (KeyError, ValueError):
            continue  # registered by hand without our figures: not a candidate
        classes = version.tags.get("num_classes", "")
        num_classes = int(classes) if classes.isdigit() and int(classes) > 0 else None
        out.append(_Candidate(str(version.version), accuracy, latency, num_classes))
    return out


def _current(client: Any, name: str, alias: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def _refusal(name: str, candidates: list[_Candidate], max_latency_ms: float,
             min_accuracy: float | None) -> ShiftnasError:  # fmt: skip
    wanted = f"latency <= {max_latency_ms:g} ms"
    if min_accuracy is not None:
        wanted += f" and accuracy >= {min_accuracy:g}"
    if not candidates:
        return ShiftnasError(
            f"no version of model '{name}' has accuracy and latency_ms tags: register versions "
            "with `shiftnas run` (register stage) before promoting"
        )
    fastest = min(candidates, key=lambda c: (c.latency_ms, -c.accuracy))
    best = max(candidates, key=lambda c: (c.accuracy, -c.latency_ms))
    return ShiftnasError(
        f"no version of model '{name}' meets {wanted}: the fastest is v{fastest.version} "
        f"({fastest.latency_ms:g} ms, accuracy {fastest.accuracy:g}), the most accurate "
        f"v{best.version} ({best.latency_ms:g} ms, accuracy {best.accuracy:g}); relax "
        "--max-latency-ms or --min-accuracy"
    )


def _near_chance_refusal(name: str, best: _Candidate) -> ShiftnasError:
    return ShiftnasError(
        f"the best qualifying version of model '{name}', v{best.version}, has test accuracy "
        f"{best.accuracy:.3f}, within {NEAR_CHANCE_MARGIN:g} of chance "
        f"({best.chance:.3f} for {best.num_classes} classes): train it further, or pass "
        "--allow-near-chance (registry.allow_near_chance: true) to promote it anyway"
    )


def promote(
    client_or_uri: Any,
    name: str,
    max_latency_ms: float,
    min_accuracy: float | None = None,
    alias: str = "champion",
    allow_near_chance: bool = False,
) -> PromotionResult:
    """Move `alias` of registered model `name` to its best qualifying version.

    `client_or_uri`: an `MlflowClient`, a tracking URI, or None for MLflow's default
    (`MLFLOW_TRACKING_URI`). `max_latency_ms` in ms, `min_accuracy` a fraction in [0, 1].
    Raises `ShiftnasError` naming the best figures available when no version qualifies, and,
    unless `allow_near_chance`, naming the accuracy and the chance level when every qualifying
    version is within `NEAR_CHANCE_MARGIN` of chance; the alias is then left where it was.
    Raises `ShiftnasError` before touching the store when MLflow would refuse `alias`
    (`settings.alias_problem`: `latest`, `v<number>`, other characters).

    The alias moves first and the history tags (`promoted_at`, `replaced_<alias>`,
    `previous_<alias>`) are written only once it has moved, so a refused or failed move leaves
    no record of a promotion that did not happen.
    """
    from mlflow.exceptions import MlflowException

    from shiftnas.tracking.settings import alias_problem
    from shiftnas.tracking.sqlite import without_busy_timeout

    problem = alias_problem(alias)
    if problem is not None:
        raise ShiftnasError(f"--alias (registry.alias): {problem}")
    client = _client(client_or_uri)
    try:
        client.get_registered_model(name)
    except MlflowException:
        raise ShiftnasError(
            f"no registered model named '{name}' in {without_busy_timeout(client.tracking_uri)}: "
            "check --model and --tracking-uri (or --run-dir)"
        ) from None
    candidates = _candidates(_versions(client, name))
    current = _current(client, name, alias)
    qualifying = [
        c
        for c in candidates
        if c.latency_ms <= max_latency_ms and (min_accuracy is None or c.accuracy >= min_accuracy)
    ]
    if not qualifying:
        raise _refusal(name, candidates, max_latency_ms, min_accuracy)
    learned = [c for c in qualifying if allow_near_chance or not c.near_chance]
    if not learned:
        raise _near_chance_refusal(name, max(qualifying, key=lambda c: c.accuracy))
    qualifying = learned
    best = max(
        qualifying,
        key=lambda c: (c.accuracy, -c.latency_ms, c.version == current, -int(c.version)),
    )
    if best.version == current:
        return PromotionResult(name, alias, best.version, best.accuracy, best.latency_ms,
                               current, changed=False, promoted_at=None)  # fmt: skip
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    client.set_registered_model_alias(name, alias, best.version)  # the step that can be refused
    client.set_model_version_tag(name, best.version, "promoted_at", now)
    client.set_model_version_tag(name, best.version, f"replaced_{alias}", current or "none")
    if current is not None:
        client.set_model_version_tag(name, current, f"previous_{alias}", now)
    return PromotionResult(name, alias, best.version, best.accuracy, best.latency_ms,
                           current, changed=True, promoted_at=now)  # fmt: skip
