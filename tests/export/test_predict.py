"""`shiftnas predict` (issue 26): raw photos through the card's recipe with onnxruntime give the
predictions of the PyTorch network on the pipeline's own decoded images; bad input is one line."""

from __future__ import annotations

import sys

import numpy as np
import torch
from cli_helpers import one_line_error, shiftnas
from own_data_helpers import mixed_folder

from shiftnas.data import iterate_batches, load_data, normalize
from shiftnas.data.settings import DataConfig
from shiftnas.export import export_network
from shiftnas.export.settings import ExportConfig
from shiftnas.search import get_space

SKELETON = {"stem_channels": 8, "head_channels": 16, "input_size": 16, "num_classes": 2,
            "layers": [{"channels": 8, "stride": 1}, {"channels": 16, "stride": 2}]}  # fmt: skip


def _exported(tmp_path, policy="pad"):
    folder = mixed_folder(tmp_path / "photos", per_class=9)
    space = get_space("mbv3", **SKELETON)
    config = DataConfig(dataset="imagefolder", root=folder, resize=policy, pad_fill=90)
    data = load_data(config, 0, space.settings)
    torch.manual_seed(0)
    model = space.build(space.sample(np.random.default_rng(0))).eval()
    export_network(model, {"id": "net"}, data, tmp_path / "run" / "export" / "net", ExportConfig())
    return folder, data, model


def test_predict_gives_the_pytorch_predictions_on_the_pipelines_images(tmp_path):
    folder, data, model = _exported(tmp_path)
    # the pipeline's own view of the test photos: decoded into the cache, in file order
    test = data.test.subset(torch.argsort(data.test.rows))
    with torch.no_grad():
        expected = torch.cat([
            model(normalize(x, data.mean, data.std, "cpu")).argmax(1)
            for x, _ in iterate_batches(test, 64)
        ])  # fmt: skip
    files = sorted((folder / "test").rglob("*.*"))  # class folder, then name: the cache's order
    code, out, err = shiftnas("predict", "--run-dir", tmp_path / "run", *files)
    assert code == 0, err
    got = [line.split("\t")[1] for line in out.strip().splitlines()]
    assert got == [data.test.classes[i] for i in expected.tolist()]
    probabilities = [float(line.split("\t")[2]) for line in out.strip().splitlines()]
    assert all(0.5 <= p <= 1.0 for p in probabilities)  # two classes: the top one is >= 1/2
    code, again, _ = shiftnas("predict", "--model", tmp_path / "run" / "export" / "net", *files)
    assert code == 0 and again == out


def test_bad_input_to_predict_is_one_line(tmp_path):
    folder, _, _ = _exported(tmp_path)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    good = next((folder / "test" / "red").iterdir())
    code, _, err = shiftnas("predict", "--run-dir", tmp_path / "run", good, broken,
                            tmp_path / "missing.png")  # fmt: skip
    line = one_line_error(code, err, "2 of 3 images cannot be classified")
    assert str(broken) in line and "missing.png" in line
    code, _, err = shiftnas("predict", "--run-dir", tmp_path / "empty", good)
    one_line_error(code, err, "no exported model")
    code, _, err = shiftnas("predict", good)
    one_line_error(code, err, "exactly one of --run-dir D or --model DIR")


def test_predict_without_onnxruntime_is_one_line(tmp_path, monkeypatch):
    _, _, _ = _exported(tmp_path)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # the import fails
    photo = next((tmp_path / "photos" / "test" / "red").iterdir())
    code, _, err = shiftnas("predict", "--run-dir", tmp_path / "run", photo)
    one_line_error(code, err, "pip install 'shiftnas[cpu]'")
