import pytest
import torch
from conftest import CIFAR_JPEG, needs_shared

from shiftnas.data import (
    augment,
    cutout,
    load_data,
    load_imagefolder,
    make_shapes,
    random_crop,
    random_flip,
    shift_batch,
    split_train_val,
)
from shiftnas.data.settings import DataConfig
from shiftnas.errors import ShiftnasError


def test_shapes_is_seeded_balanced_and_varied():
    a, b = make_shapes(200, seed=1), make_shapes(200, seed=1)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.images, make_shapes(200, seed=2).images)
    assert a.images.shape == (200, 3, 32, 32) and a.images.dtype == torch.uint8
    assert a.labels.bincount().tolist() == [20] * 10
    assert a.images.float().std() > 30  # textured, not flat


def test_split_is_seeded_stratified_and_disjoint():
    data = make_shapes(300, seed=0)
    train, val = split_train_val(data, 0.2, seed=5)
    assert len(train) + len(val) == 300 and len(val) == 60
    assert val.labels.bincount().tolist() == [6] * 10
    again, _ = split_train_val(data, 0.2, seed=5)
    assert torch.equal(train.images, again.images)
    other, _ = split_train_val(data, 0.2, seed=6)
    assert not torch.equal(train.images, other.images)
    # disjoint: no image is in both parts
    flat_train = {bytes(x.numpy()) for x in train.images}
    assert not any(bytes(x.numpy()) in flat_train for x in val.images)


def test_shift_circular_is_an_invertible_per_image_roll():
    x = torch.arange(2 * 1 * 5 * 5, dtype=torch.float32).view(2, 1, 5, 5)
    dx, dy = torch.tensor([1, -2]), torch.tensor([0, 3])
    y = shift_batch(x, dx, dy, fill="circular")
    assert torch.equal(y[0], torch.roll(x[0], shifts=(0, 1), dims=(1, 2)))
    assert torch.equal(y[1], torch.roll(x[1], shifts=(3, -2), dims=(1, 2)))
    assert torch.equal(shift_batch(y, -dx, -dy, fill="circular"), x)


def test_shift_zero_fill_brings_in_zeros():
    x = torch.ones(1, 3, 4, 4)
    y = shift_batch(x, 1, -1, fill="zero")
    assert y[0, :, :, 0].sum() == 0 and y[0, :, -1, :].sum() == 0
    assert y.sum() == 3 * 9
    assert torch.equal(shift_batch(x, 0, 0), x)


def test_crop_flip_cutout_are_batched_and_correct():
    generator = torch.Generator().manual_seed(0)
    x = torch.randint(1, 255, (64, 3, 8, 8), dtype=torch.uint8)
    assert torch.equal(random_crop(x, 0, generator), x)
    cropped = random_crop(x, 2, generator)
    assert cropped.shape == x.shape and cropped.dtype == torch.uint8
    # each crop is the image shifted by at most 2 pixels with zero fill
    matches = 0
    for i in range(4):
        found = any(
            torch.equal(cropped[i], shift_batch(x[i : i + 1], dx, dy)[0])
            for dx in range(-2, 3)
            for dy in range(-2, 3)
        )
        matches += found
    assert matches == 4
    flipped = random_flip(x, generator)
    is_flip = [torch.equal(flipped[i], x[i].flip(2)) for i in range(64)]
    is_same = [torch.equal(flipped[i], x[i]) for i in range(64)]
    assert all(a or b for a, b in zip(is_flip, is_same, strict=True))
    assert 10 < sum(is_flip) < 54
    holes = cutout(x, 4, generator)
    zeros = (holes == 0).all(dim=1).flatten(1).sum(1)  # zeroed pixels per image
    assert (zeros >= 4).all() and (zeros <= 16).all()
    assert augment(x, generator, 4, True, 4).shape == x.shape


def test_load_data_defaults_to_shapes():
    splits = load_data(DataConfig(), seed=0)
    assert splits.name == "shapes" and splits.num_classes == 10
    assert len(splits.train) == 3200 and len(splits.val) == 800 and len(splits.test) == 1000
    assert all(0.0 < s < 1.0 for s in splits.std)


def test_imagefolder_errors(tmp_path):
    with pytest.raises(ShiftnasError, match="does not exist"):
        load_imagefolder(tmp_path / "missing", "train")
    with pytest.raises(ShiftnasError, match="no 'train/' sub-folder"):
        load_imagefolder(tmp_path, "train")
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "notes.txt").write_text("x")
    with pytest.raises(ShiftnasError, match="no class sub-folders"):
        load_imagefolder(tmp_path, "train")


def test_imagefolder_small_tree_and_cache(tmp_path):
    from PIL import Image

    for cls in ("a", "b"):
        (tmp_path / "train" / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (6, 6), (i * 40, 10, 200 if cls == "b" else 0)).save(
                tmp_path / "train" / cls / f"{i}.png"
            )
    data = load_imagefolder(tmp_path, "train", cache_dir=tmp_path / "cache")
    assert data.images.shape == (6, 3, 6, 6) and data.classes == ("a", "b")
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert data.images[4, 2, 0, 0] == 200
    assert len(list((tmp_path / "cache").glob("*/images.npy"))) == 1  # the memmap cache
    cached = load_imagefolder(tmp_path, "train", cache_dir=tmp_path / "cache")
    assert torch.equal(cached.images, data.images)


def test_cifar10_root_missing_is_one_line(tmp_path):
    from shiftnas.data import load_cifar10

    with pytest.raises(ShiftnasError, match=r"data\.download: true"):
        load_cifar10(tmp_path, "train")


@needs_shared
def test_cifar10_jpeg_loads_fully():
    train = load_imagefolder(CIFAR_JPEG, "train")
    test = load_imagefolder(CIFAR_JPEG, "test")
    assert train.images.shape == (50_000, 3, 32, 32) and len(test) == 10_000
    assert train.labels.bincount().tolist() == [5000] * 10
    assert train.classes[0] == "airplane" and train.classes[-1] == "truck"


def test_splits_are_not_grouped_by_class(tmp_path):
    """An image folder is read class by class; the first images of every split must still mix
    the classes, since evaluators cap their work at the first N images."""
    from shiftnas.data import ImageData

    grouped = ImageData(
        torch.zeros(200, 3, 4, 4, dtype=torch.uint8),
        torch.arange(10).repeat_interleave(20),
        tuple("abcdefghij"),
    )
    train, val = split_train_val(grouped, 0.2, seed=0)
    assert len(set(train.labels[:20].tolist())) >= 5
    assert len(set(val.labels[:10].tolist())) >= 4
