"""Users' own images (issue 26): mixed sizes resized at decode, every common image mode, an
unreadable-file report, a single folder split by fraction, a CSV, torchvision names."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from cli_helpers import one_line_error, shiftnas, tiny_run_config, write_config
from own_data_helpers import COLOURS, mixed_folder, photo
from PIL import Image

from shiftnas.data import decode_image, load_data
from shiftnas.data.settings import DataConfig
from shiftnas.errors import ShiftnasError
from shiftnas.search.spaces.settings import Mbv3Settings

SPACE = Mbv3Settings(input_size=16)


def test_mixed_sizes_are_resized_to_the_skeletons_input_size(tmp_path):
    folder = mixed_folder(tmp_path / "photos", per_class=9)
    for policy in ("center_crop", "pad", "stretch"):
        splits = load_data(DataConfig(dataset="imagefolder", root=folder, resize=policy), 0, SPACE)
        assert splits.image_shape == (3, 16, 16)
        assert (len(splits.train) + len(splits.val), len(splits.test)) == (12, 6)
        # the class colour survives the resize: red images are red, blue ones blue
        red = splits.test.images[splits.test.labels == splits.test.classes.index("red")]
        assert (red[:, 0].float().mean() > 150) and (red[:, 2].float().mean() < 80)
    # data.image_size overrides the skeleton's size
    config = DataConfig(dataset="imagefolder", root=folder, resize="stretch", image_size=24)
    assert load_data(config, 0, SPACE).image_shape == (3, 24, 24)


def test_mixed_sizes_without_a_resize_policy_name_the_fix(tmp_path):
    folder = mixed_folder(tmp_path / "photos")
    config = DataConfig(dataset="imagefolder", root=folder, cache_dir=tmp_path / "k")
    with pytest.raises(ShiftnasError, match=r"differs in size .* set data\.resize: center_crop"):
        load_data(config, 0, SPACE)
    assert not list(tmp_path.glob("k/*/images.npy"))  # found from the headers, nothing decoded


def test_policies_keep_what_they_promise():
    """A 40x20 image, left half black, right half white: center_crop keeps the middle 20x20
    (half black, half white), pad keeps all of it between bands of fill, stretch squeezes it."""
    pixels = np.zeros((20, 40, 3), dtype=np.uint8)
    pixels[:, 20:] = 255
    image = Image.fromarray(pixels)
    crop = decode_image(image, 20, "center_crop", 3)
    assert crop.shape == (3, 20, 20) and crop[0, 10, 2] == 0 and crop[0, 10, 17] == 255
    padded = decode_image(image, 20, "pad", 3, fill=128)
    assert padded[0, 0, 10] == 128 and padded[0, 19, 10] == 128  # bands above and below
    assert padded[0, 10, 1] == 0 and padded[0, 10, 18] == 255
    stretched = decode_image(image, 20, "stretch", 3)
    assert stretched[0, 10, 5] == 0 and stretched[0, 10, 15] == 255


def _encoded(image: Image.Image, fmt: str, **kw) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kw)
    buffer.seek(0)
    return Image.open(buffer)


def test_every_image_mode_decodes_to_the_configured_channels(tmp_path):
    rgb = photo((200, 100, 50), 12, 8, seed=0)
    sixteen = Image.fromarray(np.full((8, 12), 65535, dtype=np.uint16))
    rgba = Image.new("RGBA", (12, 8), (0, 0, 0, 0))  # fully transparent: white after compositing
    cases = {
        "grey.png": rgb.convert("L"), "palette.png": rgb.convert("P"),
        "cmyk.jpg": rgb.convert("CMYK"), "sixteen.png": sixteen, "alpha.png": rgba,
        "la.png": rgb.convert("LA"),
    }  # fmt: skip
    for name, image in cases.items():
        image.save(tmp_path / name)
        for channels in (1, 3):
            pixels = decode_image(tmp_path / name, None, "none", channels)
            assert pixels.shape == (channels, 8, 12) and pixels.dtype == np.uint8, name
    assert decode_image(tmp_path / "sixteen.png", None, "none", 3).min() == 255
    assert decode_image(tmp_path / "alpha.png", None, "none", 3).min() == 255
    cmyk = decode_image(tmp_path / "cmyk.jpg", None, "none", 3).astype(int)
    assert abs(cmyk[0].mean() - 200) < 25 and abs(cmyk[2].mean() - 50) < 25


def test_exif_rotated_photos_stand_upright(tmp_path):
    """A 30x10 landscape sensor image tagged orientation 6 (rotate 90 degrees clockwise) is a
    10x30 portrait, its left (red) edge at the top."""
    pixels = np.zeros((10, 30, 3), dtype=np.uint8)
    pixels[:, :5] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(pixels).save(tmp_path / "rotated.jpg", exif=exif.tobytes(), quality=95)
    upright = decode_image(tmp_path / "rotated.jpg", None, "none", 3)
    assert upright.shape == (3, 30, 10)
    assert upright[0, 1].mean() > 200 and upright[0, -1].mean() < 50


def _corrupt(folder, count):
    paths = []
    for i in range(count):
        path = folder / "train" / "red" / f"bad{i}.jpg"
        path.write_bytes(b"\xff\xd8 not really a JPEG" * (i + 1))
        paths.append(path)
    return paths


def test_unreadable_files_are_listed_in_one_line_and_exit_2(tmp_path):
    folder = mixed_folder(tmp_path / "photos", per_class=9)
    bad = _corrupt(folder, 5)
    config = tiny_run_config(data={"dataset": "imagefolder", "root": str(folder),
                                   "resize": "center_crop"})  # fmt: skip
    path = write_config(tmp_path / "c.yaml", config)
    code, _, err = shiftnas("run", str(path), "--run-dir", str(tmp_path / "r"))
    line = one_line_error(code, err)
    assert "5 of 17 files are not readable images (first: " in line
    assert str(bad[0]) in line and "+2 more" in line and "data.unreadable: skip" in line
    assert not (tmp_path / "r").exists()


def test_unreadable_files_can_be_skipped_and_are_recorded(tmp_path):
    folder = mixed_folder(tmp_path / "photos", per_class=9)
    bad = _corrupt(folder, 2)
    config = DataConfig(dataset="imagefolder", root=folder, resize="pad", unreadable="skip")
    splits = load_data(config, 0, SPACE)
    assert len(splits.train) + len(splits.val) == 12  # the 2 broken files left out
    assert sorted(p for p, _ in splits.skipped) == sorted(str(p) for p in bad)


def test_a_single_folder_is_split_by_fraction_with_a_fixed_seed(tmp_path):
    folder = mixed_folder(tmp_path / "photos", per_class=10, layout="single")
    config = DataConfig(dataset="imagefolder", root=folder, resize="stretch", test_fraction=0.3)
    a, b = load_data(config, 0, SPACE), load_data(config, 1, SPACE)  # run seeds differ
    assert len(a.test) == 6 and a.test.labels.bincount().tolist() == [3, 3]
    key = [bytes(x.numpy().tobytes()) for x in a.test.images]
    assert sorted(key) == sorted(bytes(x.numpy().tobytes()) for x in b.test.images)
    train = {bytes(x.numpy().tobytes()) for x in torch.cat([a.train.images, a.val.images])}
    assert train.isdisjoint(key)
    other = load_data(config.model_copy(update={"split_seed": 3}), 0, SPACE)
    assert sorted(key) != sorted(bytes(x.numpy().tobytes()) for x in other.test.images)


def test_a_csv_of_path_and_label(tmp_path):
    folder = mixed_folder(tmp_path / "photos", per_class=6, layout="single")
    rows = ["path,label,split"]
    for i, path in enumerate(sorted(folder.rglob("*.*"))):
        split = "test" if i % 3 == 0 else "train"
        rows.append(f"{path.relative_to(folder)},{path.parent.name},{split}")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    config = DataConfig(dataset="csv", root=folder / "labels.csv", resize="center_crop")
    splits = load_data(config, 0, SPACE)
    assert splits.train.classes == tuple(sorted(COLOURS))
    assert len(splits.test) == 4 and len(splits.train) + len(splits.val) == 8
    (folder / "bad.csv").write_text("file,class\nx.jpg,red\n")
    with pytest.raises(ShiftnasError, match="needs a header line with the columns path,label"):
        load_data(config.model_copy(update={"root": folder / "bad.csv"}), 0, SPACE)


def _idx(path, array: np.ndarray) -> None:
    """An MNIST idx file (big-endian header, uint8 payload)."""
    code = 0x0803 if array.ndim == 3 else 0x0801
    header = np.array([code, *array.shape], dtype=">i4").tobytes()
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("name", ["mnist", "fashionmnist"])
def test_torchvision_datasets_by_name_from_a_local_root(tmp_path, name):
    folder = "MNIST" if name == "mnist" else "FashionMNIST"
    raw = tmp_path / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 40), ("t10k", 20)):
        _idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        _idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)
    config = DataConfig(dataset=name, root=tmp_path, resize="stretch")
    splits = load_data(config, 0, Mbv3Settings(input_size=32))
    assert splits.image_shape == (3, 32, 32) and splits.num_classes == 10
    assert len(splits.test) == 20 and len(splits.train) + len(splits.val) == 40
    grey = splits.test.images
    assert torch.equal(grey[:, 0], grey[:, 2])  # greyscale repeated over RGB


@pytest.mark.parametrize("name", ["cifar100", "svhn", "stl10", "mnist"])
def test_a_torchvision_dataset_missing_locally_is_one_line(tmp_path, name):
    with pytest.raises(ShiftnasError, match=r"under .*data\.download: true"):
        load_data(DataConfig(dataset=name, root=tmp_path), 0, SPACE)


def test_random_resized_crop_is_seeded_and_keeps_the_whole_image_at_scale_1():
    from shiftnas.data import random_resized_crop

    x = torch.randint(0, 256, (16, 3, 64, 64), dtype=torch.uint8)
    g = torch.Generator().manual_seed(0)
    assert torch.equal(random_resized_crop(x, g, (1.0, 1.0), (1.0, 1.0)), x)  # the identity
    mirrored = random_resized_crop(x, torch.Generator().manual_seed(1), (1.0, 1.0), (1.0, 1.0),
                                   flip=True)  # fmt: skip
    flipped = [torch.equal(mirrored[i], x[i].flip(2)) for i in range(16)]
    assert all(f or torch.equal(mirrored[i], x[i]) for i, f in enumerate(flipped))
    assert 2 <= sum(flipped) <= 14
    a = random_resized_crop(x, torch.Generator().manual_seed(2), (0.35, 1.0))
    b = random_resized_crop(x, torch.Generator().manual_seed(2), (0.35, 1.0))
    assert torch.equal(a, b) and a.dtype == torch.uint8 and a.shape == x.shape
    # a box of a quarter of the area of a left-black, right-white image is mostly one colour
    half = torch.zeros(64, 3, 64, 64, dtype=torch.uint8)
    half[..., 32:] = 255
    crops = random_resized_crop(half, torch.Generator().manual_seed(3), (0.25, 0.25), (1.0, 1.0))
    assert not torch.equal(crops[0], crops[1])
    assert (crops.float().mean(dim=(1, 2, 3)) - 127.5).abs().max() > 40


def test_the_data_report_names_classes_counts_imbalance_and_stats(tmp_path):
    from shiftnas.data.report import data_report, report_line

    folder = mixed_folder(tmp_path / "photos", per_class=9)
    for i in range(3):  # three more red training photos: 9 red against 6 blue
        photo(COLOURS["red"], 30, 40, seed=50 + i).save(folder / "train" / "red" / f"x{i}.png")
    splits = load_data(DataConfig(dataset="imagefolder", root=folder, resize="pad"), 0, SPACE)
    report = data_report(splits)
    assert report["counts"]["train+val"] == {"blue": 6, "red": 9}
    assert report["counts"]["test"] == {"blue": 3, "red": 3}
    assert report["imbalance"] == 1.5 and report["recipe"]["resize"] == "pad"
    assert report["mean"][0] > report["mean"][2]  # more red than blue pixels
    line = report_line(report)
    assert "2 classes (blue 6, red 9), imbalance 1.5" in line and "3x16x16" in line
