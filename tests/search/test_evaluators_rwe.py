"""RWE: deterministic under a seed, far below chance on shapes for a reasonable network."""

from __future__ import annotations

import numpy as np
import pytest

from shiftnas.data import load_data
from shiftnas.data.settings import DataConfig, ShapesConfig
from shiftnas.search import Arch, get_space
from shiftnas.search.evaluators import get_evaluator


@pytest.fixture(scope="module")
def shapes():
    cfg = DataConfig(
        dataset="shapes", shapes=ShapesConfig(train_size=320, test_size=20, image_size=16)
    )
    return load_data(cfg, seed=0)


@pytest.fixture(scope="module")
def space():
    return get_space("nb201", channels=8, cells_per_stage=1, input_size=16)


CONVS = Arch("nb201", (3, 3, 3, 3, 3, 3))
NOTHING = Arch("nb201", (0, 0, 0, 0, 0, 0))


def test_rwe_deterministic_and_better_than_chance(shapes, space) -> None:
    # grid=1: 168 features for 256 images, so the probe cannot fit any labels by sheer width.
    kw = dict(
        space=space, data=shapes, seed=3, train_images=256, grid=1, proxy={},
        objective="train_error",
    )  # fmt: skip
    first = get_evaluator("rwe", **kw).evaluate([CONVS, NOTHING])
    second = get_evaluator("rwe", **kw).evaluate([NOTHING, CONVS])
    assert first == second[::-1]  # same seed, same scores, in any order
    assert first[0] < 0.4  # the probe's error; chance is 0.9 on 10 balanced classes
    assert first[1] > 0.8  # a cell that outputs zeros gives features with no information
    other_seed = get_evaluator("rwe", **{**kw, "seed": 4}).evaluate([CONVS])
    assert other_seed != first[:1]


def test_rwe_default_scores_the_training_fit_by_squared_error(shapes, space) -> None:
    kw = dict(space=space, data=shapes, seed=3, train_images=256, grid=1, proxy={})
    convs, nothing = get_evaluator("rwe", **kw).evaluate([CONVS, NOTHING])
    # one-hot targets of 10 balanced classes: predicting the class mean costs 1 - 1/10 = 0.9
    assert nothing == pytest.approx(0.9, abs=0.01)
    assert convs < 0.7


def test_rwe_val_error_objective(shapes, space) -> None:
    kw = dict(space=space, data=shapes, seed=0, train_images=256, val_images=64, proxy={})
    ev = get_evaluator("rwe", objective="val_error", grid=1, **kw)
    convs, nothing = ev.evaluate([CONVS, NOTHING])
    # Held-out error of random features on shapes is near chance (README): only check the range.
    assert 0.0 <= convs <= 1.0 and nothing > 0.8


def test_rwe_paper_runs_as_published(shapes, space) -> None:
    ev = get_evaluator(
        "rwe_paper", space=space, data=shapes, seed=0, train_images=256, val_images=64
    )
    assert ev.probe == "sgd" and ev.init == "default" and ev.taps == "last"
    score = ev.evaluate([CONVS])[0]
    n_val = len(ev.splits()[1])
    assert 0.0 <= score <= 1.0 and abs(score * n_val - round(score * n_val)) < 1e-4  # a count


def test_rwe_on_every_space(shapes) -> None:
    for name, kw in [("darts", dict(channels=4, layers=3)), ("macro", dict(channels=4, nodes=3))]:
        s = get_space(name, input_size=16, **kw)
        ev = get_evaluator(
            "rwe", space=s, data=shapes, seed=0, train_images=128, val_images=64, proxy={}
        )
        assert 0.0 <= ev.evaluate([s.sample(np.random.default_rng(0))])[0] < 1.0


def test_rwe_says_when_the_split_is_smaller_than_asked(shapes, space, caplog) -> None:
    train = len(shapes.train)  # 320 minus the validation share
    ev = get_evaluator("rwe", space=space, data=shapes, seed=0, train_images=10_000, proxy={})
    with caplog.at_level("WARNING", logger="shiftnas.search"):
        got, _ = ev.splits()
    assert len(got) == train
    assert f"the train split has {train} images, fewer than the 10000 asked for" in caplog.text
    caplog.clear()
    enough = get_evaluator("rwe", space=space, data=shapes, seed=0, train_images=train, proxy={})
    with caplog.at_level("WARNING", logger="shiftnas.search"):
        enough.splits()
    assert caplog.text == ""  # the validation split is not used by the default objective
