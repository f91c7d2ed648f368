"""torchvision's data sets by name (CIFAR-10/100, SVHN, MNIST, FashionMNIST, STL10), read from a
local root and downloaded only when `data.download` says so, decoded into the cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from shiftnas.data.cache import DecodeSpec, decode_to_cache, default_cache_dir, files_key
from shiftnas.data.dataset import ImageData
from shiftnas.errors import ShiftnasError

# what the shipped configs' comments suggest; the project's shared JPEG export lies there
LOCAL_COPY = "data: {dataset: imagefolder, root: ../shared/datasets/cifar10-jpeg}"
# name -> (torchvision class, its files under root, whether it takes split= rather than train=)
_DATASETS = {
    "cifar10": ("CIFAR10", "cifar-10-batches-py/", False),
    "cifar100": ("CIFAR100", "cifar-100-python/", False),
    "svhn": ("SVHN", "train_32x32.mat, test_32x32.mat", True),
    "mnist": ("MNIST", "MNIST/raw/", False),
    "fashionmnist": ("FashionMNIST", "FashionMNIST/raw/", False),
    "stl10": ("STL10", "stl10_binary/", True),
}
NATIVE_SIZE = {"cifar10": 32, "cifar100": 32, "svhn": 32, "mnist": 28, "fashionmnist": 28,
               "stl10": 96}  # fmt: skip


def open_torchvision(name: str, root: str | Path, split: str, download: bool = False) -> Any:
    """The torchvision data set `name`'s `split` ("train" or "test"), without transforms.

    Raises `ShiftnasError` (one line) when the files are absent, or the download fails: it says
    how to point `data.root` at a local copy."""
    import torchvision.datasets as tvd

    cls_name, files, takes_split = _DATASETS[name]
    root = Path(root)
    kwargs = {"split": split} if takes_split else {"train": split == "train"}
    label = cls_name.replace("CIFAR", "CIFAR-")
    local = f" ({LOCAL_COPY})" if name == "cifar10" else ""
    try:
        return getattr(tvd, cls_name)(str(root), download=download, **kwargs)
    except RuntimeError:
        raise ShiftnasError(
            f"no {label} (torchvision format, {files}) under {root}: set data.root to its "
            f"parent folder, use a JPEG copy{local}, or set data.download: true"
        ) from None
    except OSError as err:  # urllib's URLError and HTTPError, a refused or cut connection
        reason = getattr(err, "reason", None) or err
        raise ShiftnasError(
            f"could not download {label} into {root} ({reason}): offline, point data.root at "
            f"a local copy{local or ''} (a folder holding {files} with download: false)"
        ) from None


def _labels_and_classes(name: str, dataset: Any) -> tuple[torch.Tensor, tuple[str, ...]]:
    raw = getattr(dataset, "targets", None)
    if raw is None:
        raw = dataset.labels
    labels = torch.as_tensor(raw, dtype=torch.int64).flatten()
    classes = getattr(dataset, "classes", None) or [str(d) for d in range(10)]
    return labels, tuple(str(c) for c in classes)


def load_torchvision(
    name: str,
    root: str | Path,
    split: str,
    spec: DecodeSpec,
    download: bool = False,
    cache_dir: Path | None = None,
    progress: bool = False,
) -> ImageData:
    """`split` of torchvision's `name` as uint8 `(N, C, S, S)` images, S the target size of
    `spec` (the data set's own size with resize "none"), decoded into the cache once."""
    dataset = open_torchvision(name, root, split, download)
    labels, classes = _labels_and_classes(name, dataset)
    size = spec.size if spec.policy != "none" else NATIVE_SIZE[name]
    extra = f"{name}|{split}|{Path(root).resolve()}|{len(dataset)}"
    folder = Path(cache_dir or default_cache_dir()) / files_key([], spec, extra)
    cached = decode_to_cache(
        folder, range(len(dataset)), spec, (spec.channels, size, size), 1, progress,
        f"decoding {name} {split}", load=lambda i: dataset[i][0],
    )  # fmt: skip
    if cached.bad:
        raise ShiftnasError(
            f"{name} {split}: {len(cached.bad)} images could not be decoded (first: index "
            f"{cached.bad[0][0]}, {cached.bad[0][1]}): set data.resize to resize them"
        )
    return ImageData(torch.from_numpy(cached.images), labels, classes)


def load_cifar10(root: str | Path, split: str, download: bool = False) -> ImageData:
    """CIFAR-10's `split` ("train" or "test") as uint8 `(N, 3, 32, 32)` images and 10 classes."""
    return load_torchvision("cifar10", root, split, DecodeSpec("none", None, 3), download)
