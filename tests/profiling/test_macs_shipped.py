"""MACs of what ships (issue 13, kind 1): `count_macs` equals the multiply-adds of the exported
ONNX graph, counted independently from its Conv and Gemm nodes and their shapes."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from cli_helpers import one_line_error, shiftnas

from shiftnas.errors import ShiftnasError
from shiftnas.pipeline.config import config_from_dict
from shiftnas.profiling import count_macs
from shiftnas.runtime.onnx_io import export_onnx
from shiftnas.search import get_space

ISSUE_ARCH = "0-2-4-1-6-8-11-10-12-3-5-9"


def onnx_macs(model, shape) -> tuple[int, set[str]]:
    """Multiply-adds of the exported graph: a Conv costs out_elements * (cin/groups) * kh * kw,
    a Gemm out_elements * K; every other node (pooling, activations, Mul, Add, and the
    BatchNormalization that follows no Conv in nb201/darts) costs nothing.
    Shapes come from running the graph in ONNX Runtime with every Conv/Gemm output exposed."""
    graph = onnx.load_from_string(export_onnx(model, shape, dynamic_batch=False)).graph
    weights = {t.name: list(t.dims) for t in graph.initializer}
    weights.update({n.output[0]: list(n.attribute[0].t.dims) for n in graph.node
                    if n.op_type == "Constant"})  # fmt: skip
    costly = [n for n in graph.node if n.op_type in ("Conv", "Gemm")]
    graph.output.extend(onnx.ValueInfoProto(name=n.output[0]) for n in costly)
    session = ort.InferenceSession(graph_bytes(graph), providers=["CPUExecutionProvider"])
    outputs = session.run([n.output[0] for n in costly], {"input": np.zeros(shape, np.float32)})
    total = 0
    for node, out in zip(costly, outputs, strict=True):
        weight = weights[node.input[1]]
        if node.op_type == "Conv":
            total += out.size * int(np.prod(weight[1:]))
        else:
            trans_b = any(a.name == "transB" and a.i == 1 for a in node.attribute)
            total += out.size * weight[1 if trans_b else 0]
    return total, {node.op_type for node in graph.node}


def graph_bytes(graph) -> bytes:
    opset = onnx.helper.make_opsetid("", 17)
    return onnx.helper.make_model(graph, opset_imports=[opset]).SerializeToString()


def test_issue_example_counts_the_exported_network() -> None:
    space = get_space("mbv3")
    net = space.build(space.canonical(space.from_string(ISSUE_ARCH)))
    exported, ops = onnx_macs(net, (1, 3, 32, 32))
    assert "BatchNormalization" not in ops  # folded into the convolutions
    assert count_macs(net, (1, 3, 32, 32)) == exported == 47_302_912  # was 49,900,800


@pytest.mark.parametrize(
    ("name", "settings"),
    [
        ("nb201", {"channels": 4, "cells_per_stage": 1}),
        ("darts", {"channels": 4, "layers": 3}),
        ("macro", {"channels": 8}),
    ],
)
def test_every_space_counts_the_exported_network(name, settings) -> None:
    space = get_space(name, **settings)
    net = space.build(space.sample(np.random.default_rng(3)))
    exported, _ = onnx_macs(net, (1, 3, 32, 32))
    assert count_macs(net, (1, 3, 32, 32)) == exported > 0


def test_profile_macs_cli_gives_the_issue_figure() -> None:
    code, out, err = shiftnas("profile", "macs", "--arch", ISSUE_ARCH, "--json")
    assert code == 0, err
    assert json.loads(out)["macs"] == 47_302_912


def test_profile_flops_says_use_macs() -> None:
    one_line_error(*shiftnas("profile", "flops", "--arch", ISSUE_ARCH)[::2], "use macs")


@pytest.mark.parametrize(
    "section",
    [
        {"search": {"objectives": [{"name": "error"}, {"name": "flops"}]}},
        {"search": {"budgets": {"flops": 1e6}}},
        {"select": {"budgets": {"flops": 1e6}}},
    ],
)
def test_flops_in_a_config_says_use_macs(section) -> None:
    with pytest.raises(ShiftnasError, match="use macs"):
        config_from_dict(section)
    renamed = json.loads(json.dumps(section).replace("flops", "macs"))
    assert config_from_dict(renamed) is not None
