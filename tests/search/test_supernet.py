from collections import Counter

import numpy as np
import torch

from shiftnas.search import Arch
from shiftnas.search.bn import recalibrate_bn
from shiftnas.search.spaces import CANDIDATES
from shiftnas.search.supernet import Supernet, fair_paths, uniform_path
from shiftnas.training import TrainContext
from shiftnas.training.supernet import step_paths, supernet_step


def test_fair_paths_use_every_candidate_of_every_layer_once(tiny_space):
    paths = fair_paths(tiny_space, np.random.default_rng(0))
    assert len(paths) == 13
    for layer in range(tiny_space.num_layers):
        assert sorted(p.genome[layer] for p in paths) == list(range(13))
    assert len(uniform_path(tiny_space, np.random.default_rng(0))) == 1


def test_one_fair_step_runs_each_candidate_module_once_per_candidate(tiny_space):
    """Count real module calls during one training step: on the stride-2 layer each of the 13
    ops runs once; on the stride-1 layer an op and its filter twin are one module, run twice."""
    torch.manual_seed(0)
    supernet = Supernet(tiny_space)
    calls: Counter = Counter()
    for layer, ops in enumerate(supernet.layers):
        for key, op in ops.items():
            op.register_forward_hook(lambda *_, k=(layer, key): calls.update([k]))
    step = supernet_step(tiny_space, "fair", seed=0, label_smoothing=0.0)
    x, y = torch.randn(4, 3, 16, 16), torch.randint(0, 10, (4,))
    step(supernet, x, y, 0, TrainContext(torch.device("cpu"), amp=False))
    assert {calls[(1, str(g))] for g in range(13)} == {1}  # stride-2 layer: 13 distinct ops
    expected = Counter(str(tiny_space.canonical_gene(0, c.index)) for c in CANDIDATES)
    assert {k: calls[(0, k)] for k in expected} == dict(expected)
    # every op of every layer received a gradient from that single step
    for ops in supernet.layers:
        for op in ops.values():
            assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in op.parameters())


def _randomise_bn(module):
    generator = torch.Generator().manual_seed(1)
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=generator) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)


def test_extracted_network_equals_supernet_path(tiny_space):
    torch.manual_seed(0)
    supernet = Supernet(tiny_space)
    _randomise_bn(supernet)
    supernet.eval()
    x = torch.randn(8, 3, 16, 16)
    for genome in [(0, 1), (11, 12), (12, 7), (5, 4)]:
        arch = tiny_space.canonical(Arch("mbv3", genome))
        network = supernet.extract(arch).eval()
        assert type(network).__name__ == "Mbv3Network"
        with torch.no_grad():
            diff = (supernet(x, arch) - network(x)).abs().max().item()
        assert diff <= 1e-5
        # after recalibrating BN on the same batches, both still agree
        batches = [torch.randn(8, 3, 16, 16) for _ in range(3)]
        recalibrate_bn(network, network, batches)
        recalibrate_bn(supernet, lambda t, a=arch: supernet(t, a), batches)
        with torch.no_grad():
            assert (supernet(x, arch) - network(x)).abs().max().item() <= 1e-5


def test_extracted_network_owns_its_weights(tiny_space):
    supernet = Supernet(tiny_space)
    network = supernet.extract(Arch("mbv3", (0, 1)))
    with torch.no_grad():
        for p in network.parameters():
            p.add_(1.0)
    assert not torch.equal(network.stem[0].weight, supernet.stem[0].weight)


def _digest(module: torch.nn.Module) -> str:
    import hashlib

    h = hashlib.sha256()
    for key, value in module.state_dict().items():
        h.update(key.encode())
        h.update(value.detach().cpu().numpy().tobytes())
    return h.hexdigest()[:16]


def test_mbv3_supernet_is_bit_identical_to_the_mbv3_only_version(tiny_space):
    """Digests taken with the mbv3-only supernet (before the generic one replaced it), one
    thread: the same seed gives the same initial weights, paths and trained weights."""
    torch.manual_seed(0)
    net = Supernet(tiny_space)
    assert _digest(net) == "dd9b33ae965fa2ac"
    optimiser = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    generator = torch.Generator().manual_seed(5)
    for sampling in ("fair", "spos"):
        step = supernet_step(tiny_space, sampling, seed=3, label_smoothing=0.1)
        for s in range(3):
            x = torch.randn(8, 3, 16, 16, generator=generator)
            y = torch.randint(0, 10, (8,), generator=generator)
            optimiser.zero_grad()
            step(net, x, y, s, TrainContext(torch.device("cpu"), amp=False))
            optimiser.step()
    assert _digest(net) == "93104340555c2616"
    assert [str(a) for a in step_paths(tiny_space, "fair", 3, 7)][:3] == [
        "mbv3[7,6]", "mbv3[2,11]", "mbv3[9,12]",
    ]  # fmt: skip
    assert [str(a) for a in step_paths(tiny_space, "spos", 3, 7)] == ["mbv3[12,3]"]


def test_nbmacro_supernet_fair_paths_extract_and_one_step():
    """The same supernet serves nbmacro: 3 fair paths use each op of each layer once; an
    extracted network (canonical form) computes what its path computes; one fair step reaches
    every module that has weights."""
    from shiftnas.search import get_space

    space = get_space("nbmacro", stem_channels=4, head_channels=16)
    paths = fair_paths(space, np.random.default_rng(0))
    assert len(paths) == 3
    assert all(sorted(p.genome[i] for p in paths) == [0, 1, 2] for i in range(8))
    torch.manual_seed(0)
    supernet = Supernet(space)
    assert [len(ops) for ops in supernet.layers] == [3] * 8
    _randomise_bn(supernet)
    supernet.eval()
    x = torch.randn(4, 3, 32, 32)
    for text in ("12012012", "10201020", "00000000"):
        arch = space.from_string(text)
        network = supernet.extract(arch).eval()
        assert type(network).__name__ == "NbMacroNetwork"
        with torch.no_grad():
            assert (supernet(x, space.canonical(arch)) - network(x)).abs().max().item() <= 1e-5
    supernet.train()
    step = supernet_step(space, "fair", seed=0, label_smoothing=0.0)
    step(supernet, x, torch.randint(0, 10, (4,)), 0, TrainContext(torch.device("cpu"), amp=False))
    for ops in supernet.layers:
        for op in ops.values():
            params = list(op.parameters())
            assert not params or any(p.grad is not None and p.grad.abs().sum() > 0 for p in params)


def test_a_space_without_the_capability_is_refused_in_one_line(tmp_path):
    import pytest

    from shiftnas.errors import ShiftnasError
    from shiftnas.search import get_space
    from shiftnas.search.supernet import load_supernet

    with pytest.raises(ShiftnasError) as caught:
        load_supernet(get_space("nb201"), tmp_path / "checkpoint.pt")
    message = str(caught.value)
    assert "\n" not in message and "spaces with one: mbv3, nbmacro" in message
