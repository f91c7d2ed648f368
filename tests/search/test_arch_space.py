import json

import numpy as np
import pytest

from shiftnas.errors import ShiftnasError
from shiftnas.search import Arch, get_space, list_spaces
from shiftnas.search.spaces import CANDIDATES, CONV1X1


def test_table_one():
    assert len(CANDIDATES) == 13
    assert [c.index for c in CANDIDATES] == list(range(13))
    assert (CANDIDATES[5].kernel, CANDIDATES[5].expand, CANDIDATES[5].blur) == (7, 3, True)
    assert (CANDIDATES[8].kernel, CANDIDATES[8].expand, CANDIDATES[8].blur) == (5, 6, False)
    assert CANDIDATES[CONV1X1].is_conv1x1


def test_arch_json_roundtrip_and_stable_id(tmp_path):
    arch = Arch("mbv3", (1, 2, 12))
    path = tmp_path / "a.json"
    path.write_text(json.dumps(arch.to_json()))
    loaded = Arch.load(path)
    assert loaded == arch and loaded.id == arch.id
    assert arch.id == Arch("mbv3", [1, 2, 12]).id  # list or tuple, same value
    assert arch.id != Arch("mbv3", (1, 2, 11)).id
    assert arch.id == "04397a54df62"  # golden: ids must stay stable across releases


def test_canonical_drops_filter_on_stride_one_layers(tiny_space):
    # tiny space: layer 0 stride 1, layer 1 stride 2
    arch = Arch("mbv3", (3, 3))
    canonical = tiny_space.canonical(arch)
    assert canonical.genome == (2, 3)
    assert tiny_space.canonical(Arch("mbv3", (2, 3))).id == canonical.id
    assert tiny_space.canonical(Arch("mbv3", (CONV1X1, CONV1X1))).genome == (CONV1X1, CONV1X1)
    assert tiny_space.without_filter(Arch("mbv3", (3, 3))).genome == (2, 2)
    assert tiny_space.with_filter(Arch("mbv3", (2, 2))).genome == (2, 3)


def test_build_is_standalone_and_runs(tiny_space):
    import torch

    network = tiny_space.build(Arch("mbv3", (11, 5)))
    out = network.eval()(torch.randn(2, 3, 16, 16))
    assert out.shape == (2, 10)
    names = {type(m).__name__ for m in network.modules()}
    assert "BlurPool" in names and "SqueezeExcite" in names


@pytest.mark.parametrize(
    ("genome", "message"),
    [((1, 2, 3), "needs 2"), ((0, 13), "outside [0, 12]"), ((-1, 0), "outside")],
)
def test_bad_genomes_are_refused_in_one_line(tiny_space, genome, message):
    with pytest.raises(
        ShiftnasError, match=message.replace("[", r"\[").replace("]", r"\]")
    ) as info:
        tiny_space.canonical(Arch("mbv3", genome))
    assert "\n" not in str(info.value)


def test_string_form_roundtrip(tiny_space):
    arch = Arch("mbv3", (4, 12))
    assert tiny_space.from_string(tiny_space.to_string(arch)) == arch
    with pytest.raises(ShiftnasError, match="joined by '-'"):
        tiny_space.from_string("a-b")


def test_sampling_is_seeded_and_canonical():
    space = get_space("mbv3")
    a = [space.sample(np.random.default_rng(3)) for _ in range(2)]
    assert a[0] == a[1]
    assert space.canonical(a[0]) == a[0]
    assert "mbv3" in list_spaces()


def test_default_skeleton_is_in_the_papers_regime():
    from shiftnas.profiling import count_params

    space = get_space("mbv3")
    rng = np.random.default_rng(0)
    params = [count_params(space.build(space.sample(rng))) for _ in range(8)]
    assert 0.4e6 < float(np.median(params)) < 1.2e6


def test_unknown_space():
    with pytest.raises(ShiftnasError, match="unknown search space 'nope'"):
        get_space("nope")
