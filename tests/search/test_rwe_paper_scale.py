"""Why the published RWE learnt nothing on deep networks (issue #25), and the fix.

PyTorch's default init with BatchNorm in eval mode shrinks the signal at every convolution, so a
deeper network hands the linear probe smaller features, and an SGD probe with a fixed learning
rate does not move on features of size 1e-4: chance error. Dividing the features by their overall
standard deviation removes the scale and nothing else.
"""

from __future__ import annotations

import torch

from shiftnas.data import load_data
from shiftnas.data.settings import DataConfig, ShapesConfig
from shiftnas.search import get_space
from shiftnas.search.evaluators import get_evaluator
from shiftnas.search.evaluators.features import initialise, tap_modules
from shiftnas.search.evaluators.probe import rescale, sgd_ensemble_error


def blobs(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """10 well-separated Gaussian classes in 32 dimensions, `n` points each class."""
    g = torch.Generator().manual_seed(seed)
    centres = 3.0 * torch.randn(10, 32, generator=torch.Generator().manual_seed(99))
    labels = torch.arange(10).repeat_interleave(n)
    return centres[labels] + torch.randn(len(labels), 32, generator=g), labels


def probe_error(
    train: torch.Tensor, val: torch.Tensor, ty: torch.Tensor, vy: torch.Tensor
) -> float:
    return sgd_ensemble_error(train, ty, val, vy, 10, torch.Generator().manual_seed(0))


def test_an_sgd_probe_on_tiny_features_learns_nothing_and_rescaling_restores_it() -> None:
    (tx, ty), (vx, vy) = blobs(40, 0), blobs(20, 1)
    learnt = probe_error(tx, vx, ty, vy)
    assert learnt < 0.1  # separable classes: the probe learns them
    tiny = probe_error(tx * 1e-4, vx * 1e-4, ty, vy)
    assert tiny >= 0.8  # chance on 10 balanced classes is 0.9: nothing learnt
    restored = probe_error(*rescale(tx * 1e-4, vx * 1e-4), ty, vy)
    assert abs(restored - probe_error(*rescale(tx, vx), ty, vy)) <= 0.01
    assert restored < 0.1


def test_rescale_divides_by_one_number_and_leaves_zeros_alone() -> None:
    train = torch.tensor([[1.0, 10.0], [3.0, 30.0]])
    scaled, val = rescale(train, train[:1])
    s = float(train.std())  # one number over all 4 entries
    assert torch.allclose(scaled, train / s) and torch.allclose(val, train[:1] / s)
    assert torch.allclose(scaled[:, 1] / scaled[:, 0], torch.tensor([10.0, 10.0]))  # kept
    zeros = torch.zeros(3, 2)
    assert torch.equal(rescale(zeros, zeros)[0], zeros)


def classifier_input_std(genome: str) -> float:
    space = get_space("nbmacro")
    torch.manual_seed(0)
    network = initialise(space.build(space.from_string(genome)), "default").eval()
    seen: list[float] = []
    tap_modules(network, "last")[0].register_forward_hook(
        lambda _m, args, _o: seen.append(float(args[0].std()))
    )
    with torch.no_grad():
        network(torch.randn(16, 3, 32, 32, generator=torch.Generator().manual_seed(0)))
    return seen[0]


def test_pytorch_init_with_eval_batchnorm_shrinks_a_deeper_networks_features() -> None:
    # 8 identity layers vs 8 MobileNet blocks (3 convolutions each): measured 1.4e-2 vs 6.5e-5
    shallow, deep = classifier_input_std("00000000"), classifier_input_std("22222222")
    assert deep < shallow / 50


def test_rwe_paper_rescales_its_features() -> None:
    data = load_data(
        DataConfig(dataset="shapes", shapes=ShapesConfig(train_size=160, test_size=20,
                                                         image_size=16)),
        seed=0,
    )  # fmt: skip
    space = get_space("nb201", channels=8, cells_per_stage=1, input_size=16)
    ev = get_evaluator("rwe_paper", space=space, data=data, seed=0, train_images=128)
    assert ev.rescale_features and not ev.standardise_features
    assert ev.probe == "sgd" and ev.init == "default" and ev.bn == "eval" and ev.taps == "last"
