"""One spelling of a config (`--config/-c`), of an architecture (`--arch`) and one default space
in every command."""

from __future__ import annotations

import json

import pytest
import yaml
from cli_helpers import one_line_error, shiftnas, tiny_run_config, write_config
from PIL import Image

from shiftnas.pipeline.config import load_config
from shiftnas.search import Arch, get_space
from shiftnas.search.nsga.archive import Archive


@pytest.fixture
def tiny(tmp_path):
    """A valid tiny config: mbv3 with layers (8 ch, stride 1) and (16 ch, stride 2), 16 px."""
    return write_config(tmp_path / "tiny.yaml", tiny_run_config())


def test_run_takes_the_config_as_argument_or_option_not_both(tmp_path, monkeypatch, tiny):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "typo.yaml"
    bad.write_text("supernet:\n  epocs: 2\n")
    lines = {one_line_error(*shiftnas("run", *spelling)[::2], "unknown key 'epocs'")
             for spelling in ([bad], ["-c", bad], ["--config", bad])}  # fmt: skip
    assert len(lines) == 1  # the three spellings read the same file
    one_line_error(*shiftnas("run", tiny, "-c", bad)[::2],
                   f"two configs given ({tiny} and --config {bad}): pass one of them")  # fmt: skip
    assert not (tmp_path / "runs").exists()  # refused before anything ran


