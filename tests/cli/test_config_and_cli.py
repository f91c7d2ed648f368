import json
from pathlib import Path

import pytest
from cli_helpers import one_line_error, shiftnas

from shiftnas.errors import ShiftnasError
from shiftnas.pipeline.config import config_from_dict, load_config


def test_embedded_quickstart_loads_from_any_directory(tmp_path):
    config = load_config()
    assert config.name == "quickstart" and config.data.dataset == "digits"
    repo_copy = Path(__file__).resolve().parents[2] / "configs" / "quickstart.yaml"
    assert load_config(repo_copy) == config


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"supernet": {"epoch": 3}}, "supernet.epoch: unknown key 'epoch'; allowed keys here:"),
        (
            {"supernet": {"epochs": -1}},
            "supernet.epochs: Input should be greater than or equal to 1",
        ),
        ({"supernet": {"epochs": "many"}}, "supernet.epochs: Input should be a valid integer"),
        ({"data": {"dataset": "imagenet"}}, "data.dataset: Input should be 'shapes', 'digits'"),
        ({"data": {"dataset": "imagefolder"}}, "data.root is required"),
        ({"space": {"name": "mbv3", "layers": [{"channels": 8, "stride": 3}]}}, "stride"),
        ({"sede": 1}, "unknown key 'sede'"),
    ],
)
def test_bad_config_is_one_line_naming_the_key(data, expected):
    with pytest.raises(ShiftnasError) as info:
        config_from_dict(data, "my.yaml")
    message = str(info.value)
    assert expected in message and message.startswith("my.yaml")
    assert "\n" not in message


def test_unknown_key_lists_allowed_keys():
    with pytest.raises(ShiftnasError, match="epochs") as info:
        config_from_dict({"supernet": {"epoch": 3}})
    assert "batch_size" in str(info.value)


def test_yaml_syntax_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("data: [unclosed\n")
    with pytest.raises(ShiftnasError, match="not valid YAML at line"):
        load_config(path)


def test_cli_bad_inputs_exit_2_with_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a wrongly made runs/ folder would land
    bad = tmp_path / "typo.yaml"
    bad.write_text("supernet:\n  epocs: 2\n")
    missing_root = tmp_path / "noroot.yaml"
    missing_root.write_text(f"data:\n  dataset: imagefolder\n  root: {tmp_path / 'nowhere'}\n")
    empty = tmp_path / "empty"
    (empty / "train").mkdir(parents=True)
    (empty / "test").mkdir()
    no_classes = tmp_path / "noclasses.yaml"
    no_classes.write_text(f"data:\n  dataset: imagefolder\n  root: {empty}\n")
    arch = tmp_path / "arch.json"
    arch.write_text(json.dumps({"space": "mbv3", "genome": [0, 1, 2]}))
    cases = [
        (["supernet", "train", "--config", str(bad)], "unknown key 'epocs'"),
        (["supernet", "train", "--config", str(missing_root)], "does not exist"),
        (["supernet", "train", "--config", str(no_classes)], "no class sub-folders"),
        (["supernet", "train", "--config", str(tmp_path / "none.yaml")], "does not exist"),
        (["space", "describe", "resnet"], "unknown search space 'resnet'"),
    ]
    for args, expected in cases:
        code, _, err = shiftnas(*args)
        one_line_error(code, err, expected)


def test_cli_wrong_genome_length(tmp_path):
    from shiftnas.pipeline import RunDir

    run = RunDir(tmp_path / "run")
    run.bind(load_config())
    (run.stage("supernet")).mkdir(parents=True)
    (run.stage("supernet") / "checkpoint.pt").write_bytes(b"")
    arch = tmp_path / "arch.json"
    arch.write_text(json.dumps({"space": "mbv3", "genome": [0, 1, 2]}))
    code, _, err = shiftnas("eval", "inherited", "--run-dir", run.root, "--arch", arch)
    one_line_error(code, err, "genome has 3 genes but space 'mbv3' needs 4")


def test_space_describe_json():
    code, out, err = shiftnas("space", "describe", "mbv3", "--json")
    assert code == 0, err
    info = json.loads(out)
    assert len(info["candidates"]) == 13
    assert info["candidates"][11] == {
        "id": 11, "op": "mb_k7_e6_blur", "kernel": 7, "expand": 6, "filter": "with",
    }  # fmt: skip
    assert len(info["skeleton"]["layers"]) == 12
