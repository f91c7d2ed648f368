"""What the command tells about itself: its version, the spaces and estimators it has, and no
warnings of the libraries it imports."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import tomllib
from cli_helpers import shiftnas, subprocess_shiftnas, tiny_run_config, write_config

from shiftnas.cli.catalog import UNDESCRIBED
from shiftnas.search import list_spaces
from shiftnas.search.evaluators import list_evaluators

REPO = Path(__file__).resolve().parents[2]


def test_version_is_the_installed_distributions():
    code, out, err = shiftnas("--version")
    assert code == 0, err
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert out.strip() == f"shiftnas {version('shiftnas')}" == f"shiftnas {declared}"


def test_space_list_gives_each_space_its_line_and_capabilities():
    code, out, err = shiftnas("space", "list", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert list(rows) == list_spaces()
    # the layer-chain spaces have the supernet; only mbv3 has filter / no-filter twins
    assert {n: (r["supernet"], r["filter_twins"]) for n, r in rows.items()} == {
        "darts": (False, False), "macro": (False, False), "mbv3": (True, True),
        "nbmacro": (True, False), "nb201": (False, False),
    }  # fmt: skip
    assert all(r["description"] != UNDESCRIBED.description for r in rows.values())
    assert "arXiv:2001.00326" in rows["nb201"]["source"]  # NAS-Bench-201
    code, out, _ = shiftnas("space", "list")
    mbv3 = next(line for line in out.splitlines() if "mbv3" in line)
    assert [cell.strip() for cell in mbv3.split("│")[1:4]] == ["mbv3", "yes", "yes"]


def test_estimators_lists_every_registered_one_with_its_source():
    code, out, err = shiftnas("estimators", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert list(rows) == list_evaluators()
    assert all(r["description"] != UNDESCRIBED.description and r["source"] for r in rows.values())
    assert "arXiv:2006.04647" in rows["naswot"]["source"]  # Mellor et al. 2021
    assert "arXiv:2006.05467" in rows["synflow"]["source"]  # Tanaka et al. 2020
    code, out, _ = shiftnas("estimators")
    assert code == 0 and all(name in out for name in list_evaluators())


def test_no_deprecation_warning_on_stderr(tmp_path):
    """A fresh process: a warning raised while a library is first imported shows once per
    process. `profile macs` imports fvcore.nn, whose focal_loss calls the deprecated
    `torch.jit.script` on import."""
    config = write_config(tmp_path / "tiny.yaml", tiny_run_config())
    done = subprocess_shiftnas("profile", "macs", "-c", config, "--arch", "0-0", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["macs"] > 0
    assert "Warning" not in done.stderr and "jit.script" not in done.stderr, done.stderr
