"""nbmacro: the NAS-Bench-Macro space reproduces the benchmark's params and MACs ("flops") for all
3,969 distinct networks; canonical form and genome strings as the benchmark writes them."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch
from conftest import SHARED, needs_shared

from shiftnas.errors import ShiftnasError
from shiftnas.profiling.macs import layer_costs, network_cost
from shiftnas.search import Arch, get_space

BENCH = SHARED / "benchmarks" / "nas-bench-macro" / "nas-bench-macro_cifar10.json"


@pytest.fixture(scope="module")
def bench() -> dict:
    return json.loads(BENCH.read_text())


def test_hand_counted_all_identity_network() -> None:
    """00000000 by hand: stem 3*32*9 + BN 64; the three stage-opening identities are strided 1x1
    convs 32->64, 64->128, 128->256 + BN; head 1x1 256->1280 + BN, linear 1280->10 + bias."""
    space = get_space("nbmacro")
    params = (864 + 64) + (2048 + 128) + (8192 + 256) + (32768 + 512) + (327680 + 2560) + 12810
    macs = 1024 * 864 + 256 * 2048 + 64 * 8192 + 16 * 32768 + 16 * 327680 + 12800
    cost = network_cost(space.build(space.from_string("00000000")), (1, 3, 32, 32))
    assert (cost.macs, cost.params) == (macs, params) == (7713280, 387882)


def test_canonical_moves_identities_behind_within_each_stage() -> None:
    space = get_space("nbmacro")
    canon = lambda s: space.to_string(space.canonical(space.from_string(s)))  # noqa: E731
    assert canon("10201020") == "10210020"  # stage 2: 2,0,1 -> 2,1,0; stage 3: 0,2,0 -> 0,2,0
    assert canon("01000102") == "01000120"
    assert canon("00000000") == "00000000"  # stage-opening identities stay (they subsample)
    genomes = itertools.product(range(3), repeat=8)
    assert len({space.canonical(Arch("nbmacro", g)) for g in genomes}) == 3969


def test_strings_round_trip_and_bad_strings_are_one_line() -> None:
    space = get_space("nbmacro")
    for genome in itertools.product(range(3), repeat=8):
        arch = Arch("nbmacro", genome)
        assert space.from_string(space.to_string(arch)) == arch
    for bad in ("0120", "012000003", "01200a00", "0-1-2-0-0-0-0-0"):
        with pytest.raises(ShiftnasError, match="nbmacro architecture"):
            space.from_string(bad)


@pytest.mark.shared
@needs_shared
def test_params_and_macs_equal_the_benchmark_for_all_3969_networks(bench: dict) -> None:
    """Every (layer, op) is counted once on the real modules with fvcore; each network's cost is
    their sum, checked against the benchmark for all 3,969 canonical genomes, and end to end
    (fvcore on the whole built network) for 40 of them, so the sum is checked too."""
    space = get_space("nbmacro")
    part: dict[tuple[str, int], tuple[int, int]] = {}
    for gene in range(3):
        for name, cost in layer_costs(space.build(Arch("nbmacro", (gene,) * 8)), (1, 3, 32, 32)):
            part[(name, gene)] = (cost.macs, cost.params)
    canonical = {space.canonical(space.from_string(key)) for key in bench}
    assert len(canonical) == 3969
    for arch in canonical:
        names = ["stem", *(f"layers.{i}" for i in range(8)), "head"]
        genes = [0, *arch.genome, 0]
        macs = sum(part[(n, g)][0] for n, g in zip(names, genes, strict=True))
        params = sum(part[(n, g)][1] for n, g in zip(names, genes, strict=True))
        record = bench[space.to_string(arch)]
        assert (macs, params) == (record["flops"], record["params"]), space.to_string(arch)
    rng = np.random.default_rng(0)
    ordered = sorted(canonical, key=str)
    for index in rng.choice(len(ordered), 40, replace=False):
        arch = ordered[index]
        cost = network_cost(space.build(arch), (1, 3, 32, 32))
        record = bench[space.to_string(arch)]
        assert (cost.macs, cost.params) == (record["flops"], record["params"])


@pytest.mark.shared
@needs_shared
def test_every_key_carries_the_record_of_its_canonical_form(bench: dict) -> None:
    space = get_space("nbmacro")
    for key, record in bench.items():
        assert bench[space.to_string(space.canonical(space.from_string(key)))] == record


def test_forward_shapes_and_residuals() -> None:
    space = get_space("nbmacro")
    net = space.build(space.from_string("12012012")).eval()
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    blocks = [m for m in net.layers if hasattr(m, "use_residual")]
    assert [b.use_residual for b in blocks] == [
        False,
        True,
        True,
        True,
        True,
        True,
    ]  # 6 blocks; only layer 0 subsamples
