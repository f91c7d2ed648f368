"""Flatten a nested config into MLflow params: dotted keys, string values of bounded length."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

# MLflow 3.x accepts 6000 characters per param value, servers before 2.x only 500; 500 keeps a
# run loggable to any server, and no config value of ours comes near it.
MAX_VALUE_LENGTH = 500
MAX_KEY_LENGTH = 250


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """`{"supernet": {"lr": 0.05}}` -> `{"supernet.lr": "0.05"}`.

    Lists of scalars become one JSON value (`[3, 5, 7]`), lists holding mappings get index keys
    (`stages.0.name`); values longer than the limit are cut and end with their length and a hash,
    so two different long values never look the same.
    """
    out: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_params(value, f"{name}."))
        elif isinstance(value, list | tuple) and any(isinstance(v, Mapping) for v in value):
            out.update(flatten_params({str(i): v for i, v in enumerate(value)}, f"{name}."))
        else:
            out[_key(name)] = _value(value)
    return out


def _scalar(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_scalar(v) for v in value]
    return str(value)  # Path, enum, numpy scalar ...


def _value(value: Any) -> str:
    text = json.dumps(_scalar(value)) if isinstance(value, list | tuple) else str(value)
    if len(text) <= MAX_VALUE_LENGTH:
        return text
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    tail = f"...[{len(text)} chars, sha1 {digest}]"
    return text[: MAX_VALUE_LENGTH - len(tail)] + tail


def _key(name: str) -> str:
    if len(name) <= MAX_KEY_LENGTH:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return name[: MAX_KEY_LENGTH - 9] + "~" + digest
