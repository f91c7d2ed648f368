"""One grammar for the command line: every command's `--help` answers, in workflow order, with the
shared options spelled and explained one way; `shiftnas --help` and a config typo answer without
importing torch; renamed options name their new spelling."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import typer
from cli_helpers import WIDE, one_line_error, shiftnas, write_config

from shiftnas.cli import WORKFLOW_ORDER, app
from shiftnas.cli.options import RUN_DIR_HELP


def _commands(group, path=()):
    ctx = group.context_class(group, info_name="shiftnas")
    for name in group.list_commands(ctx):
        sub = group.get_command(ctx, name)
        if sub.hidden:  # a renamed command kept to name its new spelling (profile flops)
            continue
        yield (*path, name), sub
        if hasattr(sub, "list_commands"):
            yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))
LEAVES = [(path, cmd) for path, cmd in COMMANDS if not hasattr(cmd, "list_commands")]
# what prints no result of its own: none at present (every leaf command reports something)
NO_RESULT: set[tuple[str, ...]] = set()


def _options(cmd) -> dict[str, object]:
    return {opt: p for p in cmd.params for opt in getattr(p, "opts", [])}


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=" ".join)
def test_every_command_and_sub_command_answers_help(path):
    code, out, err = shiftnas(*path, "--help")
    assert code == 0, err
    assert f"Usage: shiftnas {' '.join(path)}" in out
    assert "Traceback" not in out + err


def test_top_level_help_lists_commands_in_workflow_order():
    code, out, _ = shiftnas("--help")
    assert code == 0
    positions = [out.index(f"│ {name} ") for name in WORKFLOW_ORDER]
    assert positions == sorted(positions), "commands are not listed in workflow order"
    assert set(WORKFLOW_ORDER) == {path[0] for path, _ in COMMANDS}


def test_shared_options_have_one_spelling_and_one_help_text():
    helps: dict[str, set[str]] = {}
    for path, cmd in LEAVES:
        options = _options(cmd)
        if path not in NO_RESULT:
            assert "--json" in options, f"shiftnas {' '.join(path)} has no --json"
        for name in ("--run-dir", "--json", "--quiet", "--device"):
            if name in options:
                helps.setdefault(name, set()).add(options[name].help.split(";")[0].split(",")[0])
        assert "--progress" not in options and "--no-progress" not in options
    assert helps["--run-dir"] == {RUN_DIR_HELP.split(",")[0]}
    for name in ("--json", "--quiet", "--device"):
        assert len(helps[name]) == 1, (name, helps[name])


@pytest.mark.parametrize(
    "path",
    [("run",), ("search",), ("supernet", "train"), ("retrain",), ("robustness",), ("eval",),
     ("lut", "build"), ("lut", "validate")],
    ids=" ".join,
)  # fmt: skip
def test_long_commands_take_quiet(path):
    cmd = dict(COMMANDS)[path]
    assert "--quiet" in _options(cmd)


@pytest.mark.parametrize(
    "path", [("run",), ("search",), ("supernet", "train"), ("retrain",), ("robustness",),
             ("eval",)], ids=" ".join,
)  # fmt: skip
def test_commands_that_run_networks_take_device(path):
    assert "--device" in _options(dict(COMMANDS)[path])


def test_arch_is_required_wherever_one_network_is_named():
    for path in [("retrain",), ("robustness",), ("export",), ("profile", "macs")]:
        arch = _options(dict(COMMANDS)[path])["--arch"]
        assert arch.required, path


def _fresh_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
        env={**__import__("os").environ, **WIDE}, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_help_and_a_config_typo_do_not_import_torch(tmp_path):
    """What makes `shiftnas --help` answer in well under a second: no torch, numpy or MLflow."""
    typo = write_config(tmp_path / "typo.yaml", {"name": "t", "serach": {}})
    heavy = _fresh_python(f"""
        import sys
        from shiftnas.cli import main
        for args in (["--help"], ["run", "--help"], ["run", {str(typo)!r}]):
            try:
                main(args)
            except SystemExit:
                pass
        print(sorted(m for m in ("torch", "numpy", "mlflow", "pymoo") if m in sys.modules))
    """)
    assert heavy.splitlines()[-1] == "[]"


def test_a_config_typo_is_one_line(tmp_path):
    typo = write_config(tmp_path / "typo.yaml", {"name": "t", "serach": {}})
    code, _, err = shiftnas("run", typo)
    one_line_error(code, err, "serach")


def test_an_old_spelling_that_is_refused_names_the_new_one(tmp_path):
    code, _, err = shiftnas("retrain", "--run-dir", tmp_path, "--arch-id", "abc")
    one_line_error(code, err, "--arch-id is now --arch", "--arch abc")
