"""The additive surrogate: recovers a score that is a sum over genes, keeps real ties, resumes
a killed fit without scoring a network twice."""

import json

import numpy as np
import pytest

from shiftnas.files import read_jsonl
from shiftnas.search import get_space
from shiftnas.search.surrogate import AdditiveSurrogate, fit_surrogate, sample_distinct

# a made-up contribution of each (layer, op) of nbmacro: op 0 identity, 1 MB k3e3, 2 MB k5e6
WEIGHT = np.array([
    [0.0, 1.0, 3.0], [0.0, 2.0, 2.5], [0.0, 0.5, 4.0], [0.0, 1.5, 1.5],
    [0.0, 2.0, 3.0], [0.0, 1.0, 1.0], [0.0, 3.0, 5.0], [0.0, 0.5, 0.25],
])  # fmt: skip


def by_hand(space, arch) -> float:
    genome = space.canonical(arch).genome
    return 10.0 + float(sum(WEIGHT[layer, op] for layer, op in enumerate(genome)))


def test_recovers_an_additive_score_on_networks_it_never_saw():
    space = get_space("nbmacro")
    fit_on = sample_distinct(space, 60, seed=0)
    model = AdditiveSurrogate(space, ridge=1e-9).fit(fit_on, [by_hand(space, a) for a in fit_on])
    seen = {a.id for a in fit_on}
    unseen = [a for a in sample_distinct(space, 200, seed=1) if a.id not in seen][:50]
    assert len(unseen) == 50
    assert model.predict(unseen) == pytest.approx([by_hand(space, a) for a in unseen], abs=1e-6)
    # equal sums are equal predictions (a real tie, kept): 1.0 + 2.0 against 3.0
    c, d = space.from_string("11000000"), space.from_string("20000000")
    assert by_hand(space, c) == by_hand(space, d)
    pc, pd = model.predict([c, d])
    assert pc == pd


def test_ridge_shrinks_toward_the_mean_and_too_few_networks_is_an_error():
    space = get_space("nbmacro")
    archs = sample_distinct(space, 40, seed=2)
    y = [by_hand(space, a) for a in archs]
    loose = AdditiveSurrogate(space, ridge=1e-9).fit(archs, y).predict(archs)
    tight = AdditiveSurrogate(space, ridge=1e6).fit(archs, y).predict(archs)
    assert np.std(tight) < 0.01 * np.std(loose)
    assert np.mean(tight) == pytest.approx(np.mean(y))
    with pytest.raises(ValueError, match="needs >= 2 networks"):
        AdditiveSurrogate(space).fit(archs[:1], y[:1])


def test_a_killed_fit_resumes_and_scores_each_network_once(tmp_path):
    space = get_space("nbmacro")
    calls: list[str] = []

    def score(archs):
        calls.extend(space.to_string(a) for a in archs)
        return [by_hand(space, a) for a in archs]

    path = tmp_path / "fit.jsonl"
    first = fit_surrogate(space, score, 30, seed=5, scored_path=path, progress=False)
    assert len(calls) == 30 and len(list(read_jsonl(path))) == 30
    # a kill after 12 networks: the rest is scored on the next call, nothing twice
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:12]) + "\n")
    calls.clear()
    again = fit_surrogate(space, score, 30, seed=5, scored_path=path, progress=False)
    assert len(calls) == 18 and not set(calls) & {json.loads(x)["arch"] for x in lines[:12]}
    probe = sample_distinct(space, 10, seed=9)
    assert first.predict(probe) == again.predict(probe)
