"""The documentation site builds with warnings as errors, and its generated references are whole.

`mkdocs build --strict` fails on a broken link, a page missing from the nav or an API object
that does not resolve, so this test is what keeps the site honest in CI (`make test`).
"""

import re

import typer
from docs_helpers import REPO

from shiftnas.cli import app
from shiftnas.pipeline.config import Config


def test_site_builds_strict_without_warnings(built_docs):
    assert built_docs.returncode == 0, built_docs.output[-3000:]
    assert "WARNING" not in built_docs.output, built_docs.output[-3000:]
    assert (built_docs.site / "index.html").is_file()
    assert built_docs.seconds < 60, f"the docs build took {built_docs.seconds:.0f} s"


def _keys(model, prefix=""):
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        yield key
        for arg in [field.annotation, *getattr(field.annotation, "__args__", ())]:
            if isinstance(arg, type) and hasattr(arg, "model_fields"):
                yield from _keys(arg, f"{key}.")


def test_configuration_reference_lists_every_key(built_docs):
    page = (built_docs.site / "reference" / "configuration" / "index.html").read_text()
    missing = [key for key in _keys(Config) if f"<code>{key}</code>" not in page]
    assert not missing, f"keys missing from the configuration reference: {missing}"
    # ranges and defaults come from the models
    assert re.search(r"<code>search.population</code>.*?<code>10</code>.*?&gt;= 2", page, re.S)


def _commands(group, path="shiftnas"):
    ctx = group.context_class(group, info_name=path)
    for name in group.list_commands(ctx):
        sub = group.get_command(ctx, name)
        if sub.hidden:  # a renamed command kept only to name its new spelling
            continue
        yield f"{path} {name}"
        if hasattr(sub, "list_commands"):
            yield from _commands(sub, f"{path} {name}")


def test_cli_reference_lists_every_command(built_docs):
    page = (built_docs.site / "reference" / "cli" / "index.html").read_text()
    commands = list(_commands(typer.main.get_command(app)))
    assert len(commands) >= 20
    missing = [c for c in commands if f"<code>{c}</code>" not in page]
    assert not missing, f"commands missing from the CLI reference: {missing}"


def test_readme_is_short_and_links_only_to_existing_files():
    text = (REPO / "README.md").read_text()
    assert len(text) <= 10_000, len(text)
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    assert targets
    broken = [t for t in targets if "://" not in t and not (REPO / t).exists()]
    assert not broken, broken
