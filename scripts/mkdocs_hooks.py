"""MkDocs hooks: the configuration and CLI references, generated at build time.

A page holding the line `<!-- shiftnas:config-reference -->` gets every key of the pydantic
`Config` tree (type, default, range, the comment beside it in the source); one holding
`<!-- shiftnas:cli-reference -->` gets every command of the typer app with its options. Both
are read from the code being documented, so they cannot drift from it.
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from typing import Any

CONFIG_MARK = "<!-- shiftnas:config-reference -->"
CLI_MARK = "<!-- shiftnas:cli-reference -->"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if CONFIG_MARK in markdown:
        markdown = markdown.replace(CONFIG_MARK, config_reference())
    if CLI_MARK in markdown:
        markdown = markdown.replace(CLI_MARK, cli_reference())
    return markdown


# ----------------------------------------------------------------------- configuration


def _type_name(ann: Any) -> str:
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join("null" if a is type(None) else _type_name(a) for a in args)
    if origin in (list, tuple, dict, set):
        inner = ", ".join("..." if a is Ellipsis else _type_name(a) for a in args)
        return f"{origin.__name__}[{inner}]"
    if ann is type(None):
        return "null"
    return getattr(ann, "__name__", str(ann))


def _range(field: Any) -> str:
    words = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    parts = []
    for meta in field.metadata:
        for attr, sign in words.items():
            value = getattr(meta, attr, None)
            if value is not None:
                parts.append(f"{sign} {value:,}" if isinstance(value, int) else f"{sign} {value}")
        if getattr(meta, "min_length", None) is not None:
            parts.append(f"length >= {meta.min_length}")
        if getattr(meta, "max_length", None) is not None:
            parts.append(f"length <= {meta.max_length}")
        if getattr(meta, "pattern", None) is not None:
            parts.append(f"matches `{meta.pattern}`")
    return ", ".join(parts)


def _default(field: Any) -> str:
    from pydantic import BaseModel
    from pydantic_core import PydanticUndefined

    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        return "(section)"
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        value = [v.model_dump(mode="json") for v in value]
    text = json.dumps(value, default=str)
    return f"`{text}`".replace("|", "\\|")


def _comments(cls: type) -> dict[str, str]:
    """The comment on or just above each field's line in the class source (and its bases')."""
    notes: dict[str, str] = {}
    for base in reversed(cls.__mro__[:-1]):
        notes.update(_own_comments(base))
    return notes


def _own_comments(cls: type) -> dict[str, str]:
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    notes: dict[str, str] = {}
    above: list[str] = []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            above.append(stripped.lstrip("# "))
            continue
        match = re.match(r"^    (\w+)\s*:", line)
        if match:
            trailing = line.split("  # ", 1)[1] if "  # " in line else ""
            notes[match.group(1)] = " ".join([*above, trailing]).strip()
        above = []
    return notes


def _sub_models(ann: Any) -> list[type]:
    from pydantic import BaseModel

    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [ann]
    found: list[type] = []
    for arg in typing.get_args(ann):
        found += _sub_models(arg)
    return found


def _section(cls: type, prefix: str, out: list[str], level: int, title: str = "") -> None:
    title = title or (f"`{prefix}`" if prefix else "Top level")
    out.append(f"{'#' * level} {title}\n")
    doc = inspect.getdoc(cls) if cls.__doc__ else ""
    if doc:
        out.append(doc.split("\n\n")[0].replace("\n", " ") + "\n")
    notes = _comments(cls)
    rows, nested = [], []
    for name, field in cls.model_fields.items():
        key = f"{prefix}.{name}" if prefix else name
        models = _sub_models(field.annotation)
        note = notes.get(name, "").replace("|", "\\|")
        rows.append(
            f"| `{key}` | {_type_name(field.annotation)} | {_default(field)} | "
            f"{_range(field)} | {note} |"
        )
        nested += [(key, m, len(models) > 1) for m in models]
    out.append("| key | type | default | allowed | notes |\n|---|---|---|---|---|")
    out += rows
    out.append("")
    for key, model, one_of_several in nested:
        name_field = model.model_fields.get("name")
        variant = typing.get_args(name_field.annotation) if name_field else ()
        if one_of_several and len(variant) == 1:
            title = f"`{key}` with `name: {variant[0]}`"
            _section(model, key, out, level + 1, title)
        else:
            _section(model, key, out, level + 1)


def config_reference() -> str:
    from shiftnas.pipeline.config import Config

    out: list[str] = []
    _section(Config, "", out, 2)
    return "\n".join(out)


# ----------------------------------------------------------------------------- CLI


def _command_md(cmd: Any, path: str, out: list[str], level: int) -> None:
    out.append(f"{'#' * min(level, 6)} `{path}`\n")
    if cmd.help:
        out.append(inspect.cleandoc(cmd.help).replace("\b\n", "") + "\n")
    ctx = cmd.context_class(cmd, info_name=path)
    out.append(f"```text\n{cmd.get_usage(ctx)}\n```\n")
    params = [p for p in cmd.get_params(ctx) if p.get_help_record(ctx)]
    if params:
        out.append("| option | help |\n|---|---|")
        for param in params:
            names, help_text = param.get_help_record(ctx)
            cell = help_text.replace("|", "\\|")
            out.append(f"| `{names}` | {cell} |")
        out.append("")
    if hasattr(cmd, "list_commands"):  # a group (click's, or the one typer vendors)
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                _command_md(sub, f"{path} {name}", out, level + 1)


def cli_reference() -> str:
    import typer

    from shiftnas.cli import app

    out: list[str] = []
    _command_md(typer.main.get_command(app), "shiftnas", out, 2)
    return "\n".join(out)