@pytest.mark.parametrize(
    "command",
    [["run"], ["search"], ["supernet", "train"], ["space", "describe"],
     ["profile", "macs", "--arch", "0-0"], ["profile", "latency", "--arch", "0-0"],
     ["lut", "build", "--out", "lut.json"], ["eval", "params", "--arch", "0-0"]],
)  # fmt: skip
def test_every_command_that_reads_a_config_takes_dash_c(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "missing.yaml"
    one_line_error(*shiftnas(*command, "-c", missing)[::2], f"config file {missing} does not exist")


def run_with_archive(tmp_path, tiny, arch: Arch):
    """A run folder holding the tiny config and a search archive with one network."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(tiny.read_text())
    (run / "search").mkdir()
    Archive(run / "search" / "archive.jsonl").add(arch, "4-7", {"params": 1.0}, generation=0)
    return run


def test_each_arch_form_names_the_same_network(tmp_path, tiny):
    arch = Arch("mbv3", (4, 7))
    run = run_with_archive(tmp_path, tiny, arch)
    (tmp_path / "a.json").write_text(json.dumps(arch.to_json()))
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(arch.to_json()))
    # 5-7: gene 5 is gene 4 with the filter, which layer 0 (stride 1) drops: the same network
    forms = [arch.id, "4-7", "5-7", tmp_path / "a.json", tmp_path / "a.yaml"]
    shown = []
    for form in forms:
        code, out, err = shiftnas("profile", "macs", "--run-dir", run, "--arch", form, "--json")
        assert code == 0, (form, err)
        shown.append({k: v for k, v in json.loads(out).items() if k in ("id", "arch", "macs")})
    assert shown[0]["id"] == arch.id and shown[0]["arch"]["genome"] == [4, 7]
    assert all(s == shown[0] for s in shown), shown


def test_a_bad_arch_is_one_line_naming_what_was_tried(tmp_path, tiny):
    run = run_with_archive(tmp_path, tiny, Arch("mbv3", (4, 7)))
    macs = ("profile", "macs", "-c", tiny, "--arch")
    one_line_error(*shiftnas(*macs, "zz-1")[::2],
                   "--arch zz-1 is no file, no architecture id (12 hex digits) and not a genome "
                   "of space 'mbv3' ('zz-1' is not an mbv3 architecture")  # fmt: skip
    one_line_error(*shiftnas(*macs, "0123456789ab")[::2], "looks like an architecture id",
                   "pass --run-dir D too")  # fmt: skip
    code, _, err = shiftnas("profile", "macs", "--run-dir", run, "--arch", "0123456789ab")
    one_line_error(code, err, f"no architecture with this id in {run / 'search/archive.jsonl'}")
    code, _, err = shiftnas("profile", "macs", "--run-dir", run, "-c", tiny, "--arch", "0-0")
    one_line_error(code, err, "--run-dir brings its own config: drop --config or --run-dir")
    long = "1-" * 150  # longer than a file name may be: a bad genome, not an OS error
    one_line_error(*shiftnas(*macs, long)[::2], f"--arch {long} is no file")
    broken = tmp_path / "broken.yaml"
    broken.write_text("space: [mbv3\n")
    one_line_error(*shiftnas(*macs, broken)[::2], f"{broken} is not valid YAML at line 2")
    other = write_config(tmp_path / "nb.yaml", {"space": "nb201", "genome": [0] * 6})
    one_line_error(*shiftnas(*macs, other)[::2], "belongs to space 'nb201', not 'mbv3'")


def image_folder(root, classes: int, size: int = 8):
    """train/ and test/ with `classes` class folders of 5 and 2 flat-grey PNGs."""
    for split, count in (("train", 5), ("test", 2)):
        for c in range(classes):
            folder = root / split / f"class{c}"
            folder.mkdir(parents=True)
            for i in range(count):
                Image.new("RGB", (size, size), (40 * c, 10 * i, 0)).save(folder / f"{i}.png")
    return root


def test_default_space_is_mbv3_else_the_configs(tmp_path, tiny):
    code, out, err = shiftnas("space", "describe", "--json")
    assert code == 0, err
    assert json.loads(out)["space"] == "mbv3" and len(json.loads(out)["skeleton"]["layers"]) == 12
    code, out, err = shiftnas("eval", "params", "--arch", "-".join(["0"] * 12))
    assert code == 0, err
    assert "0-0-0-0-0-0-0-0-0-0-0-0" in out  # an mbv3 genome: nb201 (the old default) refuses it
    one_line_error(*shiftnas("profile", "macs", "--arch", "0-0")[::2],
                   "genome has 2 genes but space 'mbv3' needs 12")  # fmt: skip
    code, out, err = shiftnas("profile", "macs", "-c", tiny, "--arch", "0-0", "--json")
    assert code == 0, err
    assert json.loads(out)["input_shape"] == [1, 3, 16, 16]  # the config's skeleton
    code, out, err = shiftnas("eval", "params", "-c", tiny, "--arch", "0-0")
    assert code == 0, err
    tiny_space = get_space("mbv3", load_config(tiny).space, num_classes=10)  # shapes: 10 classes
    params = sum(p.numel() for p in tiny_space.build(Arch("mbv3", (0, 0))).parameters())
    assert f"params={-params:.6g}" in out
    config = tiny_run_config(data={"dataset": "imagefolder", "root": str(image_folder(
        tmp_path / "images", classes=3))})  # fmt: skip
    config["space"]["input_size"] = 8
    code, out, err = shiftnas("space", "describe", "-c", write_config(tmp_path / "f.yaml", config),
                              "--json")  # fmt: skip
    assert code == 0, err
    skeleton = json.loads(out)["skeleton"]
    assert skeleton["num_classes"] == 3  # read from the image folder, not the default 10
    assert [(x["in"], x["out"], x["stride"], x["input_size"]) for x in skeleton["layers"]] == [
        (8, 8, 1, 8), (8, 16, 2, 8),
    ]  # fmt: skip


def test_a_space_or_data_option_the_config_contradicts_is_refused(tmp_path, tiny):
    contradiction = "--space nb201 contradicts the config's space 'mbv3': drop --space"
    for command in (
        ["eval", "params", "--arch", "0-0"],
        ["lut", "build", "--out", "l.json"],
        ["profile", "macs", "--arch", "0-0"],
        ["space", "describe", "nb201"],
    ):
        spelled = [*command, "--space", "nb201"] if command[0] != "space" else command
        one_line_error(*shiftnas(*spelled, "-c", tiny)[::2], contradiction)
    one_line_error(*shiftnas("eval", "params", "-c", tiny, "--dataset", "shapes", "--arch",
                             "0-0")[::2], "--config sets the data")  # fmt: skip
    assert not (tmp_path / "l.json").exists()
