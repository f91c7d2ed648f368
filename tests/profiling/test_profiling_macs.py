"""MACs and parameters: the count of a tiny network against a count by hand."""

from __future__ import annotations

import json

from shiftnas.profiling import count_params, network_cost
from shiftnas.profiling.macs import layer_costs
from shiftnas.search import Arch, get_space


def tiny_space():
    return get_space(
        "mbv3",
        layers=[{"channels": 8, "stride": 2}],
        head_channels=16,
        stem_channels=4,
        input_size=8,
        num_classes=3,
    )


def test_macs_equal_a_hand_count() -> None:
    net = tiny_space().build(Arch("mbv3", (12,)))  # stem, one strided conv1x1, head
    # conv = cin*k*k*cout per output pixel; linear = in*out; BatchNorm (folded at export),
    # global average pooling and hardswish = 0.
    stem = 3 * 3 * 3 * 4 * 8 * 8
    layer = 4 * 8 * 4 * 4  # stride 2: 8x8 -> 4x4
    head = 8 * 16 * 4 * 4 + 16 * 3
    cost = network_cost(net, (1, 3, 8, 8))
    assert cost.macs == stem + layer + head == 9520
    params = (3 * 9 * 4 + 2 * 4) + (4 * 8 + 2 * 8) + (8 * 16 + 2 * 16) + (16 * 3 + 3)
    assert cost.params == count_params(net) == params


def test_layer_costs_add_up_to_the_network() -> None:
    space = get_space(
        "mbv3", layers=[{"channels": 8, "stride": 1}, {"channels": 16, "stride": 2}], input_size=16
    )
    net = space.build(Arch("mbv3", (4, 9)))
    rows = layer_costs(net, (1, 3, 16, 16))
    assert [name for name, _ in rows] == ["stem", "layers.0", "layers.1", "head"]
    total = network_cost(net, (1, 3, 16, 16))
    assert sum(c.macs for _, c in rows) == total.macs
    assert sum(c.params for _, c in rows) == total.params
    assert all(c.macs > 0 and c.params > 0 for _, c in rows)


def test_profile_macs_cli_json(tmp_path) -> None:
    from cli_helpers import shiftnas

    arch = tmp_path / "a.json"
    arch.write_text(json.dumps({"space": "mbv3", "genome": [12] * 12}))
    code, printed, err = shiftnas("profile", "macs", "--arch", arch, "--json")
    assert code == 0, err
    out = json.loads(printed)
    assert "flops" not in out and out["macs"] > 0
    assert len(out["layers"]) == 14 and out["layers"][1]["op"] == "conv1x1"
    assert sum(row["macs"] for row in out["layers"]) == out["macs"]
