"""What a data set is made of, before decoding: for each split the images (file paths, or indices
into a torchvision data set), their labels and the class names.

Layouts: an image folder with `train/` and `test/` (`root/<split>/<class>/<image>`), a single
folder of class folders (`root/<class>/<image>`) split by `data.test_fraction` with
`data.split_seed`, and a CSV of `path,label[,split]` (paths relative to the CSV's folder).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import torch

from shiftnas.data.dataset import stratified_split
from shiftnas.errors import ShiftnasError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".webp", ".tif", ".tiff", ".gif")


@dataclass(frozen=True)
class Listing:
    """One split before decoding: `items` are file paths; `labels[i]` the class of `items[i]`."""

    items: list[Path]
    labels: list[int]
    classes: tuple[str, ...]

    def pick(self, index: torch.Tensor) -> Listing:
        keep = sorted(index.tolist())  # in file order: the cache key does not depend on the seed
        return Listing([self.items[i] for i in keep], [self.labels[i] for i in keep], self.classes)


def class_folder(folder: Path) -> Listing:
    classes = tuple(sorted(d.name for d in folder.iterdir() if d.is_dir()))
    if not classes:
        raise ShiftnasError(
            f"{folder} has no class sub-folders: put each class's images in {folder}/<class>/"
        )
    paths, labels = [], []
    for label, name in enumerate(classes):
        files = sorted(p for p in (folder / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        paths += files
        labels += [label] * len(files)
    if not paths:
        raise ShiftnasError(
            f"{folder} has class folders but no images ({', '.join(IMAGE_SUFFIXES)})"
        )
    return Listing(paths, labels, classes)


def _split_by_fraction(full: Listing, fraction: float, seed: int) -> tuple[Listing, Listing]:
    labels = torch.tensor(full.labels, dtype=torch.int64)
    rest, part = stratified_split(labels, len(full.classes), fraction, seed)
    return full.pick(rest), full.pick(part)


def list_imagefolder(root: Path, test_fraction: float, seed: int) -> tuple[Listing, Listing]:
    """`(train, test)` of `root/{train,test}/<class>/<image>`, or of `root/<class>/<image>`
    split per class by `test_fraction` (seeded)."""
    if not root.is_dir():
        raise ShiftnasError(f"data root {root} does not exist: set data.root to the image folder")
    if (root / "train").is_dir():
        train = class_folder(root / "train")
        if not (root / "test").is_dir():
            raise ShiftnasError(
                f"image folder {root} has train/ but no 'test/' sub-folder: lay it out as "
                f"{root}/test/<class>/<image>, or put the class folders in {root} itself to "
                "split by data.test_fraction"
            )
        return train, class_folder(root / "test")
    if not any(d.is_dir() for d in root.iterdir()):
        raise ShiftnasError(
            f"image folder {root} has no 'train/' sub-folder and no class folders: lay it out "
            f"as {root}/train/<class>/<image> and {root}/test/..., or {root}/<class>/<image>"
        )
    return _split_by_fraction(class_folder(root), test_fraction, seed)


def list_csv(path: Path, test_fraction: float, seed: int) -> tuple[Listing, Listing]:
    """`(train, test)` of a CSV with a header `path,label` and optionally `split` (train|test);
    relative paths are relative to the CSV's folder; classes are the sorted label names."""
    if not path.is_file():
        raise ShiftnasError(f"CSV file {path} does not exist: set data.root to a CSV file")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    header = set(rows[0]) if rows else set()
    if not {"path", "label"} <= header:
        raise ShiftnasError(
            f"{path} needs a header line with the columns path,label (and optionally split): "
            f"found {', '.join(sorted(header)) or 'no rows'}"
        )
    classes = tuple(sorted({r["label"] for r in rows}))
    index = {name: i for i, name in enumerate(classes)}
    items = [path.parent / r["path"] for r in rows]
    missing = [p for p in items if not p.is_file()]
    if missing:
        raise ShiftnasError(
            f"{path}: {len(missing)} of {len(items)} listed files do not exist (first: "
            f"{', '.join(str(p) for p in missing[:3])}): fix the paths (relative to the CSV)"
        )
    full = Listing(items, [index[r["label"]] for r in rows], classes)
    if "split" not in header:
        return _split_by_fraction(full, test_fraction, seed)
    bad = sorted({r["split"] for r in rows} - {"train", "test"})
    if bad:
        raise ShiftnasError(f"{path}: split must be train or test, not {', '.join(bad)}")
    parts = []
    for split in ("train", "test"):
        keep = torch.tensor([i for i, r in enumerate(rows) if r["split"] == split])
        parts.append(full.pick(keep))
    return parts[0], parts[1]
